"""The model registry: every variant builds, gives the four outputs per anchor, and uses only portable ops."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from exporter.model import MODEL_VARIANTS, build_model
from exporter.model.blazeface import SameConv2d
from exporter.spec import OUTPUT_NAMES
from exporter.model.registry import DEFAULT_VARIANT
from exporter.model.summary import summarize
from exporter.postprocess import FRONT_ANCHORS, NUM_REGRESSORS, generate_anchors

NUM_ANCHORS = len(generate_anchors(FRONT_ANCHORS))
PORTABLE_MODULES = (nn.Conv2d, nn.ReLU, nn.MaxPool2d, nn.Identity, nn.Sequential)
TRAINING_ONLY = (nn.BatchNorm2d,)  # folded into the convs before export


@pytest.mark.parametrize("variant", list(MODEL_VARIANTS))
def test_outputs_per_anchor(variant):
    model = build_model(variant).eval()
    with torch.no_grad():
        outputs = model(torch.rand(2, 3, 128, 128) * 2 - 1)
    assert len(outputs) == len(OUTPUT_NAMES)
    shapes = [tuple(o.shape) for o in outputs]
    assert shapes == [(2, NUM_ANCHORS, NUM_REGRESSORS), (2, NUM_ANCHORS, 1), (2, NUM_ANCHORS, 1), (2, NUM_ANCHORS, 1)]
    assert all(torch.isfinite(o).all() for o in outputs)


@pytest.mark.parametrize("variant", list(MODEL_VARIANTS))
def test_only_portable_layers_once_folded(variant):
    model = build_model(variant)
    leaves = [m for m in model.modules() if not list(m.children())]
    assert all(isinstance(m, PORTABLE_MODULES + TRAINING_ONLY) for m in leaves), {type(m).__name__ for m in leaves}
    folded = [m for m in model.eval().fold_batchnorm().modules() if not list(m.children())]
    assert all(isinstance(m, PORTABLE_MODULES) for m in folded), {type(m).__name__ for m in folded}
    depthwise = [m for m in leaves if isinstance(m, nn.Conv2d) and m.groups > 1]
    assert depthwise and all(m.kernel_size == (3, 3) and m.groups == m.in_channels for m in depthwise)


def test_default_variant_within_parameter_budget():
    summary = summarize(build_model(DEFAULT_VARIANT))
    assert summary.parameters <= 250_000
    assert 10e6 < summary.macs < 100e6
    assert "parameters" in str(summary) and "MACs" in str(summary)


def test_width_knob_orders_sizes():
    sizes = {name: summarize(build_model(name)).parameters for name in MODEL_VARIANTS}
    assert sizes["facekit-xs"] < sizes["facekit-s"] < sizes["facekit-m"]


def test_anchor_order_matches_feature_maps():
    """A response at one 16x16 cell must land on that cell's anchors (row-major, 2 per cell)."""
    model = build_model("facekit-xs").eval()
    feature = torch.zeros(1, model.score16.in_channels, 16, 16)
    feature[0, :, 3, 5] = 1.0  # row 3, column 5
    with torch.no_grad():
        nn.init.zeros_(model.score16.bias)
        scores = model.score16(feature)
        flat = scores.permute(0, 2, 3, 1).reshape(1, -1)
    hot = torch.nonzero(flat[0]).flatten().tolist()
    assert set(hot) <= {(3 * 16 + 5) * 2, (3 * 16 + 5) * 2 + 1}
    anchors = generate_anchors(FRONT_ANCHORS)
    assert anchors[(3 * 16 + 5) * 2, 0] == pytest.approx(5.5 / 16)
    assert anchors[(3 * 16 + 5) * 2, 1] == pytest.approx(3.5 / 16)


def test_unknown_variant_lists_valid_ones():
    with pytest.raises(ValueError, match="facekit-s"):
        build_model("facekit-xxl")


def test_folding_batchnorm_keeps_outputs():
    model = build_model("facekit-xs")
    with torch.no_grad():
        for _ in range(3):  # move the running statistics away from their defaults
            model(torch.randn(8, 3, 128, 128))
    model.eval()
    x = torch.rand(2, 3, 128, 128) * 2 - 1
    with torch.no_grad():
        before = model(x)
        after = model.fold_batchnorm()(x)
    for a, b in zip(before, after):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-4)


def test_folding_needs_eval_mode():
    with pytest.raises(RuntimeError, match="eval mode"):
        build_model("facekit-xs").fold_batchnorm()


@pytest.mark.parametrize(("kernel", "stride"), [(3, 1), (3, 2), (5, 2)])
def test_same_conv_matches_tensorflow_same_output_size_and_alignment(kernel, stride):
    conv = SameConv2d(1, 1, kernel, stride=stride)
    nn.init.zeros_(conv.bias)
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[0, 0, 0, 0] = 1.0  # picks the window's top-left input
    x = torch.arange(1.0, 65.0).reshape(1, 1, 8, 8)
    y = conv(x)
    assert y.shape[-1] == 8 // stride
    # TensorFlow SAME pads (kernel - stride) // 2 before: the first window starts that many pixels before 0.
    before = (kernel - stride) // 2
    expected = 0.0 if before else x[0, 0, 0, 0].item()
    assert y[0, 0, 0, 0].item() == expected
    assert y[0, 0, 1, 1].item() == x[0, 0, stride - before, stride - before].item()
