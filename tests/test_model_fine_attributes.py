"""Fine attribute features: the 8x8 age/gender branch also reads the 16x16 map, and turning them on changes nothing."""

from __future__ import annotations

import pytest
import torch

from exporter.compress.prune import channel_norms, prune_channels
from exporter.model.fine_attributes import with_fine_attributes
from exporter.model.registry import build_model
from tests.test_model_widen import _trained_looking


def test_fine_attributes_start_silent_and_can_learn():
    model = _trained_looking(build_model("facekit-xs"))
    finer = with_fine_attributes(model)
    ch16, ch8 = model.stage16[-1].pointwise.out_channels, model.stage8[-1].pointwise.out_channels
    assert finer.attr8.depthwise.in_channels == finer.attr8.pointwise.in_channels == ch8 + ch16
    x = torch.rand(2, 3, 128, 128) * 2 - 1
    with torch.no_grad():
        before, after = model.eval()(x), finer.eval()(x)
    for old, new in zip(before, after):
        torch.testing.assert_close(new, old, rtol=0, atol=1e-6)
    finer.train()
    finer(x)[2].sum().backward()  # age
    assert finer.attr8.pointwise.weight.grad[:, ch8:].abs().sum() > 0  # the added inputs get a gradient


def test_fine_attributes_fold_and_are_refused_twice_and_by_pruning():
    finer = with_fine_attributes(_trained_looking(build_model("facekit-xs"))).eval()
    x = torch.rand(1, 3, 128, 128) * 2 - 1
    with torch.no_grad():
        finer.attr8.pointwise.weight.normal_(0.0, 0.1)
        unfolded = finer(x)
        folded = finer.fold_batchnorm()(x)
    for a, b in zip(unfolded, folded):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="already reads the 16x16 map"):
        with_fine_attributes(with_fine_attributes(build_model("facekit-xs")))
    with pytest.raises(ValueError, match="do not follow the 16x16 channels"):
        prune_channels(with_fine_attributes(build_model("facekit-xs")), 0.25)
    with pytest.raises(ValueError, match="do not follow the 16x16 channels"):  # the width search ranks channels first
        channel_norms(with_fine_attributes(build_model("facekit-xs")))
