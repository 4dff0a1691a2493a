"""`facekit eval`: score a checkpoint beside the teachers on held-out data and write its model card, or compare two."""

from __future__ import annotations

import argparse
import copy
import os
from collections.abc import Sequence
from pathlib import Path

from exporter.assets import AssetError
from exporter.atomic import check_writable_folder
from exporter.checkpoint import CheckpointError, load_model
from exporter.commands import fail
from exporter.jsonio import dump_json
from exporter.eval.paired import compare, render_markdown
from exporter.eval.suite import evaluate_all
from exporter.detector import Detector
from exporter.runner import litert_runner, onnx_runner
from exporter.model.summary import summarize
from exporter.eval.model_card import build_card, write_card
from exporter.paths import DEFAULT_CHECKPOINT, data_root
from exporter.data.layout import DatasetLayoutError


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Options of `facekit eval`."""
    p = argparse.ArgumentParser(prog="facekit eval", description=__doc__)
    p.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT, help="default: the shipped checkpoint")
    p.add_argument("--data", type=Path, default=None, help="datasets folder (default: $FACEKIT_DATA or ../shared/datasets)")
    p.add_argument("--card", type=Path, default=None, help="write model_card.json, MODEL_CARD.md and a plot here")
    p.add_argument("--no-teachers", action="store_true", help="score only the checkpoint (faster)")
    p.add_argument("--video-every", type=int, default=10, help="score every Nth frame of the validation videos")
    p.add_argument("--utk-limit", type=int, default=None, help="score at most N UTKFace validation crops")
    p.add_argument("--train-command", default="make train", help="how the checkpoint was made (for the card)")
    p.add_argument("--against", type=Path, default=None,
                   help="instead: compare --checkpoint with this checkpoint on the same report images and print each "
                        "figure's difference with a 95%% paired bootstrap interval (either may be an exported "
                        ".tflite or .onnx file)")
    args = p.parse_args(argv)
    for name, value in (("--video-every", args.video_every), ("--utk-limit", args.utk_limit)):
        if value is not None and value < 1:
            p.error(f"{name} must be at least 1, got {value}")
    if args.against and args.card:
        p.error("--against prints a comparison and writes no model card: leave out --card")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Print the metrics as JSON; write the card when asked."""
    args = parse_args(argv)
    if args.against:
        return compare_checkpoints(args)
    try:
        if args.card:
            check_writable_folder(args.card, "--card")
        model, payload = load_model(args.checkpoint)
        metrics = evaluate_all(model, args.data or data_root(), not args.no_teachers, args.video_every, args.utk_limit)
    except (CheckpointError, DatasetLayoutError, AssetError, ValueError, OSError) as error:
        return fail("eval", error)
    print(dump_json(metrics), end="")
    if args.card:
        shown = Path(os.path.relpath(args.checkpoint.resolve()))
        folded = summarize(copy.deepcopy(model).fold_batchnorm()).parameters
        summary = f"{summarize(model)} while training; {folded:,} parameters once BatchNorm is folded for export"
        card = build_card(payload, metrics, summary, shown, args.train_command)
        for path in write_card(card, args.card):
            print(f"wrote {path}")
        for row in card["targets"]:
            print(f"target {row['name']}: goal {row['goal']}, measured {row['measured']:.3f}: {'met' if row['met'] else 'NOT met'}")
    return 0


def model_detector(path: Path) -> Detector:
    """The model alone (no second look) from a checkpoint, or from an exported .tflite or .onnx file."""
    runners = {".tflite": litert_runner, ".onnx": onnx_runner}
    if path.suffix in runners:
        if not path.is_file():
            raise ValueError(f"{path} not found: pass an exported model file or a checkpoint")
        try:
            runner = runners[path.suffix](path)
        except Exception as error:  # each runtime has its own exception for a file it cannot load
            raise ValueError(f"{path} cannot be loaded by its runtime ({error}); pass a file made by facekit export")
        return Detector(runner, second_look=None)
    return Detector.from_torch(load_model(path)[0], second_look=None)


def compare_checkpoints(args: argparse.Namespace) -> int:
    """`facekit eval --against`: the paired comparison of two checkpoints, as a Markdown table."""
    try:
        candidate, reference = (model_detector(path) for path in (args.checkpoint, args.against))
        rows = compare(candidate, reference, args.data or data_root(), args.utk_limit)
    except (CheckpointError, DatasetLayoutError, ValueError, OSError) as error:
        return fail("eval", error)
    print(render_markdown(rows, str(args.checkpoint), str(args.against)), end="")
    return 0
