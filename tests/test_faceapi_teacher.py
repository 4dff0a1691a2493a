"""face-api's age/gender network rebuilt from its TF.js weights, on real photos from the package registries."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from exporter.assets import AssetError, ensure_assets
from exporter.eval.scores import teacher_attribute_detector
from exporter.faceapi_teacher import INPUT_SIZE, FaceApiAgeGender, _decode
from exporter.image_io import read_rgb
from exporter.postprocess import DecodeConfig
from exporter.teachers import BlazeFaceTeacher, face_chip

PHOTOS = ("astronaut.png", "obama.jpg", "biden.jpg", "obama2.jpg")


@pytest.fixture(scope="module")
def teacher() -> FaceApiAgeGender:
    ensure_assets(progress=False)
    return FaceApiAgeGender()


@pytest.fixture(scope="module")
def chips() -> list[np.ndarray]:
    paths = ensure_assets(progress=False)
    detector = BlazeFaceTeacher("short")
    out = []
    for name in PHOTOS:
        image = read_rgb(paths[name])
        out.append(face_chip(image, max(detector.detect(image), key=lambda f: f.score), size=INPUT_SIZE))
    return out


def test_every_weight_of_the_manifest_is_read(teacher):
    assert len(teacher.w) == 51
    assert teacher.w["exit_flow/separable_conv/pointwise_filter"].shape == (1, 1, 256, 512)
    assert teacher.w["fc/gender/weights"].shape == (512, 2)


def test_gender_and_age_on_real_photos(teacher, chips):
    """A wrong transpose or padding gives near-constant outputs; the rebuilt graph tells these faces apart."""
    ages, female = teacher.predict_chips(chips)
    by_name = dict(zip(PHOTOS, zip(ages, female)))
    assert by_name["astronaut.png"][1] > 0.8
    for man in ("obama.jpg", "biden.jpg", "obama2.jpg"):
        assert by_name[man][1] < 0.2, man
        assert by_name[man][0] > 40, man
    assert by_name["biden.jpg"][0] > by_name["astronaut.png"][0] + 15


def test_batching_and_resizing_match_single_chips(teacher, chips):
    ages, female = teacher.predict_chips(chips)
    one_age, one_female = teacher.predict_chips([chips[1]])
    assert one_age[0] == pytest.approx(ages[1], abs=1e-3) and one_female[0] == pytest.approx(female[1], abs=1e-5)
    big_age, _ = teacher.predict_chips([np.repeat(np.repeat(chips[1], 2, axis=0), 2, axis=1)])
    assert abs(big_age[0] - ages[1]) < 2.0  # a 224 px chip is area-resized to 112 first
    assert teacher.predict_chips([])[0].shape == (0,)
    with pytest.raises(ValueError, match="uint8"):
        teacher.predict_chips([chips[0].astype(np.float32)])


def test_weights_are_dequantised_and_a_short_or_long_binary_is_refused(tmp_path):
    manifest = [{"paths": ["w.bin"], "weights": [
        {"name": "q", "shape": [2, 2], "dtype": "float32", "quantization": {"dtype": "uint8", "scale": 0.5, "min": -1.0}},
        {"name": "f", "shape": [3], "dtype": "float32"},
    ]}]
    blob = bytes([0, 1, 2, 255]) + np.array([1.5, -2.0, 3.25], np.float32).tobytes()
    weights = _decode(manifest, blob, tmp_path / "w.bin")
    assert weights["q"].tolist() == [[-1.0, -0.5], [0.0, 126.5]]
    assert weights["f"].tolist() == [1.5, -2.0, 3.25]
    with pytest.raises(ValueError, match="ends before weight f.*facekit assets"):
        _decode(manifest, blob[:-4], tmp_path / "w.bin")
    with pytest.raises(ValueError, match="4 bytes beyond"):
        _decode(manifest, blob + bytes(4), tmp_path / "w.bin")


def test_a_damaged_weights_file_is_refused_with_the_fix(tmp_path):
    paths = ensure_assets(progress=False)
    (tmp_path / "assets").mkdir()
    for name in ("faceapi_age_gender_manifest.json", "faceapi_age_gender_model.bin"):
        shutil.copy(paths[name], tmp_path / "assets" / name)
    blob = tmp_path / "assets" / "faceapi_age_gender_model.bin"
    blob.write_bytes(blob.read_bytes()[:-100])
    with pytest.raises(AssetError, match="facekit assets"):
        FaceApiAgeGender(cache=tmp_path)


def test_eval_reads_the_teacher_through_its_own_chip_size(teacher, chips):
    """`facekit eval` scores face-api on the 112 px chip it was measured on, not the dlib pair's 64 px one."""
    paths = ensure_assets(progress=False)
    image = read_rgb(paths["obama.jpg"])
    faces = teacher_attribute_detector(BlazeFaceTeacher("short"), teacher)(image, DecodeConfig())
    age, female = teacher.predict_chips([chips[PHOTOS.index("obama.jpg")]])
    assert len(faces) == 1 and faces[0].age == pytest.approx(age[0], abs=1e-3) and faces[0].female < 0.2
