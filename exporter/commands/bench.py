"""`facekit bench`: latency per backend against MediaPipe, accuracy per exported variant, frame reuse on video.

Writes a report folder (report.json, summary.md, latency.png, reuse.png). `--import FILE` instead checks a
benchmark report written by a sample app on a phone and shows it beside the host report.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from exporter.bench.phone import PhoneReportError, load_phone_report, render_comparison, store_phone_report
from exporter.bench.report import write_report
from exporter.bench.suite import MODES, checkpoint_matches, command_line, find_videos, run_bench
from exporter.checkpoint import CheckpointError
from exporter.export.formats import ExportOptionError
from exporter.export.images import ExportDataError
from exporter.export.pipeline import ExportFailed, export
from exporter.paths import DEFAULT_CHECKPOINT, REPO_ROOT, data_root

DEFAULT_REPORT = REPO_ROOT / "runs" / "bench"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Options of `facekit bench`."""
    p = argparse.ArgumentParser(prog="facekit bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer runs, 3 clips of 90 frames, subsets (about 1-2 min)")
    p.add_argument("--exports", type=Path, default=REPO_ROOT / "exports" / "all",
                   help="export folder to time (made with `facekit export --target all` when missing or stale)")
    p.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT, help="default: the shipped checkpoint")
    p.add_argument("--data", type=Path, default=None, help="datasets folder (default: FACEKIT_DATA or ../shared/datasets)")
    p.add_argument("--videos", type=Path, nargs="+", default=None, metavar="PATH",
                   help="clips or folders for frame reuse (default: DATA/videos)")
    p.add_argument("--runs", type=int, default=None, help="timed runs per backend and thread count")
    p.add_argument("--threads", type=int, nargs="+", default=None, help="thread counts to time (default 1 2)")
    p.add_argument("--max-frames", type=int, default=None, help="frames per clip for frame reuse")
    p.add_argument("--out", type=Path, default=DEFAULT_REPORT, help=f"report folder (default {DEFAULT_REPORT})")
    p.add_argument("--import", dest="phone_report", type=Path, default=None, metavar="FILE",
                   help="a phone benchmark report (JSON from a sample app) to check and show beside the host report in --out")
    return p.parse_args(argv)


def import_phone_report(path: Path, report_dir: Path) -> int:
    """Validate a phone report, store it with the host report and print them side by side."""
    host_file = report_dir / "report.json"
    if not host_file.is_file():
        print(f"facekit bench: no host report at {host_file}; run `make bench` first (or pass --out)", file=sys.stderr)
        return 1
    try:
        phone = load_phone_report(path)
    except PhoneReportError as error:
        print(f"facekit bench: {error}", file=sys.stderr)
        return 1
    print(render_comparison(json.loads(host_file.read_text()), phone))
    print(f"stored as {store_phone_report(report_dir, phone)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 0 when the report was written (targets not met are reported, not fatal)."""
    args = parse_args(argv)
    if args.phone_report is not None:
        return import_phone_report(args.phone_report, args.out)
    settings = MODES["quick" if args.quick else "default"]
    overrides = {k: v for k, v in (("runs", args.runs), ("max_frames", args.max_frames)) if v is not None}
    if args.threads:
        overrides["threads"] = tuple(args.threads)
        overrides["reuse_threads"] = min(args.threads)
    try:
        settings = replace(settings, **overrides)
        if min(settings.threads) < 1 or settings.runs < 1:
            raise ValueError("--runs and --threads must be at least 1")
        root = args.data or data_root()
        has_data = root.is_dir()
        videos = find_videos(args.videos or ([root / "videos"] if (root / "videos").is_dir() else []))
        if not checkpoint_matches(args.exports, args.checkpoint):
            if args.exports.name != "all":
                raise ValueError(f"{args.exports} holds no bundle of {args.checkpoint}; make one with "
                                 f"`facekit export --target all --checkpoint {args.checkpoint}` and pass its folder")
            print(f"{args.exports} is missing or was made from another checkpoint: exporting every format first...")
            export("all", args.checkpoint, root if has_data else None, args.exports.parent, app_root=None)
        report = run_bench(settings, args.exports, args.checkpoint, root if has_data else None, videos, command_line())
        folder = write_report(report, args.out)
    except (ValueError, FileNotFoundError, CheckpointError, ExportOptionError, ExportDataError, ExportFailed) as error:
        print(f"facekit bench: {error}", file=sys.stderr)
        return 1
    print((folder / "summary.md").read_text())
    print(f"report: {folder}/report.json, summary.md, latency.png" + (", reuse.png" if report["reuse"] else ""))
    return 0
