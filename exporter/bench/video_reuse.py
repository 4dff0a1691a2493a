"""What frame reuse saves on real video: per policy, mean per-frame latency, speedup and fidelity.

Each clip is decoded once; every decoded frame goes through every policy's scheduler in turn (same
detector), and the wall time of each scheduler step (thumbnail, decision, tracking, and the full model
when it runs) is the frame's latency for that policy. The every-frame scheduler calls the detector and
nothing else, so the baseline pays for no reuse machinery. Fidelity compares a policy's faces on each
frame with every-frame's faces on that frame: the share of every-frame faces found again at IoU >= 0.5,
the age difference and the gender agreement of those pairs, and the share of the policy's faces that
every-frame does not have (extra faces). Results are pooled over all clips and per kind of clip
(exporter/bench/clips.py). Video decoding is not timed (a camera delivers decoded frames).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from exporter.bench.clips import KINDS, OTHER, RECIPES, clip_kind
from exporter.data.media import iter_frames
from exporter.export.verify import match_faces
from exporter.metrics import box_iou
from exporter.postprocess import Face
from exporter.reuse import POLICIES, FrameReuseScheduler, ReuseConfig

MATCH_IOU = 0.5


def fidelity(reference: list[list[Face]], candidate: list[list[Face]]) -> dict:
    """Every-frame faces found again at IoU 0.5, the box IoU, age difference and gender agreement of the pairs,
    and the share of candidate faces left unmatched."""
    total, pairs = match_faces(reference, candidate, MATCH_IOU)
    shown = sum(len(faces) for faces in candidate)
    return {
        "reference_faces": total,
        "faces_shown": shown,
        "faces_matched": len(pairs) / total if total else 1.0,
        "extra_faces": (shown - len(pairs)) / shown if shown else 0.0,
        "mean_iou": float(np.mean([box_iou(a.box[None], b.box[None])[0, 0] for a, b in pairs])) if pairs else 1.0,
        "age_difference": float(np.mean([abs(a.age - b.age) for a, b in pairs])) if pairs else 0.0,
        "gender_agreement": float(np.mean([(a.female >= 0.5) == (b.female >= 0.5) for a, b in pairs])) if pairs else 1.0,
    }


def bench_clip(path: Path, detect: Callable[[np.ndarray], list[Face]], configs: dict[str, ReuseConfig],
               max_frames: int | None) -> dict:
    """Every policy on one clip, frame by frame (frames are not kept, so long clips fit in memory)."""
    schedulers = {name: FrameReuseScheduler(detect, config) for name, config in configs.items()}
    faces: dict[str, list[list[Face]]] = {name: [] for name in configs}
    seconds: dict[str, list[float]] = {name: [] for name in configs}
    runs = dict.fromkeys(configs, 0)
    height = width = 0
    for _, frame in iter_frames(path, max_frames=max_frames):
        height, width = frame.shape[:2]
        for name, scheduler in schedulers.items():
            start = time.perf_counter()
            decision = scheduler.step(frame)
            seconds[name].append(time.perf_counter() - start)
            faces[name].append(list(decision.faces))
            runs[name] += decision.ran_model
    reference, every = faces["every-frame"], float(np.mean(seconds["every-frame"]))
    policies = {name: {"mean_ms": 1000 * float(np.mean(seconds[name])), "model_runs": runs[name],
                       "speedup": every / float(np.mean(seconds[name])), **fidelity(reference, faces[name])}
                for name in configs}
    return {"file": Path(path).name, "frames": len(reference), "width": width, "height": height,
            "kind": clip_kind(path), "policies": policies}


def pooled(clips: list[dict]) -> dict:
    """Per policy over several clips: frame-weighted mean latency, speedup and face-weighted fidelity."""
    if not clips:
        return {}
    frames = np.array([c["frames"] for c in clips], float)
    out = {}
    for name in clips[0]["policies"]:
        rows = [c["policies"][name] for c in clips]
        faces = np.array([r["reference_faces"] for r in rows], float)
        matched = np.array([r["faces_matched"] for r in rows]) * faces
        shown = np.array([r["faces_shown"] for r in rows], float)
        weights = np.maximum(matched, 1e-12)
        out[name] = {
            "frames": int(frames.sum()),
            "mean_ms": float(np.average([r["mean_ms"] for r in rows], weights=frames)),
            "model_runs": int(sum(r["model_runs"] for r in rows)),
            "reference_faces": int(faces.sum()),
            "faces_shown": int(shown.sum()),
            "faces_matched": float(matched.sum() / faces.sum()) if faces.sum() else 1.0,
            "extra_faces": float((shown.sum() - matched.sum()) / shown.sum()) if shown.sum() else 0.0,
            "mean_iou": float(np.average([r["mean_iou"] for r in rows], weights=weights)),
            "age_difference": float(np.average([r["age_difference"] for r in rows], weights=weights)),
            "gender_agreement": float(np.average([r["gender_agreement"] for r in rows], weights=weights)),
        }
    every = out["every-frame"]["mean_ms"]
    for row in out.values():
        row["speedup"] = every / row["mean_ms"]
    return out


def default_configs(skip: int = 3) -> dict[str, ReuseConfig]:
    """One config per policy, with ReuseConfig's defaults (skip-N with N = skip)."""
    return {name: replace(ReuseConfig(policy=name), skip=skip) for name in POLICIES}


def bench_videos(videos: list[Path], detect: Callable[[np.ndarray], list[Face]], max_frames: int | None,
                 configs: dict[str, ReuseConfig] | None = None, progress: bool = True) -> dict:
    """Per clip and pooled (all clips, each kind of clip) results of every policy, and the composed clips' recipes."""
    configs = configs or default_configs()
    clips, skipped = [], []
    for path in tqdm(videos, desc="frame reuse", unit="clip", disable=not progress):
        try:
            clips.append(bench_clip(path, detect, configs, max_frames))
        except ValueError as error:  # an unreadable clip is reported, the others are still measured
            skipped.append({"file": Path(path).name, "reason": str(error)})
    if not clips:
        raise ValueError(f"no clip could be read for frame reuse: {'; '.join(s['reason'] for s in skipped)}")
    kinds = {kind: pooled([c for c in clips if c["kind"] == kind]) for kind in (*KINDS, OTHER)}
    names = {c["file"] for c in clips}
    return {"policies": {name: _settings(c) for name, c in configs.items()}, "match_iou": MATCH_IOU,
            "clips": clips, "skipped": skipped, "overall": pooled(clips), "kinds": {k: v for k, v in kinds.items() if v},
            "recipes": [{"file": f"{r.name}.mp4", "kind": r.kind, "recipe": r.describe()} for r in RECIPES
                        if f"{r.name}.mp4" in names]}


def _settings(config: ReuseConfig) -> dict:
    return {k: v for k, v in vars(config).items() if k != "policy"}
