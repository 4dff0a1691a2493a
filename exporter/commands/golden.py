"""`facekit golden`: check that today's reference code reproduces the committed app contract, or regenerate it.

Without options it checks tests/golden (letterbox bit for bit, float input, decoding of the committed raw outputs,
frame-reuse decisions) and exits 1 listing every difference. `--update` exports the shipped checkpoint's fp32
TFLite file (with the built-in image set) and replaces tests/golden with its contract folder, on purpose: the
diff then shows what the apps must change.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from exporter.checkpoint import CheckpointError
from exporter.commands import fail
from exporter.export.bundle import swap_into_place
from exporter.export.contract import check_reference
from exporter.export.pipeline import CONTRACT_FOLDER, ExportFailed, export
from exporter.paths import DEFAULT_CHECKPOINT, REPO_ROOT

GOLDEN_DIR = REPO_ROOT / "tests" / "golden"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Options of `facekit golden`."""
    p = argparse.ArgumentParser(prog="facekit golden", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--update", action="store_true", help="regenerate the contract from the checkpoint (on purpose)")
    p.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT, help="default: the shipped checkpoint")
    p.add_argument("--folder", type=Path, default=GOLDEN_DIR, help="contract folder (default tests/golden)")
    return p.parse_args(argv)


def update(folder: Path, checkpoint: Path) -> None:
    """Export the fp32 TFLite file to a scratch folder and move its contract into place."""
    with tempfile.TemporaryDirectory(prefix="facekit-golden-") as scratch:
        bundle, _ = export("android", checkpoint, None, Path(scratch), ["fp32"], app_root=None)
        staged = folder.parent / f".{folder.name}.new"
        shutil.rmtree(staged, ignore_errors=True)
        shutil.copytree(bundle / CONTRACT_FOLDER, staged)
        swap_into_place(staged, folder)


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 0 when the contract holds (or was regenerated), 1 listing the differences."""
    args = parse_args(argv)
    try:
        if args.update:
            update(args.folder, args.checkpoint)
            print(f"wrote the contract into {args.folder}; review `git diff --stat {args.folder}` before committing")
            return 0
        if not (args.folder / "contract.json").is_file():
            print(f"facekit golden: no contract.json in {args.folder}; make one with `facekit golden --update`",
                  file=sys.stderr)
            return 1
        problems = check_reference(args.folder)
    except (CheckpointError, ExportFailed, OSError, ValueError) as error:
        return fail("golden", error)
    for problem in problems:
        print(f"  {problem}")
    print(f"{args.folder}: " + ("today's reference code reproduces every golden file" if not problems else
                                f"{len(problems)} differences; if they are intended, run `facekit golden --update`"))
    return 1 if problems else 0
