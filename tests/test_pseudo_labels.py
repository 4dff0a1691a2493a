"""Content-keyed teacher-output cache and BlazeFace pseudo-labels over image files."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from exporter.assets import ensure_assets
from exporter.pseudo_labels import PseudoLabelCache, blazeface_labels, blazeface_teacher_id
from exporter.teachers import BlazeFaceTeacher


class Counter:
    """A compute function that counts its calls."""

    def __init__(self, value: dict) -> None:
        self.value, self.calls = value, 0

    def __call__(self) -> dict:
        self.calls += 1
        return self.value


def test_second_call_is_a_cache_hit(tmp_path):
    cache = PseudoLabelCache("teacher-a", root=tmp_path)
    image = tmp_path / "a.jpg"
    image.write_bytes(b"pixels")
    compute = Counter({"faces": [1, 2]})
    assert cache.get_or_compute(image, compute) == {"faces": [1, 2]}
    assert cache.get_or_compute(image, compute) == {"faces": [1, 2]}
    assert compute.calls == 1
    assert not list(tmp_path.rglob("*.part"))


def test_key_follows_content_frame_and_teacher(tmp_path):
    cache = PseudoLabelCache("teacher-a", root=tmp_path)
    image = tmp_path / "a.jpg"
    image.write_bytes(b"pixels")
    before = cache.path_for(image)
    assert cache.path_for(b"pixels") == before
    assert cache.path_for(image, frame=3) != before
    assert PseudoLabelCache("teacher-b", root=tmp_path).path_for(image) != before
    image.write_bytes(b"other pixels")
    assert cache.path_for(image) != before
    compute = Counter({"x": 1})
    cache.get_or_compute(image, compute)
    assert compute.calls == 1


def test_teacher_id_must_be_a_safe_folder_name(tmp_path):
    with pytest.raises(ValueError, match="teacher_id"):
        PseudoLabelCache("../escape", root=tmp_path)


def test_blazeface_labels_cache_and_skip_unreadable(tmp_path):
    paths = ensure_assets(["astronaut.png", "obama.jpg"], progress=False)
    copy = tmp_path / "renamed.png"
    shutil.copy(paths["astronaut.png"], copy)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 truncated")
    files = [paths["astronaut.png"], paths["obama.jpg"], broken, tmp_path / "missing.jpg", copy]
    teacher = BlazeFaceTeacher("short")
    cache = PseudoLabelCache(blazeface_teacher_id(teacher), root=tmp_path / "labels")
    with pytest.warns(UserWarning, match="skipped 2 unreadable of 5"):
        first = blazeface_labels(files, teacher, cache, progress=False)
    assert set(first) == {paths["astronaut.png"], paths["obama.jpg"], copy}
    assert all(len(faces) == 1 for faces in first.values())
    assert len(list((tmp_path / "labels").rglob("*.json"))) == 2  # the renamed copy shares its content key

    class NoRun(BlazeFaceTeacher):
        def detect(self, image_rgb, config=None):
            raise AssertionError("cache miss on a second run")

    with pytest.warns(UserWarning, match="skipped 2"):
        second = blazeface_labels(files, NoRun("short"), cache, progress=False)
    for path, faces in first.items():
        np.testing.assert_allclose(second[path][0].keypoints, faces[0].keypoints, atol=1e-5)
        assert second[path][0].score == pytest.approx(faces[0].score, abs=1e-6)


def test_blazeface_labels_rejects_a_cache_of_another_teacher(tmp_path):
    ensure_assets(["blazeface_short_range.tflite"], progress=False)
    with pytest.raises(ValueError, match="blazeface_teacher_id"):
        blazeface_labels([], BlazeFaceTeacher("short"), PseudoLabelCache("other", root=tmp_path), progress=False)
