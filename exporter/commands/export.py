"""`facekit export --target T`: every mobile format of T, verified against PyTorch, packaged into exports/T."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from exporter.assets import AssetError
from exporter.checkpoint import CheckpointError
from exporter.commands import fail
from exporter.export.formats import PRECISIONS, TARGETS, ExportOptionError, formats_for
from exporter.export.images import ExportDataError
from exporter.export.pipeline import ExportFailed, export
from exporter.paths import DEFAULT_CHECKPOINT, REPO_ROOT, data_root


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Options of `facekit export`."""
    p = argparse.ArgumentParser(prog="facekit export", description=__doc__)
    p.add_argument("--target", default="android", help=f"one of: {', '.join(TARGETS)} (default android)")
    p.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT, help="default: the shipped checkpoint")
    p.add_argument("--precision", nargs="+", default=None, metavar="P",
                   help=f"only these precisions ({', '.join(PRECISIONS)}); ONNX fp32 is always made")
    p.add_argument("--data", type=Path, default=None,
                   help="datasets folder for calibration and verification images (default: FACEKIT_DATA or "
                        "../shared/datasets when present, else the built-in set of registry sample photos)")
    p.add_argument("--out", type=Path, default=REPO_ROOT / "exports", help="bundles go to OUT/<target>")
    p.add_argument("--no-install", action="store_true", help="do not copy the models into the sample apps")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 0 when every artifact was exported and verified (or checked as far as the host allows)."""
    args = parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _stop)  # so that a killed export still removes its temporary folders
    try:
        formats_for(args.target)  # unknown targets fail before any work
        default_data = data_root()
        export(args.target, args.checkpoint, args.data or (default_data if default_data.is_dir() else None), args.out,
               args.precision,
               None if args.no_install else REPO_ROOT)
    except (ExportOptionError, CheckpointError, ExportDataError, ExportFailed, AssetError, ValueError, OSError) as error:
        return fail("export", error)
    except KeyboardInterrupt:
        print("facekit export: interrupted; the previous bundle is untouched and temporary files were removed",
              file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


def _stop(signum: int, frame: object) -> None:
    """SIGTERM: unwind like Ctrl-C, so that every clean-up runs."""
    raise KeyboardInterrupt
