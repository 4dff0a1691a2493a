"""BlazeFace and age/gender teachers on real photos fetched from the package registries."""

from __future__ import annotations

import numpy as np
import pytest

from exporter.assets import ensure_assets
from exporter.postprocess import Face
from exporter.image_io import read_rgb
from exporter.teachers import AgeGenderTeacher, BlazeFaceTeacher, face_chip, whole_crop_chip

PHOTOS = ("astronaut.png", "obama.jpg", "biden.jpg", "obama2.jpg")


@pytest.fixture(scope="module")
def images() -> dict[str, np.ndarray]:
    paths = ensure_assets(progress=False)
    return {name: read_rgb(paths[name]) for name in PHOTOS}


@pytest.fixture(scope="module")
def short_faces(images) -> dict[str, Face]:
    teacher = BlazeFaceTeacher("short")
    found = {name: teacher.detect(image) for name, image in images.items()}
    assert all(len(faces) == 1 for faces in found.values()), {k: len(v) for k, v in found.items()}
    return {name: faces[0] for name, faces in found.items()}


@pytest.fixture(scope="module")
def age_gender() -> AgeGenderTeacher:
    ensure_assets(progress=False)
    return AgeGenderTeacher()


@pytest.mark.parametrize("variant", ["short", "full"])
@pytest.mark.parametrize("name", ["astronaut.png", "obama.jpg"])
def test_blazeface_finds_one_face_with_keypoints_in_order(images, variant, name):
    image = images[name]
    faces = BlazeFaceTeacher(variant).detect(image)
    assert len(faces) == 1
    face = faces[0]
    h, w = image.shape[:2]
    xmin, ymin, xmax, ymax = face.box
    assert 0 <= xmin < xmax <= w and 0 <= ymin < ymax <= h
    right_eye, left_eye, nose, mouth = face.keypoints[:4]
    assert right_eye[0] < left_eye[0]  # subject's right eye is on the image left
    assert right_eye[0] < nose[0] < left_eye[0]
    assert nose[1] > max(right_eye[1], left_eye[1]) and mouth[1] > nose[1]
    assert np.all((face.keypoints[:4] >= [xmin, ymin]) & (face.keypoints[:4] <= [xmax, ymax]))


def test_blazeface_raw_shapes_and_input_check():
    teacher = BlazeFaceTeacher("full")
    regressors, logits = teacher.raw(np.zeros((192, 192, 3), np.uint8))
    assert regressors.shape == (2304, 16) and logits.shape == (2304,)
    with pytest.raises(ValueError, match="letterbox"):
        teacher.raw(np.zeros((128, 128, 3), np.uint8))


def test_face_chip_with_and_without_keypoints(images, short_faces):
    chip = face_chip(images["obama.jpg"], short_faces["obama.jpg"], 64)
    assert chip.shape == (64, 64, 3) and chip.dtype == np.uint8
    boxed = face_chip(images["obama.jpg"], Face(box=short_faces["obama.jpg"].box, keypoints=None, score=1.0), 32)
    assert boxed.shape == (32, 32, 3)


def test_age_gender_on_real_photos(images, short_faces, age_gender):
    chips = [face_chip(images[name], short_faces[name]) for name in PHOTOS]
    ages, female = age_gender.predict_chips(chips)
    assert ages.shape == female.shape == (len(PHOTOS),)
    by_name = dict(zip(PHOTOS, zip(ages, female)))
    assert by_name["astronaut.png"][1] > 0.5
    for man in ("obama.jpg", "biden.jpg", "obama2.jpg"):
        assert by_name[man][1] < 0.5, man
    assert all(18 <= age <= 80 for age in ages)
    assert by_name["biden.jpg"][0] > by_name["astronaut.png"][0]


def test_age_gender_batching_matches_single(images, short_faces, age_gender):
    chips = [face_chip(images[name], short_faces[name]) for name in PHOTOS] + [whole_crop_chip(images["obama.jpg"])]
    ages, female = age_gender.predict_chips(chips)
    one_age, one_female = age_gender.predict_chips(chips[1:2])
    np.testing.assert_allclose([ages[1], female[1]], [one_age[0], one_female[0]], rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="uint8"):
        age_gender.predict_chips([chips[0].astype(np.float32)])
