"""Every evaluation of `facekit eval`: the student and the teachers scored on the same held-out sets."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from exporter.data.layout import dlib_images, load_splits
from exporter.data.splits import evenly
from exporter.detector import Detector
from exporter.eval.scores import (
    FaceDetector,
    score_against,
    score_scenes,
    score_utkface,
    teacher_attribute_detector,
)
from exporter.teachers import AgeGenderTeacher, BlazeFaceTeacher


def evaluate_all(model, data_root: Path, teachers: bool = True, video_every: int = 10, utk_limit: int | None = None) -> dict:
    """Scores of the model (and, with teachers=True, of BlazeFace short/full-range and the age/gender teacher)."""
    splits = load_splits(data_root)
    student = Detector.from_torch(model)
    detectors: dict[str, FaceDetector] = {"facekit": student}
    short = BlazeFaceTeacher("short")
    if teachers:
        detectors["blazeface_short"] = short.detect
        detectors["blazeface_full"] = BlazeFaceTeacher("full").detect
    utk_val = evenly(splits.utk_val, utk_limit)
    results: dict = {"utkface_val": {"crops": len(utk_val), "facekit": asdict(score_utkface(student, utk_val))}}
    if teachers:
        attr_teacher = teacher_attribute_detector(short, AgeGenderTeacher())
        results["utkface_val"]["age_gender_teacher"] = asdict(score_utkface(attr_teacher, utk_val))
    for name, images in (("facemask_val", splits.scenes_val), ("dlib_faces", dlib_images(data_root))):
        if images:
            results[name] = {key: asdict(score_scenes(det, images)) for key, det in detectors.items()}
    if splits.videos_val:
        results["video_val"] = {
            "files": [p.name for p in splits.videos_val],
            "every_nth_frame": video_every,
            "reference": "blazeface_short",
            "facekit": asdict(score_against(student, short.detect, splits.videos_val, video_every)),
        }
        if teachers:
            results["video_val"]["blazeface_full"] = asdict(
                score_against(detectors["blazeface_full"], short.detect, splits.videos_val, video_every)
            )
    return results
