"""Build the training material from the datasets folder, with teacher pseudo-labels where labels are missing.

Layout expected under the data root (any part may be missing except utkface/ and negatives/):
  utkface/      UTKFace crops named age_gender_race_date.jpg(.chip.jpg)  -> age, gender; teacher keypoints
  negatives/    face-free images (any sub-folders)                        -> composite backgrounds
  facemask/     Pascal VOC face boxes (annotations/ + images/)            -> real scenes (train split)
  videos/       short face videos                                          -> frames with teacher labels
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from exporter.data.media import iter_frames
from exporter.data.splits import file_md5
from exporter.data.types import LabelledImage, LoadReport
from exporter.data.utkface import UtkRecord
from exporter.postprocess import NUM_KEYPOINTS
from exporter.postprocess import Face
from exporter.image_io import read_rgb
from exporter.pseudo_labels import PseudoLabelCache
from exporter.teachers import AttributeTeacher, BlazeFaceTeacher, face_chip
from exporter.train.samples import LabelledFace, SourceImage

NEGATIVE_MAX_SIDE = 640
TEACHER_ATTR_WEIGHT = 0.3  # teacher age/gender count less than human labels


def _faces_to_arrays(faces) -> dict[str, np.ndarray]:
    return {
        "boxes": np.array([f.box for f in faces], np.float32).reshape(-1, 4),
        "keypoints": np.array([f.keypoints for f in faces], np.float32).reshape(-1, NUM_KEYPOINTS, 2),
        "scores": np.array([f.score for f in faces], np.float32),
    }


def teacher_detections(
    teacher: BlazeFaceTeacher, cache: PseudoLabelCache, key: str, image: np.ndarray
) -> dict[str, np.ndarray]:
    """BlazeFace detections of one image (boxes, keypoints, scores in pixels), cached by key."""
    compute = lambda: {k: v.tolist() for k, v in _faces_to_arrays(teacher.detect(image)).items()}  # noqa: E731
    return cache.get_or_compute(key.encode(), compute, parse=_detections)


def _detections(stored: dict) -> dict[str, np.ndarray]:
    """Stored detections as arrays; ValueError when their shapes disagree (the cache entry is then rebuilt)."""
    out = {
        "boxes": np.asarray(stored["boxes"], np.float32).reshape(-1, 4),
        "keypoints": np.asarray(stored["keypoints"], np.float32).reshape(-1, NUM_KEYPOINTS, 2),
        "scores": np.asarray(stored["scores"], np.float32).reshape(-1),
    }
    if not len(out["boxes"]) == len(out["keypoints"]) == len(out["scores"]):
        raise ValueError("stored detections of different lengths")
    return out


def _downscale(image: np.ndarray, max_side: int) -> np.ndarray:
    scale = max_side / max(image.shape[:2])
    if scale >= 1:
        return image
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def _readable(items: list, path_of, report: LoadReport, desc: str):
    """(item, RGB image) for every item whose image decodes; the others are counted in the report."""
    for item in tqdm(items, desc=desc, unit="img"):
        try:
            image = read_rgb(path_of(item))
        except ValueError:
            report.skip("unreadable image")
            continue
        yield item, image


@dataclass(frozen=True)
class AttributeBlend:
    """Knowledge distillation on the labelled crops: each target is (1 - share) x the human label + share x the
    age/gender teacher's prediction on the crop's aligned chip (cached by the crop's content)."""

    teacher: AttributeTeacher
    cache: PseudoLabelCache
    share: float

    def targets(self, key: str, image: np.ndarray, face: Face, age: float, gender: float) -> tuple[float, float]:
        """The blended age (years) and P(female) of one crop."""
        def predict() -> dict[str, float]:
            ages, female = self.teacher.predict_chips([face_chip(image, face, size=self.teacher.chip_size)])
            return {"age": float(ages[0]), "female": float(female[0])}

        told = self.cache.get_or_compute(key.encode(), predict, parse=_finite_attributes)
        return ((1 - self.share) * age + self.share * told["age"], (1 - self.share) * gender + self.share * told["female"])


def _finite_attributes(stored: dict) -> dict[str, float]:
    """A stored teacher age and P(female); ValueError when either is missing or not finite (then it is rebuilt)."""
    out = {"age": float(stored["age"]), "female": float(stored["female"])}
    if not all(np.isfinite(v) for v in out.values()):
        raise ValueError("stored teacher attributes are not finite")
    return out


def utk_sources(records: list[UtkRecord], teacher: BlazeFaceTeacher, cache: PseudoLabelCache,
                blend: AttributeBlend | None = None) -> tuple[list[SourceImage], LoadReport]:
    """UTKFace crops with human age/gender (blended with the age/gender teacher's when `blend` is given) and teacher
    box/keypoints (a fallback box where it finds none)."""
    report = LoadReport("utkface crops")
    decoded: list[tuple[np.ndarray, UtkRecord, dict]] = []
    for rec, image in _readable(records, lambda r: r.path, report, "UTKFace crops + teacher keypoints"):
        decoded.append((image, rec, teacher_detections(teacher, cache, rec.md5, image)))
    found = [d["boxes"][np.argmax(d["scores"])] / img.shape[1] for img, _, d in decoded if len(d["scores"])]
    typical_box = np.median(np.array(found), axis=0) if found else np.array([0.2, 0.25, 0.8, 0.85], np.float32)
    sources = []
    labelled = decoded if blend is None else tqdm(decoded, desc="UTKFace crops + age/gender teacher", unit="img")
    for image, rec, det in labelled:
        if len(det["scores"]):
            best = int(np.argmax(det["scores"]))
            box, kp, mask = det["boxes"][best], det["keypoints"][best], np.ones(NUM_KEYPOINTS, bool)
        else:
            report.skip("no teacher face (typical box used, keypoints unknown)")
            box = typical_box * image.shape[1]
            kp, mask = np.zeros((NUM_KEYPOINTS, 2), np.float32), np.zeros(NUM_KEYPOINTS, bool)
        age, gender = float(rec.age), float(rec.gender)
        if blend is not None:
            age, gender = blend.targets(rec.md5, image, Face(box, kp if mask.all() else None, 1.0), age, gender)
        face = LabelledFace(box.astype(np.float32), kp, mask, age, gender, 1.0)
        sources.append(SourceImage(image, (face,)))
    report.loaded = len(sources)
    return sources, report


def scene_sources(images: list[LabelledImage]) -> tuple[list[SourceImage], LoadReport]:
    """Real photos with human face boxes (keypoints and attributes unknown)."""
    report = LoadReport("scene photos")
    sources = []
    for item, image in _readable(images, lambda i: i.path, report, "scene photos"):
        faces = tuple(
            LabelledFace(f.box.astype(np.float32), np.zeros((NUM_KEYPOINTS, 2), np.float32), np.zeros(NUM_KEYPOINTS, bool))
            for f in item.faces
        )
        sources.append(SourceImage(image, faces))
    report.loaded = len(sources)
    return sources, report


def _frame_labels(frame: np.ndarray, teacher: BlazeFaceTeacher, attr_teacher: AttributeTeacher) -> dict:
    """BlazeFace boxes/keypoints plus the age/gender teacher's age and P(female) of each face."""
    det = _faces_to_arrays(teacher.detect(frame))
    chips = [face_chip(frame, Face(b, k, float(s)), size=attr_teacher.chip_size)
             for b, k, s in zip(det["boxes"], det["keypoints"], det["scores"])]
    ages, female = attr_teacher.predict_chips(chips)
    return {**{k: v.tolist() for k, v in det.items()}, "age": ages.tolist(), "female": female.tolist()}


def _frame_faces(labels: dict) -> tuple[LabelledFace, ...]:
    """Stored frame labels as faces; ValueError when their shapes disagree (the cache entry is then rebuilt)."""
    columns = (labels["boxes"], labels["keypoints"], labels["age"], labels["female"])
    if len({len(c) for c in columns}) != 1:
        raise ValueError("stored frame labels of different lengths")
    return tuple(
        LabelledFace(
            np.asarray(box, np.float32).reshape(4), np.asarray(kp, np.float32).reshape(NUM_KEYPOINTS, 2),
            np.ones(NUM_KEYPOINTS, bool), float(age), float(female), TEACHER_ATTR_WEIGHT,
        )
        for box, kp, age, female in zip(*columns)
    )


def video_sources(
    videos: list[Path], every: int, teacher: BlazeFaceTeacher, attr_teacher: AttributeTeacher, cache: PseudoLabelCache
) -> tuple[list[SourceImage], LoadReport]:
    """Video frames with BlazeFace boxes/keypoints and soft age/gender from the age/gender teacher (cached)."""
    report = LoadReport("video frames")
    sources = []
    for video in tqdm(videos, desc="video frames + teacher labels", unit="video"):
        digest = file_md5(video)
        try:
            for index, frame in iter_frames(video, every=every):
                frame = _downscale(frame, NEGATIVE_MAX_SIDE)
                key = f"{digest}:{index}:{frame.shape}".encode()
                faces = cache.get_or_compute(key, lambda: _frame_labels(frame, teacher, attr_teacher), parse=_frame_faces)
                sources.append(SourceImage(frame, faces))
        except ValueError:
            report.skip("unreadable video")
    report.loaded = len(sources)
    return sources, report


def negative_images(paths: list[Path]) -> tuple[list[np.ndarray], LoadReport]:
    """Face-free images, downscaled to at most NEGATIVE_MAX_SIDE pixels."""
    report = LoadReport("face-free images")
    images = [_downscale(image, NEGATIVE_MAX_SIDE) for _, image in _readable(paths, Path, report, "face-free images")]
    report.loaded = len(images)
    return images, report
