"""Knowledge distillation on the labelled crops: blended age/gender targets from a cached teacher."""

from __future__ import annotations

import numpy as np
import pytest

from exporter.postprocess import Face
from exporter.pseudo_labels import PseudoLabelCache
from exporter.train.pools import AttributeBlend


class CountingTeacher:
    """Stands in for an attribute teacher: a fixed age and P(female), counting its calls."""

    def __init__(self, age: float, female: float, chip_size: int = 64) -> None:
        self.age, self.female, self.chip_size, self.calls = age, female, chip_size, 0

    def predict_chips(self, chips):
        self.calls += 1
        assert chips[0].shape == (self.chip_size, self.chip_size, 3) and chips[0].dtype == np.uint8
        return np.full(len(chips), self.age, np.float32), np.full(len(chips), self.female, np.float32)


def _face() -> tuple[np.ndarray, Face]:
    image = np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8)
    return image, Face(np.array([40, 40, 160, 160], np.float32), None, 1.0)


@pytest.mark.parametrize("share, expected", [(0.0, (60.0, 0.0)), (0.5, (50.0, 0.4)), (1.0, (40.0, 0.8))])
def test_targets_are_the_share_weighted_mean_of_label_and_teacher(tmp_path, share, expected):
    image, face = _face()
    blend = AttributeBlend(CountingTeacher(40.0, 0.8), PseudoLabelCache("t", root=tmp_path), share)
    assert blend.targets("crop-md5", image, face, age=60.0, gender=0.0) == pytest.approx(expected)


def test_teacher_runs_once_per_crop_and_a_damaged_entry_is_rebuilt(tmp_path):
    image, face = _face()
    teacher = CountingTeacher(30.0, 0.2)
    blend = AttributeBlend(teacher, PseudoLabelCache("t", root=tmp_path), 0.5)
    first = blend.targets("crop-md5", image, face, age=20.0, gender=1.0)
    assert blend.targets("crop-md5", image, face, age=20.0, gender=1.0) == first and teacher.calls == 1
    blend.cache.path_for(b"crop-md5").write_text('{"age": NaN, "female": 0.2}')
    assert blend.targets("crop-md5", image, face, age=20.0, gender=1.0) == first and teacher.calls == 2


@pytest.mark.parametrize("chip_size", [64, 112])
def test_the_teacher_reads_a_chip_of_its_own_size(tmp_path, chip_size):
    image, face = _face()
    teacher = CountingTeacher(30.0, 0.2, chip_size)
    AttributeBlend(teacher, PseudoLabelCache("t", root=tmp_path), 0.5).targets("crop-md5", image, face, 20.0, 1.0)
    assert teacher.calls == 1  # predict_chips asserted the chip's side
