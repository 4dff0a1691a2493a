"""Score a face model (or a teacher) on the evaluation sets: age/gender, detection AP, agreement on video."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

import numpy as np
from tqdm import tqdm

from exporter.data.layout import DatasetLayoutError
from exporter.data.media import iter_frames
from exporter.data.types import LabelledImage
from exporter.data.utkface import UtkRecord
from exporter.metrics import DetectionAccumulator, age_mae, filter_by_min_size, gender_accuracy, precision_recall_at
from exporter.postprocess import DecodeConfig, Face
from exporter.image_io import read_rgb

AP_SCORE_THRESHOLD = 0.05  # detections kept for AP curves (the operating threshold is DecodeConfig's)
LARGE_FACE_FRACTION = 0.10  # "large" faces: at least 10% of the image's longer side


class FaceDetector(Protocol):
    """Anything that finds faces in an RGB image, in image pixels."""

    def __call__(self, image_rgb: np.ndarray, config: DecodeConfig) -> list[Face]: ...


@dataclass(frozen=True)
class AttributeScores:
    """Age and gender on face crops."""

    age_mae: float
    gender_accuracy: float
    detected: float  # share of crops where a face passed the operating threshold
    count: int


def score_utkface(detector: FaceDetector, records: list[UtkRecord], progress: bool = True) -> AttributeScores:
    """Age MAE and gender accuracy of the top face on each whole crop (a fallback at a low threshold)."""
    ages, females, true_age, true_gender, hits = [], [], [], [], 0
    low = DecodeConfig(score_threshold=0.0)
    for rec in tqdm(records, desc="UTKFace age/gender", unit="img", disable=not progress):
        try:
            image = read_rgb(rec.path)
        except ValueError:
            continue
        faces = detector(image, DecodeConfig())
        hits += bool(faces)
        faces = faces or detector(image, low)
        best = max(faces, key=lambda f: f.score)
        ages.append(best.age)
        females.append(best.female)
        true_age.append(rec.age)
        true_gender.append(rec.gender)
    if records and not true_age:
        raise DatasetLayoutError(f"none of the {len(records)} UTKFace crops to score could be read (the first is "
                                 f"{records[0].path}); replace the damaged files or point --data at another folder")
    return AttributeScores(
        age_mae(np.array(ages), np.array(true_age)),
        gender_accuracy(np.array(females), np.array(true_gender)),
        hits / max(len(true_age), 1),
        len(true_age),
    )


@dataclass(frozen=True)
class DetectionScores:
    """AP at IoU 0.5 on a labelled scene set: all faces, unmasked faces, large faces."""

    ap_all: float
    ap_unmasked: float
    ap_large: float
    faces: int
    unmasked_faces: int
    images: int


def score_scenes(detector: FaceDetector, images: list[LabelledImage], progress: bool = True) -> DetectionScores:
    """Detection AP@0.5 over all faces, faces without masks (masked ones ignored), faces >= 10% of the side."""
    config = DecodeConfig(score_threshold=AP_SCORE_THRESHOLD)
    acc_all, acc_unmasked, acc_large = DetectionAccumulator(), DetectionAccumulator(), DetectionAccumulator()
    unmasked = faces_total = 0
    for item in tqdm(images, desc="scene detection", unit="img", disable=not progress):
        try:
            image = read_rgb(item.path)
        except ValueError:
            continue
        found = detector(image, config)
        boxes = np.array([f.box for f in found], np.float32).reshape(-1, 4)
        scores = np.array([f.score for f in found], np.float32)
        gt = np.array([f.box for f in item.faces], np.float32).reshape(-1, 4)
        masked = np.array([bool(f.masked) for f in item.faces], bool)
        acc_all.add(boxes, scores, gt)
        acc_unmasked.add(boxes, scores, gt, masked)
        acc_large.add(boxes, scores, gt, filter_by_min_size(gt, max(image.shape[:2]), LARGE_FACE_FRACTION))
        faces_total += len(gt)
        unmasked += int((~masked).sum())
    return DetectionScores(
        acc_all.average_precision().ap,
        acc_unmasked.average_precision().ap,
        acc_large.average_precision().ap,
        faces_total,
        unmasked,
        len(images),
    )


@dataclass(frozen=True)
class AgreementScores:
    """Precision and recall of a detector against reference detections (a teacher) on video frames."""

    precision: float
    recall: float
    frames: int
    reference_faces: int


def score_against(
    detector: FaceDetector, reference: FaceDetector, videos: list[Path], every: int = 10, progress: bool = True
) -> AgreementScores:
    """Match the detector's faces to the reference's at IoU 0.5, frame by frame."""
    preds, refs = [], []
    for video in tqdm(videos, desc="video agreement", unit="video", disable=not progress):
        for _, frame in iter_frames(video, every=every):
            for store, det in ((preds, detector), (refs, reference)):
                faces = sorted(det(frame, DecodeConfig()), key=lambda f: -f.score)
                store.append(np.array([f.box for f in faces], np.float32).reshape(-1, 4))
    pr = precision_recall_at(preds, refs)
    return AgreementScores(pr.precision, pr.recall, len(preds), int(sum(len(r) for r in refs)))


def teacher_attribute_detector(blazeface: Callable, attributes) -> FaceDetector:
    """A detector that takes boxes from BlazeFace and age/gender from the age/gender teacher's aligned chips."""
    from exporter.teachers import face_chip

    def detect(image_rgb: np.ndarray, config: DecodeConfig) -> list[Face]:
        faces = blazeface.detect(image_rgb, config)
        if not faces:
            return faces
        ages, female = attributes.predict_chips([face_chip(image_rgb, f, size=64) for f in faces])
        return [Face(f.box, f.keypoints, f.score, float(a), float(g)) for f, a, g in zip(faces, ages, female)]

    return detect
