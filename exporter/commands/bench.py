"""`facekit bench`: latency per backend against MediaPipe, accuracy per exported variant, frame reuse on video.

Writes a report folder (report.json, summary.md, latency.png, reuse.png). `--import FILE` instead checks a
benchmark report written by a sample app on a phone and shows it beside the host report.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import jsonschema

from exporter.assets import AssetError
from exporter.atomic import check_writable_folder
from exporter.bench.clips import RECIPES, composed_clips
from exporter.bench.phone import PhoneReportError, load_phone_report, render_comparison, store_phone_report
from exporter.bench.report import MAX_HOST_REPORT_BYTES, validate, write_report
from exporter.bench.suite import MODES, checkpoint_matches, command_line, find_videos, run_bench
from exporter.checkpoint import CheckpointError
from exporter.commands import error_text, fail
from exporter.export.formats import ExportOptionError
from exporter.export.images import ExportDataError
from exporter.export.pipeline import ExportFailed, export
from exporter.jsonio import JsonFileError, load_json
from exporter.paths import DEFAULT_CHECKPOINT, REPO_ROOT, cache_root, data_root

DEFAULT_REPORT = REPO_ROOT / "runs" / "bench"
ANDROID_APP = "com.facekit.demo"  # android_app/app/build.gradle.kts applicationId
ANDROID_REPORT = f"/sdcard/Android/data/{ANDROID_APP}/files/phone_bench.json"  # BenchmarkActivity.REPORT
ADB_WAIT_S = 1800


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Options of `facekit bench`."""
    p = argparse.ArgumentParser(prog="facekit bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer runs, one clip of each kind, 90 frames, subsets (about 1-2 min)")
    p.add_argument("--exports", type=Path, default=REPO_ROOT / "exports" / "all",
                   help="export folder to time (made with `facekit export --target all` when missing or stale)")
    p.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT, help="default: the shipped checkpoint")
    p.add_argument("--data", type=Path, default=None, help="datasets folder (default: FACEKIT_DATA or ../shared/datasets)")
    p.add_argument("--videos", type=Path, nargs="+", default=None, metavar="PATH",
                   help="clips or folders for frame reuse (default: DATA/videos and the clips composed from them)")
    p.add_argument("--runs", type=int, default=None, help="timed runs per backend and thread count")
    p.add_argument("--threads", type=int, nargs="+", default=None, help="thread counts to time (default 1 2)")
    p.add_argument("--max-frames", type=int, default=None, help="frames per clip for frame reuse")
    p.add_argument("--out", type=Path, default=None, help=f"report folder (default {DEFAULT_REPORT}; --pareto: runs/pareto)")
    p.add_argument("--import", dest="phone_report", type=Path, default=None, metavar="FILE",
                   help="a phone benchmark report (JSON from a sample app) to check and show beside the host report in --out")
    p.add_argument("--adb", action="store_true",
                   help="run the Android app's benchmark mode on the phone adb sees, pull its report and import it")
    p.add_argument("--pareto", action="store_true",
                   help="the compression report instead: the shipped checkpoint and every runs/compress/*/best.pt "
                        "(or --variants) exported, timed against MediaPipe and scored (report in runs/pareto)")
    p.add_argument("--variants", type=Path, nargs="+", default=None, metavar="CHECKPOINT",
                   help="with --pareto: compare these checkpoints with the shipped one")
    p.add_argument("--utk-limit", type=int, default=None, help="with --pareto: UTKFace report crops scored (default all)")
    return p.parse_args(argv)


def _adb(adb: str, *args: str) -> subprocess.CompletedProcess:
    """One adb command, its output captured."""
    return subprocess.run([adb, *args], capture_output=True, text=True, check=False)


def bench_on_phone(report_dir: Path) -> int:
    """Start the Android app's benchmark mode over adb, wait for its report, pull it and import it."""
    if not (report_dir / "report.json").is_file():
        print(f"facekit bench --adb: no host report in {report_dir} to compare with; run `make bench` first (or pass --out)",
              file=sys.stderr)
        return 1
    adb = shutil.which("adb")
    if adb is None:
        print("facekit bench --adb: adb is not installed; install Android's platform-tools, connect a phone with USB "
              "debugging on and install the app (android_app/README.md)", file=sys.stderr)
        return 1
    phones = [line.split()[0] for line in _adb(adb, "devices").stdout.splitlines()[1:] if line.strip().endswith("device")]
    if len(phones) != 1:
        print(f"facekit bench --adb: adb sees {len(phones)} phones ready; connect exactly one with USB debugging on "
              "(or set ANDROID_SERIAL)", file=sys.stderr)
        return 1
    _adb(adb, "shell", "rm", "-f", ANDROID_REPORT)
    started = _adb(adb, "shell", "am", "start", "-W", "-n", f"{ANDROID_APP}/.BenchmarkActivity")
    if started.returncode or "Error" in started.stdout + started.stderr:
        print(f"facekit bench --adb: cannot start the benchmark ({(started.stdout + started.stderr).strip()}); is the "
              "app installed? (cd android_app && ./gradlew installDebug)", file=sys.stderr)
        return 1
    print(f"benchmark running on {phones[0]}; waiting for {ANDROID_REPORT} ...")
    deadline = time.monotonic() + ADB_WAIT_S
    while _adb(adb, "shell", "ls", ANDROID_REPORT).returncode != 0:
        if time.monotonic() > deadline:
            print(f"facekit bench --adb: no report after {ADB_WAIT_S} s; see the benchmark screen on the phone", file=sys.stderr)
            return 1
        time.sleep(5)
    with tempfile.TemporaryDirectory() as folder:
        local = Path(folder) / "phone_bench.json"
        pulled = _adb(adb, "pull", ANDROID_REPORT, str(local))
        if pulled.returncode:
            print(f"facekit bench --adb: adb pull failed: {pulled.stderr.strip()}", file=sys.stderr)
            return 1
        return import_phone_report(local, report_dir)


def import_phone_report(path: Path, report_dir: Path) -> int:
    """Validate a phone report, store it with the host report and print them side by side."""
    host_file = report_dir / "report.json"
    if not host_file.is_file():
        print(f"facekit bench: no host report at {host_file}; run `make bench` first (or pass --out)", file=sys.stderr)
        return 1
    try:
        phone = load_phone_report(path)
        host = load_json(host_file, max_bytes=MAX_HOST_REPORT_BYTES, what="host benchmark report")
        validate(host)
        stored = store_phone_report(report_dir, phone)
    except PhoneReportError as error:
        return fail("bench", error)
    except (JsonFileError, jsonschema.ValidationError) as error:
        reason = error.message if isinstance(error, jsonschema.ValidationError) else str(error)
        print(f"facekit bench: the host report {host_file} is damaged ({reason[:300]}); "
              "run `make bench` again to rewrite it", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"facekit bench: cannot store the phone report in {report_dir}/phones: {error_text(error)}", file=sys.stderr)
        return 1
    print(render_comparison(host, phone))
    print(f"stored as {stored}")
    return 0


def dataset_clips(folder: Path) -> list[Path]:
    """The dataset's clips and the clips composed from them (composed into the cache on first use; a recipe whose
    sources are missing is left out, with a note); none without the folder."""
    if not folder.is_dir():
        return []
    recipes = tuple(r for r in RECIPES if all((folder / s).is_file() for s in r.sources))
    for recipe in sorted(set(RECIPES) - set(recipes), key=RECIPES.index):
        print(f"frame reuse: {recipe.name} is not composed: {folder} lacks one of {', '.join(recipe.sources)}")
    return find_videos([folder]) + composed_clips(folder, cache_root() / "bench_clips", recipes)


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 0 when the report was written (targets not met are reported, not fatal)."""
    args = parse_args(argv)
    if args.pareto:
        from exporter.commands.pareto import pareto

        return pareto(args)
    args.out = args.out or DEFAULT_REPORT
    if args.adb:
        return bench_on_phone(args.out)
    if args.phone_report is not None:
        return import_phone_report(args.phone_report, args.out)
    settings = MODES["quick" if args.quick else "default"]
    overrides = {k: v for k, v in (("runs", args.runs), ("max_frames", args.max_frames)) if v is not None}
    if args.threads:
        overrides["threads"] = tuple(args.threads)
        overrides["reuse_threads"] = min(args.threads)
    try:
        settings = replace(settings, **overrides)
        if min(settings.threads) < 1 or settings.runs < 1 or (settings.max_frames is not None and settings.max_frames < 1):
            raise ValueError("--runs, --threads and --max-frames must be at least 1")
        check_writable_folder(args.out.parent, "--out's parent")
        if args.out.exists() and not args.out.is_dir():
            raise ValueError(f"--out {args.out} is a file, not a folder; pass a folder")
        root = args.data or data_root()
        has_data = root.is_dir()
        videos = find_videos(args.videos) if args.videos else dataset_clips(root / "videos")
        if not checkpoint_matches(args.exports, args.checkpoint):
            if args.exports.name != "all":
                raise ValueError(f"{args.exports} holds no bundle of {args.checkpoint} by this FaceKit version; make "
                                 f"one with `facekit export --target all --checkpoint {args.checkpoint}` and pass its folder")
            print(f"{args.exports} is missing or was made from another checkpoint or FaceKit version: exporting every "
                  "format first...")
            export("all", args.checkpoint, root if has_data else None, args.exports.parent, app_root=None)
        report = run_bench(settings, args.exports, args.checkpoint, root if has_data else None, videos, command_line())
        folder = write_report(report, args.out)
    except (ValueError, CheckpointError, ExportOptionError, ExportDataError, ExportFailed, AssetError, OSError) as error:
        return fail("bench", error)
    print((folder / "summary.md").read_text())
    print(f"report: {folder}/report.json, summary.md, latency.png" + (", reuse.png" if report["reuse"] else ""))
    return 0
