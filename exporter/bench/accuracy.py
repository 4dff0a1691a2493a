"""Accuracy beside speed: each exported variant scored with `facekit eval`'s metrics on the same held-out sets."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from exporter.bench.latency import MEDIAPIPE, Backend, detector_for
from exporter.data.splits import evenly
from exporter.eval.scores import score_scenes, score_utkface
from exporter.data.layout import dlib_images, load_splits


@dataclass(frozen=True)
class AccuracySets:
    """How much of each held-out set to score (None: all of it, as `facekit eval` does)."""

    utk_limit: int | None = None
    scenes_limit: int | None = None


def score_backends(backends: list[Backend], data_root: Path, sets: AccuracySets = AccuracySets(),
                   progress: bool = True) -> list[dict]:
    """Age MAE and gender accuracy (UTKFace validation), AP@0.5 (face-mask validation, dlib faces) per backend."""
    splits = load_splits(data_root)
    utk = evenly(splits.utk_report, sets.utk_limit)
    scenes = evenly(splits.scenes_report, sets.scenes_limit)
    dlib = dlib_images(data_root)
    rows = []
    for backend in tqdm(backends, desc="accuracy", unit="model", disable=not progress):
        detect = detector_for(backend)
        row: dict = {"backend": backend.key, "utkface_crops": len(utk), "scene_images": len(scenes),
                     "dlib_images": len(dlib)}
        if backend.key != MEDIAPIPE:  # MediaPipe has no age or gender
            attributes = score_utkface(detect, utk, progress=False)
            row |= {"age_mae": attributes.age_mae, "gender_accuracy": attributes.gender_accuracy}
        scene = score_scenes(detect, scenes, progress=False)
        row |= {"ap_unmasked": scene.ap_unmasked, "ap_large": scene.ap_large}
        if dlib:
            row["ap_dlib"] = score_scenes(detect, dlib, progress=False).ap_all
        rows.append(row)
    return rows
