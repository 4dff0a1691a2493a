"""Binned age heads: age is the mean of a softmax over bins, and turning them on keeps every other output."""

from __future__ import annotations

import pytest
import torch

from exporter.model.age_bins import with_age_bins
from exporter.model.blazeface import ModelConfig, age_bin_centres
from exporter.model.registry import build_model
from exporter.train.loss import LossWeights, TargetBatch, age_label_kl, multitask_loss
from tests.test_model_widen import _trained_looking


def test_binned_age_is_the_mean_of_the_bins_softmax():
    model = with_age_bins(_trained_looking(build_model("facekit-xs")), 11).eval()
    assert model.attr8.age.out_channels == 6 * 11 and model.attr16.age.out_channels == 2 * 11
    x = torch.rand(2, 3, 128, 128) * 2 - 1
    with torch.no_grad():
        (_, _, age, _), probabilities = model.forward_with_age_bins(x)
    assert probabilities.shape == (2, 896, 11)
    torch.testing.assert_close(probabilities.sum(-1), torch.ones(2, 896))
    torch.testing.assert_close(age[..., 0], (probabilities * age_bin_centres(11)).sum(-1))
    assert age.shape == (2, 896, 1) and 0.0 <= age.min() and age.max() <= 1.0
    assert abs(age.mean().item() - 0.3) < 0.1  # the new heads start near 30 years


def test_binning_keeps_the_other_outputs_and_is_refused_twice():
    model = _trained_looking(build_model("facekit-xs"))
    binned = with_age_bins(model, 21).eval()
    x = torch.rand(2, 3, 128, 128) * 2 - 1
    with torch.no_grad():
        before, after = model(x), binned(x)
    for i in (0, 1, 3):  # regressors, scores, gender
        torch.testing.assert_close(after[i], before[i], rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match="already reads age from 21 bins"):
        with_age_bins(binned, 11)


@pytest.mark.parametrize("bins", [1, -3, 102, 2.5])
def test_impossible_bin_counts_are_refused(bins):
    with pytest.raises(ValueError, match="age_bins"):
        ModelConfig(age_bins=bins)


def test_label_distribution_loss_prefers_the_true_age():
    centres = age_bin_centres(21)
    age = torch.tensor([[0.42]])
    right = torch.softmax(-((centres - 0.42) ** 2) / (2 * 0.05**2), -1)[None, None]
    wrong = torch.softmax(-((centres - 0.80) ** 2) / (2 * 0.05**2), -1)[None, None]
    assert age_label_kl(right, age).item() < 0.05 < 1.0 < age_label_kl(wrong, age).item()


def test_multitask_loss_adds_the_weighted_bin_term():
    a = 896
    targets = TargetBatch(label=torch.zeros(1, a, dtype=torch.int8), regressors=torch.zeros(1, a, 16),
                          keypoint_mask=torch.zeros(1, a, 6, dtype=torch.bool), age=torch.full((1, a), float("nan")),
                          gender=torch.full((1, a), float("nan")), attr_weight=torch.ones(1, a))
    targets.label[0, 5], targets.age[0, 5] = 1, 0.8
    outputs = (torch.zeros(1, a, 16), torch.zeros(1, a, 1), torch.full((1, a, 1), 0.8), torch.zeros(1, a, 1))
    uniform = torch.full((1, a, 21), 1 / 21)
    scales, weights = torch.full((a,), 0.1), LossWeights(age_distribution=2.0)
    without, _ = multitask_loss(outputs, targets, scales, 128, weights)
    with_bins, parts = multitask_loss(outputs, targets, scales, 128, weights, uniform)
    assert parts["age_kl"] > 1.0
    torch.testing.assert_close(with_bins - without, torch.tensor(2.0 * parts["age_kl"]))
