"""Quantization-aware training: int8 fake quantization that trains, and checkpoints that export like any other."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from exporter.checkpoint import load_model, save_checkpoint
from exporter.compress.qat import ActivationFakeQuant, WeightFakeQuant, prepare_qat
from exporter.model import build_model


def _model():
    torch.manual_seed(0)
    return build_model("facekit-xs").eval()


def test_weights_are_on_a_symmetric_int8_grid_per_channel():
    weight = torch.randn(6, 4, 3, 3)
    quantised = WeightFakeQuant()(weight)
    scale = weight.abs().amax(dim=(1, 2, 3)) / 127
    steps = quantised / scale[:, None, None, None]
    torch.testing.assert_close(steps, steps.round(), atol=1e-4, rtol=0)
    assert steps.abs().max() <= 127 + 1e-4
    assert (quantised - weight).abs().max() <= scale.max() / 2 + 1e-6


def test_a_per_tensor_model_trains_on_one_grid_per_weight_tensor():
    weight = torch.randn(6, 4, 3, 3)
    steps = WeightFakeQuant(per_tensor=True)(weight) / (weight.abs().max() / 127)
    torch.testing.assert_close(steps, steps.round(), atol=1e-4, rtol=0)
    model = _model()
    model.config = replace(model.config, int8_per_tensor=True)
    quantisers = [m for m in prepare_qat(model).modules() if isinstance(m, WeightFakeQuant)]
    assert quantisers and all(q.per_tensor for q in quantisers)


def test_activations_take_at_most_256_levels_of_their_observed_range():
    fake = ActivationFakeQuant().train()
    x = torch.linspace(-3, 5, 10_000)
    out = fake(x)
    assert out.unique().numel() <= 256
    assert float(fake.low) == -3.0 and float(fake.high) == 5.0
    assert (out - x).abs().max() <= 8 / 255 / 2 + 1e-5


def test_qat_model_quantizes_and_stays_close_to_the_float_one():
    model = _model()
    qat = prepare_qat(model)
    x = torch.rand(4, 3, 128, 128) * 2 - 1
    qat.train()(x)  # observe ranges
    with torch.no_grad():
        reference, quantised = model(x), qat.eval()(x)
    errors = [float((a - b).abs().max()) for a, b in zip(reference, quantised)]
    assert errors[0] > 0  # quantization is on
    assert errors[1] < 1.0 and errors[3] < 1.0  # score and gender logits stay close


def test_gradients_pass_the_rounding_and_batchnorm_stays_frozen():
    qat = prepare_qat(_model()).train()
    optimiser = torch.optim.SGD([p for p in qat.parameters() if p.requires_grad], lr=0.1)
    before = qat.stage8[0].pointwise.weight.detach().clone()
    norm_before = qat.stage8[0].norm.running_var.clone()
    loss = sum(o.float().pow(2).mean() for o in qat(torch.rand(2, 3, 128, 128) * 2 - 1))
    loss.backward()
    optimiser.step()
    assert not torch.equal(qat.stage8[0].pointwise.weight, before)
    assert torch.equal(qat.stage8[0].norm.running_var, norm_before)


def test_qat_checkpoint_loads_as_a_plain_model(tmp_path):
    model = _model()
    qat = prepare_qat(model)
    save_checkpoint(tmp_path / "qat.pt", qat)
    loaded, _ = load_model(tmp_path / "qat.pt", fold_batchnorm=True)
    x = torch.rand(1, 3, 128, 128) * 2 - 1
    with torch.no_grad():  # no training yet: the float model itself, BatchNorm folded in
        for a, b in zip(model(x), loaded(x)):
            torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)


def test_only_eight_bits():
    with pytest.raises(ValueError, match="must be 8"):
        prepare_qat(_model(), 4)
