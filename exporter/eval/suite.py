"""Every evaluation of `facekit eval`: the student and the teachers scored on the same report (held-out) sets."""

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
    score_utkface_looks,
    teacher_attribute_detector,
)
from exporter.faceapi_teacher import FaceApiAgeGender
from exporter.second_look import SecondLook
from exporter.teachers import AgeGenderTeacher, BlazeFaceTeacher

CANVASES = (1, 2, 3)  # the crop filling the input; centred on a black canvas 2x and 3x its side
SMALL_FACE_CROPS = 640  # 2x and 3x are scored on this many report crops, evenly spread (1x on all of them)


def face_size_key(canvas: int) -> str:
    """Metrics key of a face size: '1x', '2x', '3x' (the canvas side over the crop side)."""
    return f"{canvas}x"


def crops_at(utk: list, canvas: int) -> list:
    """The report crops scored at one face size: all of them filling the input, SMALL_FACE_CROPS of them smaller."""
    return utk if canvas == 1 else evenly(utk, SMALL_FACE_CROPS)


def evaluate_all(model, data_root: Path, teachers: bool = True, video_every: int = 10, utk_limit: int | None = None) -> dict:
    """Scores of the model (and, with teachers=True, of BlazeFace short/full-range and both age/gender teachers).

    Age and gender are scored at every face size of CANVASES, with the model alone (`facekit`) and with the
    reference pipeline's second look (`facekit_second_look`, sharing the first run); detection runs the model alone.
    """
    splits = load_splits(data_root)
    student = Detector.from_torch(model, second_look=None)
    look = SecondLook()
    detectors: dict[str, FaceDetector] = {"facekit": student}
    short = BlazeFaceTeacher("short")
    if teachers:
        detectors["blazeface_short"] = short.detect
        detectors["blazeface_full"] = BlazeFaceTeacher("full").detect
    utk = evenly(splits.utk_report, utk_limit)
    section: dict = {"crops": len(utk), "second_look": asdict(look), "facekit": {}, "facekit_second_look": {}}
    for canvas in CANVASES:  # the smaller sizes cost two model runs a crop: a subset keeps eval within minutes
        alone, again = score_utkface_looks(student, crops_at(utk, canvas), look, canvas=canvas)
        section["facekit"][face_size_key(canvas)] = asdict(alone)
        section["facekit_second_look"][face_size_key(canvas)] = asdict(again)
    if teachers:  # faceapi_teacher trained on UTKFace: its figures here are optimistic (the card says so)
        for name, attributes in (("age_gender_teacher", AgeGenderTeacher()), ("faceapi_teacher", FaceApiAgeGender())):
            section[name] = {face_size_key(1): asdict(score_utkface(teacher_attribute_detector(short, attributes), utk))}
    results: dict = {"utkface_report": section}
    for name, images in (("facemask_report", splits.scenes_report), ("dlib_faces", dlib_images(data_root))):
        if images:
            results[name] = {key: asdict(score_scenes(det, images)) for key, det in detectors.items()}
    if splits.videos_report:
        results["video_report"] = {
            "files": [p.name for p in splits.videos_report],
            "every_nth_frame": video_every,
            "reference": "blazeface_short",
            "facekit": asdict(score_against(student, short.detect, splits.videos_report, video_every)),
        }
        if teachers:
            results["video_report"]["blazeface_full"] = asdict(
                score_against(detectors["blazeface_full"], short.detect, splits.videos_report, video_every)
            )
    return results
