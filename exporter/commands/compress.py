"""`facekit compress`: prune, factorise, palettize or quantization-aware fine-tune a checkpoint into an exportable one."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from exporter.atomic import check_writable_folder
from exporter.checkpoint import CheckpointError, load_model, read_checkpoint, save_checkpoint
from exporter.commands import fail
from exporter.compress.merge import merge_report
from exporter.compress.methods import METHODS, variant_name
from exporter.data.layout import DatasetLayoutError
from exporter.digest import sha256_of
from exporter.export.images import ExportDataError, export_images
from exporter.jsonio import write_json
from exporter.model.summary import summarize
from exporter.paths import DEFAULT_CHECKPOINT, data_root
from exporter.train.config import TrainConfig
from exporter.train.loop import Trainer

MERGE_REPORT = Path("runs/compress/merge.json")
FINE_TUNE_STEPS = 600  # about 12 min on 2 CPU cores with the validation passes


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Options of `facekit compress`."""
    p = argparse.ArgumentParser(prog="facekit compress", description=__doc__)
    p.add_argument("--method", choices=list(METHODS),
                   help="; ".join(f"{m.name}: --amount is the {m.amount_means}" for m in METHODS.values()))
    p.add_argument("--amount", type=float, help="how much to compress (its meaning depends on --method)")
    p.add_argument("--recipes", action="store_true",
                   help="run every method at the amounts of its recipes (" + ", ".join(
                       variant_name(m.name, a) for m in METHODS.values() for a in m.recipes) + "), resuming each")
    p.add_argument("--merge-report", action="store_true",
                   help="time each block merged into one conv (layer merging) against the unmerged block in LiteRT "
                        "int8, and whole models; writes runs/compress/merge.json")
    p.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT, help="the model to compress (default: the shipped one)")
    p.add_argument("--out", type=Path, default=None, help="run folder (default: runs/compress/METHOD-AMOUNT)")
    p.add_argument("--data", type=Path, default=None, help="datasets folder for fine-tuning (default: $FACEKIT_DATA or ../shared/datasets)")
    p.add_argument("--steps", type=int, default=FINE_TUNE_STEPS,
                   help="fine-tuning steps (methods that fine-tune; 0: write the compressed model without fine-tuning)")
    p.add_argument("--lr", type=float, default=None, help="peak fine-tuning learning rate (default: the method's)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--val-every", type=int, default=200)
    p.add_argument("--utk-limit", type=int, default=None, help="use at most N UTKFace training crops (smoke runs)")
    p.add_argument("--scene-limit", type=int, default=None, help="use at most N scene photos (smoke runs)")
    p.add_argument("--val-utk", type=int, default=400, help="UTKFace select crops scored at each validation")
    p.add_argument("--resume", action="store_true", help="continue fine-tuning from OUT/last.pt")
    return p.parse_args(argv)


def compress(args: argparse.Namespace) -> Path:
    """Run one method; returns the checkpoint to export."""
    method = METHODS[args.method]
    out = args.out or Path("runs/compress") / variant_name(method.name, args.amount)
    check_writable_folder(out, "--out")
    base, payload = load_model(args.checkpoint)
    compressed = method.apply(base, args.amount)
    print(f"{variant_name(method.name, args.amount)}: {summarize(base)} -> {summarize(compressed)}")
    facts = {"compress": {"method": method.name, "amount": args.amount, "base_checkpoint": str(args.checkpoint),
                          "base_sha256": sha256_of(args.checkpoint), "fine_tune_steps": args.steps if method.fine_tune else 0}}
    best = out / "best.pt"
    if not method.fine_tune or args.steps == 0:
        out.mkdir(parents=True, exist_ok=True)
        save_checkpoint(best, compressed, {"train": payload.get("train"), **facts})
        return best
    if args.resume and (out / "last.pt").exists():  # a bad or foreign file fails now, not after the data is loaded
        check_same_run(read_checkpoint(out / "last.pt"), facts["compress"], out)
    if method.calibrate is not None:
        calibration, _ = export_images(args.data or data_root(), calibrate=True)
        print(f"int8 calibration (as the export's): {calibration.source}")
        compressed = method.calibrate(compressed, calibration.squares)
    config = TrainConfig(data_root=args.data or data_root(), out_dir=out, steps=args.steps, batch_size=args.batch_size,
                         lr=args.lr or method.lr, loss=method.loss, warmup_steps=min(20, args.steps),
                         val_every=args.val_every, utk_limit=args.utk_limit, scene_limit=args.scene_limit, val_utk=args.val_utk)
    Trainer(config, model=compressed, teacher=base, extra=facts).run(resume=args.resume)
    return best


def check_same_run(last: dict, wanted: dict, out: Path) -> None:
    """Refuse to resume a run folder fine-tuned from another checkpoint, method or amount (e.g. before a retrain)."""
    done = last.get("compress") if isinstance(last.get("compress"), dict) else {}
    differs = [key for key in ("base_sha256", "method", "amount") if done.get(key) != wanted[key]]
    if differs:
        raise CheckpointError(
            f"{out}/last.pt is not this run's to resume: its {', '.join(differs)} differ ({done.get('method')} "
            f"{done.get('amount')} from a checkpoint with sha256 {str(done.get('base_sha256'))[:12]}; now {wanted['method']} "
            f"{wanted['amount']} from {wanted['base_checkpoint']}, sha256 {wanted['base_sha256'][:12]}). "
            f"Move {out} away to start afresh, or pass another --out")


def main(argv: Sequence[str] | None = None) -> int:
    """Compress; exit 1 with a clear message on bad options, checkpoints or data."""
    args = parse_args(argv)
    if args.merge_report:
        return write_merge_report(args.checkpoint, args.out or MERGE_REPORT)
    if args.recipes == (args.method is not None or args.amount is not None) or (args.method is None) != (args.amount is None):
        print("facekit compress: give --method and --amount, or --recipes alone", file=sys.stderr)
        return 2
    if args.steps < 0:
        print(f"facekit compress: --steps must be 0 (no fine-tuning) or more, got {args.steps}", file=sys.stderr)
        return 2
    runs = [(args.method, args.amount)]
    if args.recipes:
        runs = [(m.name, a) for m in METHODS.values() for a in m.recipes]
    for method, amount in runs:
        one = argparse.Namespace(**{**vars(args), "method": method, "amount": amount,
                                    "resume": args.resume or args.recipes, "out": None if args.recipes else args.out})
        try:
            best = compress(one)
        except (DatasetLayoutError, ExportDataError, ValueError, CheckpointError, OSError) as error:
            return fail("compress", error)
        print(f"wrote {best}; export and verify it with: make export CHECKPOINT={best}")
    return 0


def write_merge_report(checkpoint: Path, out: Path) -> int:
    """Measure layer merging on the checkpoint's model and write the report."""
    try:
        model, _ = load_model(checkpoint)
    except CheckpointError as error:
        return fail("compress", error)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_json(out, {"checkpoint": str(checkpoint), **merge_report(model)})
    print(f"wrote {out}")
    return 0
