"""The shipped checkpoint: small, documented, and it finds faces where the BlazeFace teacher finds them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from exporter.checkpoint import load_model
from exporter.evaluate import TorchDetector
from exporter.metrics import box_iou
from exporter.model.summary import summarize
from exporter.paths import DEFAULT_CHECKPOINT, WEIGHTS_DIR
from exporter.preprocess import read_rgb
from exporter.teachers import BlazeFaceTeacher

PHOTOS = ("astronaut.png", "obama.jpg", "biden.jpg", "obama2.jpg")


@pytest.fixture(scope="module")
def detector() -> TorchDetector:
    model, _ = load_model(DEFAULT_CHECKPOINT)
    return TorchDetector(model)


def test_checkpoint_is_small_and_within_budget():
    assert DEFAULT_CHECKPOINT.stat().st_size < 5 * 1024 * 1024
    model, payload = load_model(DEFAULT_CHECKPOINT)
    assert summarize(model).parameters <= 250_000
    assert "resume" not in payload  # no optimiser state shipped


def test_model_card_describes_this_checkpoint():
    card = json.loads((WEIGHTS_DIR / "model_card.json").read_text())
    _, payload = load_model(DEFAULT_CHECKPOINT)
    assert card["training"]["best_step"] == payload["train"]["step"]
    assert card["model"]["config"] == payload["model_config"]
    assert {"utkface_val", "facemask_val", "dlib_faces", "video_val"} <= set(card["metrics"])
    assert "non-commercial" in (WEIGHTS_DIR / "MODEL_CARD.md").read_text()


@pytest.mark.parametrize("name", PHOTOS)
def test_finds_the_face_the_teacher_finds(detector, assets, name):
    image = read_rgb(assets[name])
    teacher = BlazeFaceTeacher("short").detect(image)
    faces = detector(image)
    assert len(teacher) == 1 and len(faces) >= 1
    best = max(faces, key=lambda f: f.score)
    assert box_iou(best.box[None], teacher[0].box[None])[0, 0] >= 0.5
    side = teacher[0].box[2] - teacher[0].box[0]
    if side >= 0.2 * max(image.shape[:2]):  # keypoints of small faces (biden.jpg: 15% of the side) are coarse
        eyes_teacher, eyes = teacher[0].keypoints[:2], best.keypoints[:2]
        assert np.abs(eyes - eyes_teacher).max() < 0.15 * side  # eyes land near the teacher's
    assert 15 <= best.age <= 80  # adults in every sample photo


def test_sample_photos_genders(detector, assets):
    females = {name: max(detector(read_rgb(assets[name])), key=lambda f: f.score).female for name in PHOTOS}
    assert females["astronaut.png"] > 0.5  # Eileen Collins
    assert sum(females[n] < 0.5 for n in ("obama.jpg", "biden.jpg", "obama2.jpg")) >= 2
