"""--age-balance: UTKFace crops drawn so that rarer (older) 10-year age bands come up more often."""

from __future__ import annotations

import numpy as np
import pytest

from exporter.train.samples import LabelledFace, SamplePools, SourceImage, age_balanced_odds, zoomed_crop

AGES = np.array([25.0] * 90 + [65.0] * 10)  # 90 crops in the 20s, 10 in the 60s


@pytest.mark.parametrize("power, old_share", [(0.0, 0.10), (0.5, 10**0.5 / (10**0.5 + 90**0.5)), (1.0, 0.50)])
def test_a_bands_share_goes_as_its_count_to_the_power_one_minus_the_exponent(power, old_share):
    odds = age_balanced_odds(AGES, power)
    assert odds.sum() == pytest.approx(1.0)
    assert odds[AGES > 60].sum() == pytest.approx(old_share)
    assert len(set(odds[AGES < 60])) == 1  # crops of one band stay alike


def test_the_oldest_ages_share_one_band():
    odds = age_balanced_odds(np.array([80.0, 95.0, 116.0, 30.0]), 1.0)
    assert odds == pytest.approx([1 / 6, 1 / 6, 1 / 6, 1 / 2])


def test_samples_follow_the_odds():
    background = np.zeros((64, 64, 3), np.uint8)
    crops = [SourceImage(np.full((40, 40, 3), int(age), np.uint8),
                         (LabelledFace(np.array([5, 5, 35, 35], np.float32), np.zeros((6, 2), np.float32),
                                       np.ones(6, bool), float(age), 0.0, 1.0),)) for age in AGES]
    rng = np.random.default_rng(0)
    for odds, expected in ((None, 0.10), (age_balanced_odds(AGES, 1.0), 0.50)):
        pools = SamplePools(crops, [background], crop_odds=odds)
        drawn = [zoomed_crop(rng, pools, 32)[1][0].age for _ in range(600)]
        assert np.mean(np.array(drawn) > 60) == pytest.approx(expected, abs=0.06)
