"""Score a face model (or a teacher) on the evaluation sets: age/gender, detection AP, agreement on video."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from collections.abc import Sequence
from typing import Callable, Protocol

import numpy as np
from tqdm import tqdm

from exporter.data.layout import DatasetLayoutError
from exporter.data.media import iter_frames
from exporter.data.types import LabelledImage
from exporter.data.utkface import UtkRecord
from exporter.detector import Detector
from exporter.metrics import (DetectionAccumulator, DetectionSet, age_mae, average_precision, filter_by_min_size,
                              gender_accuracy, precision_recall_at)
from exporter.postprocess import DecodeConfig, Face
from exporter.image_io import read_rgb
from exporter.second_look import SecondLook, look_again

AP_SCORE_THRESHOLD = 0.05  # detections kept for AP curves (the operating threshold is DecodeConfig's)
LARGE_FACE_FRACTION = 0.10  # "large" faces: at least 10% of the image's longer side


class FaceDetector(Protocol):
    """Anything that finds faces in an RGB image, in image pixels."""

    def __call__(self, image_rgb: np.ndarray, config: DecodeConfig) -> list[Face]: ...


ADULT_AGE = 18  # adults and minors are scored apart: minors' gender is much harder


@dataclass(frozen=True)
class AttributeScores:
    """Age and gender on face crops, over all of them and for adults (18+) and minors apart."""

    age_mae: float
    gender_accuracy: float
    detected: float  # share of crops where a face passed the operating threshold
    count: int
    age_mae_adults: float | None = None  # None: no crop of that group (JSON has no NaN)
    gender_accuracy_adults: float | None = None
    age_mae_minors: float | None = None
    gender_accuracy_minors: float | None = None


def centred_on_canvas(image: np.ndarray, factor: int) -> np.ndarray:
    """The image centred on a black square canvas factor times its longer side (factor 1: the image itself)."""
    if factor < 1:
        raise ValueError(f"canvas factor must be at least 1, got {factor}")
    if factor == 1:
        return image
    h, w = image.shape[:2]
    side = factor * max(h, w)
    canvas = np.zeros((side, side, 3), image.dtype)
    y0, x0 = (side - h) // 2, (side - w) // 2
    canvas[y0 : y0 + h, x0 : x0 + w] = image
    return canvas


def _subset(pred_age, pred_female, true_age, true_gender, keep) -> tuple[float | None, float | None]:
    if not keep.any():
        return None, None
    return age_mae(pred_age[keep], true_age[keep]), gender_accuracy(pred_female[keep], true_gender[keep])


def _attribute_scores(ages: Sequence[float], females: Sequence[float], true_age: Sequence[float],
                      true_gender: Sequence[float], hits: int) -> AttributeScores:
    """Scores over all crops and for adults and minors apart."""
    pred_age, pred_female = np.array(ages, np.float64), np.array(females, np.float64)
    true_age_arr, true_gender_arr = np.array(true_age, np.float64), np.array(true_gender, np.float64)
    adult = true_age_arr >= ADULT_AGE
    parts = [_subset(pred_age, pred_female, true_age_arr, true_gender_arr, keep) for keep in (adult, ~adult)]
    return AttributeScores(
        age_mae(pred_age, true_age_arr),
        gender_accuracy(pred_female, true_gender_arr),
        hits / max(len(true_age), 1),
        len(true_age),
        *parts[0],
        *parts[1],
    )


def _crops(records: list[UtkRecord], canvas: int, progress: bool, desc: str):
    """(record, image) of every readable crop, centred on its canvas."""
    for rec in tqdm(records, desc=f"{desc}, canvas {canvas}x", unit="img", disable=not progress):
        try:
            yield rec, centred_on_canvas(read_rgb(rec.path), canvas)
        except ValueError:
            continue


def score_utkface(
    detector: FaceDetector, records: list[UtkRecord], progress: bool = True, canvas: int = 1
) -> AttributeScores:
    """Age MAE and gender accuracy of the top face on each whole crop (a fallback at a low threshold).

    canvas > 1 centres each crop on a black square that many times its side, so the face covers 1/canvas
    of the input side (as in a camera frame) instead of filling it.
    """
    ages, females, true_age, true_gender, hits = [], [], [], [], 0
    low = DecodeConfig(score_threshold=0.0)
    for rec, image in _crops(records, canvas, progress, "UTKFace age/gender"):
        faces = detector(image, DecodeConfig())
        hits += bool(faces)
        best = max(faces or detector(image, low), key=lambda f: f.score)
        ages.append(best.age)
        females.append(best.female)
        true_age.append(rec.age)
        true_gender.append(rec.gender)
    _require_read(records, true_age)
    return _attribute_scores(ages, females, true_age, true_gender, hits)


def _require_read(records: list[UtkRecord], true_age: list) -> None:
    """A scoring run that could read none of its crops is an error, not an age error of 0."""
    if records and not true_age:
        raise DatasetLayoutError(f"none of the {len(records)} UTKFace crops to score could be read (the first is "
                                 f"{records[0].path}); replace the damaged files or point --data at another folder")


@dataclass(frozen=True)
class LookPredictions:
    """Per-crop predictions of the model alone and with the second look, beside the labels (arrays of one length)."""

    alone_age: np.ndarray
    alone_female: np.ndarray
    again_age: np.ndarray
    again_female: np.ndarray
    true_age: np.ndarray
    true_gender: np.ndarray
    hits: int  # crops where a face passed the operating threshold


def utkface_look_predictions(
    detector: Detector, records: list[UtkRecord], look: SecondLook, progress: bool = True, canvas: int = 1
) -> LookPredictions:
    """The top face's age and P(female) on each readable crop, model alone and with the second look (one first look)."""
    first: tuple[list, list] = ([], [])
    second: tuple[list, list] = ([], [])
    true_age, true_gender, hits = [], [], 0
    low = DecodeConfig(score_threshold=0.0)
    for rec, image in _crops(records, canvas, progress, "UTKFace age/gender, first and second look"):
        faces = detector.first_look(image, DecodeConfig())
        hits += bool(faces)
        faces = faces or detector.first_look(image, low)
        refined = look_again(image, faces, detector.first_look, detector.decoder.config, look)[0]
        best = max(range(len(faces)), key=lambda i: faces[i].score)  # look_again keeps order and scores
        for store, face in ((first, faces[best]), (second, refined[best])):
            store[0].append(face.age)
            store[1].append(face.female)
        true_age.append(rec.age)
        true_gender.append(rec.gender)
    _require_read(records, true_age)
    arrays = [np.array(v, np.float64) for v in (*first, *second, true_age, true_gender)]
    return LookPredictions(*arrays, hits)


def score_utkface_looks(
    detector: Detector, records: list[UtkRecord], look: SecondLook, progress: bool = True, canvas: int = 1
) -> tuple[AttributeScores, AttributeScores]:
    """score_utkface of the model alone and with the second look, sharing one first look per crop."""
    p = utkface_look_predictions(detector, records, look, progress, canvas)
    return (_attribute_scores(p.alone_age, p.alone_female, p.true_age, p.true_gender, p.hits),
            _attribute_scores(p.again_age, p.again_female, p.true_age, p.true_gender, p.hits))


@dataclass(frozen=True)
class DetectionScores:
    """AP at IoU 0.5 on a labelled scene set: all faces, unmasked faces, large faces."""

    ap_all: float
    ap_unmasked: float
    ap_large: float
    faces: int
    unmasked_faces: int
    images: int


@dataclass(frozen=True)
class SceneDetections:
    """A detector's detections on a labelled scene set, as the three sets AP is computed on."""

    all: DetectionSet
    unmasked: DetectionSet  # masked faces ignored
    large: DetectionSet  # faces under LARGE_FACE_FRACTION of the longer side ignored
    faces: int
    unmasked_faces: int
    images: int


def scene_detections(detector: FaceDetector, images: list[LabelledImage], progress: bool = True) -> SceneDetections:
    """Run the detector on every readable scene image (AP_SCORE_THRESHOLD) and collect its three detection sets."""
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
    return SceneDetections(acc_all.detection_set(), acc_unmasked.detection_set(), acc_large.detection_set(),
                           faces_total, unmasked, len(images))


def score_scenes(detector: FaceDetector, images: list[LabelledImage], progress: bool = True) -> DetectionScores:
    """Detection AP@0.5 over all faces, faces without masks (masked ones ignored), faces >= 10% of the side."""
    d = scene_detections(detector, images, progress)
    return DetectionScores(average_precision(d.all).ap, average_precision(d.unmasked).ap,
                           average_precision(d.large).ap, d.faces, d.unmasked_faces, d.images)


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
    """A detector that takes boxes from BlazeFace and age/gender from an age/gender teacher's aligned chips."""
    from exporter.teachers import face_chip

    def detect(image_rgb: np.ndarray, config: DecodeConfig) -> list[Face]:
        faces = blazeface.detect(image_rgb, config)
        if not faces:
            return faces
        ages, female = attributes.predict_chips([face_chip(image_rgb, f, size=attributes.chip_size) for f in faces])
        return [Face(f.box, f.keypoints, f.score, float(a), float(g)) for f, a, g in zip(faces, ages, female)]

    return detect
