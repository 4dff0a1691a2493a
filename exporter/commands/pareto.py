"""`facekit bench --pareto`: the compression report (every variant exported, timed and scored on the same sets)."""

from __future__ import annotations

import argparse
import platform
from datetime import datetime, timezone

from exporter.bench.accuracy import AccuracySets
from exporter.bench.pareto import Variant, find_variants, run_pareto
from exporter.bench.pareto_report import write_pareto
from exporter.bench.suite import command_line, host_info
from exporter.checkpoint import CheckpointError
from exporter.commands import fail
from exporter.export.images import ExportDataError
from exporter.export.pipeline import ExportFailed
from exporter.paths import REPO_ROOT, data_root

COMPRESS_RUNS = REPO_ROOT / "runs" / "compress"
DEFAULT_OUT = REPO_ROOT / "runs" / "pareto"


def pareto(args: argparse.Namespace) -> int:
    """Write the report of the shipped checkpoint and the given (or every compressed) variant; 1 on bad input."""
    root = args.data or data_root()
    out = args.out or DEFAULT_OUT
    try:
        if not root.is_dir():
            raise ValueError(f"the Pareto report scores each variant on the report split; no datasets folder at {root} "
                             "(pass --data or set FACEKIT_DATA)")
        variants = find_variants(args.checkpoint, COMPRESS_RUNS)
        if args.variants:
            variants = variants[:1] + [Variant(p.parent.name if p.name == "best.pt" else p.stem, p) for p in args.variants]
        report = run_pareto(variants, out.parent / f".{out.name}-exports", root,
                            AccuracySets(args.utk_limit, None), runs=args.runs or 300)
        host = host_info()
        report |= {"created": datetime.now(timezone.utc).isoformat(timespec="seconds"), "command": command_line(),
                   "host": f"{host['cpu']} ({host['cores']} cores, {platform.system()})"}
        folder = write_pareto(report, out)
    except (ValueError, FileNotFoundError, CheckpointError, ExportDataError, ExportFailed) as error:
        return fail("bench --pareto", error)
    print((folder / "pareto.md").read_text())
    print(f"report: {folder}/pareto.json, pareto.md, pareto.png")
    return 0
