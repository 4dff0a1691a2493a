"""`facekit train`: train a model variant on the datasets folder; optionally ship the best checkpoint."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from exporter.checkpoint import CheckpointError, read_checkpoint, write_payload
from exporter.atomic import check_writable_folder
from exporter.commands import fail
from exporter.model.registry import MODEL_VARIANTS
from exporter.paths import data_root
from exporter.train.config import ATTRIBUTE_TEACHERS, TrainConfig
from exporter.train.loop import Trainer, run_history
from exporter.train.recipes import RECIPES
from exporter.data.layout import DatasetLayoutError


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Options of `facekit train` (defaults are the shipped recipe)."""
    d = TrainConfig(data_root=Path("."))
    p = argparse.ArgumentParser(prog="facekit train", description=__doc__)
    p.add_argument("--data", type=Path, default=None, help="datasets folder (default: $FACEKIT_DATA or ../shared/datasets)")
    p.add_argument("--out", type=Path, default=d.out_dir, help="run folder for best.pt, last.pt, history.json")
    p.add_argument("--variant", choices=list(MODEL_VARIANTS), default=d.variant)
    p.add_argument("--recipe", choices=list(RECIPES), default=d.recipe,
                   help="base: from scratch; attributes: fine-tune --init for age and gender, keeping its detection")
    p.add_argument("--init", type=Path, default=None, help="checkpoint to start from (the attributes recipe needs one)")
    p.add_argument("--architecture-from", type=Path, default=None,
                   help="train a fresh model shaped like this checkpoint (e.g. runs/compress/search-0.7/best.pt), "
                        "instead of --variant; its weights are not used")
    p.add_argument("--attr-channels", type=int, default=None,
                   help="widen the --init model's age/gender branches to N channels (they start silent)")
    p.add_argument("--age-bins", type=int, default=None,
                   help="give the --init model's age heads K bins of 0-100 years (age: the mean of their softmax)")
    p.add_argument("--fine-attributes", action="store_true",
                   help="let the --init model's 8x8 age/gender branch also read the finer 16x16 map (added inputs start silent)")
    p.add_argument("--teacher-blend", type=float, default=None,
                   help="distil the age/gender teacher on the UTKFace crops: each target is (1 - S) x label + S x teacher")
    p.add_argument("--age-balance", type=float, default=None,
                   help="draw UTKFace crops so older, rarer age bands come up more often: 0 (default) as in the data, "
                        "1 every 10-year band equally often")
    p.add_argument("--attribute-teacher", choices=list(ATTRIBUTE_TEACHERS), default=d.attribute_teacher,
                   help="age/gender teacher of the video faces and of --teacher-blend: dlib (the ONNX pair) or faceapi "
                        "(face-api's network; stronger, but trained on UTKFace among other sets)")
    p.add_argument("--distill-from", type=Path, default=None,
                   help="match this checkpoint's outputs (knowledge distillation from e.g. a larger trained model) "
                        "instead of --init's; any variant or compressed shape")
    p.add_argument("--distill-attributes", type=float, default=None,
                   help="weight of age and gender in that output distillation (attributes recipe: 0, detection only)")
    p.add_argument("--steps", type=int, default=None, help="training steps (default: the recipe's)")
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=None, help="peak learning rate (default: the recipe's)")
    p.add_argument("--val-every", type=int, default=d.val_every)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--device", default=d.device, help="auto (GPU if visible), cpu, cuda, cuda:1 ...")
    p.add_argument("--no-distill", action="store_true", help="train without the BlazeFace score distillation")
    p.add_argument("--utk-limit", type=int, default=None, help="use at most N UTKFace training crops (smoke runs)")
    p.add_argument("--scene-limit", type=int, default=None, help="use at most N scene photos (smoke runs)")
    p.add_argument("--val-utk", type=int, default=d.val_utk, help="UTKFace select crops scored during training (at each face size)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/last.pt when it exists")
    p.add_argument("--ship", type=Path, default=None, help="copy the best checkpoint here when training ends")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run training; exit 1 with a clear message on a bad dataset layout."""
    args = parse_args(argv)
    try:
        config = TrainConfig.for_recipe(
            args.recipe, init=args.init, architecture_from=args.architecture_from, attr_channels=args.attr_channels,
            age_bins=args.age_bins, fine_attributes=args.fine_attributes, teacher_blend=args.teacher_blend,
            age_balance=args.age_balance, attribute_teacher=args.attribute_teacher,
            distill_from=args.distill_from, distill_attributes=args.distill_attributes,
            data_root=args.data or data_root(), out_dir=args.out, variant=args.variant, steps=args.steps,
            batch_size=args.batch_size, lr=args.lr, val_every=args.val_every, seed=args.seed, device=args.device,
            distill=not args.no_distill, utk_limit=args.utk_limit, scene_limit=args.scene_limit, val_utk=args.val_utk,
        )
        check_writable_folder(args.out, "--out")
        if args.ship:
            if args.ship.is_dir():
                raise ValueError(f"--ship {args.ship} is a folder; pass the checkpoint file to write, e.g. {args.ship}/model.pt")
            check_writable_folder(args.ship.parent, "--ship's folder")
        if args.resume and (args.out / "last.pt").exists():
            read_checkpoint(args.out / "last.pt")  # a bad file fails now, not after the data is loaded
        trainer = Trainer(config)
        trainer.run(resume=args.resume)
        if args.ship:
            ship(Path(args.out) / "best.pt", args.ship)
            print(f"shipped the best checkpoint to {args.ship}")
    except (DatasetLayoutError, ValueError, CheckpointError, OSError) as error:
        return fail("train", error)
    return 0


def ship(best: Path, target: Path) -> None:
    """Copy the best checkpoint (no optimiser state) to target, atomically, with the run's whole history."""
    payload = read_checkpoint(best)
    payload["train"]["history"] = run_history(best, payload)
    write_payload(target, payload)
