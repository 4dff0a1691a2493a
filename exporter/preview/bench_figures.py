"""Latency and frame-reuse page logic: the last `make bench` report and live timing rows, as table and chart rows."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from exporter.bench.latency import Backend, time_backends


def last_bench_report(path: Path) -> dict | None:
    """The last `make bench` report, or None when there is none or it cannot be read."""
    try:
        report = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) and isinstance(report.get("latency"), list) else None


def live_rows(backends: list[Backend], image: np.ndarray, runs: int,
              on_progress: Callable[[float], None] | None = None) -> list[dict]:
    """`facekit bench`'s timing (interleaved rounds, warm-up, ratios to MediaPipe) on the chosen backends."""
    return time_backends(backends, image, runs, warmup=max(1, runs // 10), progress=False, on_progress=on_progress)


def table_rows(rows: list[dict]) -> list[dict]:
    """One line per backend and thread count: median and p90 of each stage, ratio to MediaPipe."""
    return [{"backend": r["backend"], "threads": r["threads"],
             **{f"{stage} median ms": r[f"{stage}_ms"]["median"] for stage in ("pre", "infer", "post", "total")},
             "infer p90 ms": r["infer_ms"]["p90"], "total p90 ms": r["total_ms"]["p90"],
             "infer x MediaPipe": r["ratio_to_mediapipe"]} for r in rows]


def chart_rows(live: list[dict], report: dict | None) -> list[dict]:
    """Median inference ms per backend and thread count, from this run and from the last bench report."""
    wanted = {(r["backend"], r["threads"]) for r in live}
    out = [{"backend": f"{r['backend']} ({r['threads']}t)", "source": "live", "infer median ms": r["infer_ms"]["median"]}
           for r in live]
    if report is not None:
        out += [{"backend": f"{r['backend']} ({r['threads']}t)", "source": "last make bench",
                 "infer median ms": r["infer_ms"]["median"]}
                for r in report["latency"] if (r["backend"], r["threads"]) in wanted]
    return out



def reuse_kind_rows(report: dict | None) -> list[dict]:
    """The last bench's frame reuse per kind of clip and over all clips: speedup and faces kept, per policy."""
    reuse = (report or {}).get("reuse")
    if not isinstance(reuse, dict) or not reuse.get("clips"):
        return []
    clips = reuse["clips"]
    groups = [("all clips", reuse["overall"], len(clips))]
    groups += [(kind, pooled, sum(c["kind"] == kind for c in clips)) for kind, pooled in reuse["kinds"].items()]
    return [{"clips": f"{label} ({count})", "policy": policy, "speedup": row["speedup"],
             "faces kept (IoU 0.5)": row["faces_matched"], "model runs": row["model_runs"], "frames": row["frames"]}
            for label, pooled, count in groups for policy, row in pooled.items()]
