"""widen_attributes: a wider age/gender branch that starts with exactly the narrower model's outputs."""

from __future__ import annotations

import pytest
import torch

from exporter.model.registry import build_model
from exporter.model.widen import widen_attributes


def _trained_looking(model):
    """Random BatchNorm statistics and head weights, as after some training (a fresh model's are trivial)."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if tensor.is_floating_point():
                noise = torch.rand(tensor.shape, generator=generator)
                tensor.copy_(noise + 0.5 if name.endswith("running_var") else tensor + 0.1 * (noise - 0.5))
    return model.eval()


def test_widened_model_keeps_every_output_and_has_the_new_width():
    model = _trained_looking(build_model("facekit-xs"))
    wider = widen_attributes(model, 40).eval()
    assert wider.config.attr_channels == 40 and wider.attr8.pointwise.out_channels == 40
    assert wider.attr16.age.weight.shape[1] == 40 and not wider.training
    x = torch.rand(2, 3, 128, 128) * 2 - 1
    with torch.no_grad():
        for before, after in zip(model(x), wider(x)):
            torch.testing.assert_close(after, before, rtol=0, atol=1e-5)
    assert sum(p.numel() for p in wider.parameters()) > sum(p.numel() for p in model.parameters())


def test_narrowing_or_a_folded_model_is_refused():
    model = build_model("facekit-xs")
    with pytest.raises(ValueError, match="would narrow .* pass at least 16"):
        widen_attributes(model, 8)
    with pytest.raises(ValueError, match="BatchNorm folded"):
        widen_attributes(model.eval().fold_batchnorm(), 32)
