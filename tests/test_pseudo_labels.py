"""Content-keyed teacher-output cache."""

from __future__ import annotations

import pytest

from exporter.pseudo_labels import PseudoLabelCache


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
