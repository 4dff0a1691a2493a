"""A model with the optional heads (age bins, fine attribute features) exports like the shipped one: the bins' softmax
and mean stay inside the graph (SOFTMAX and FULLY_CONNECTED in TFLite, softmax and linear in Core ML), the 8x8 branch's
pooled 16x16 input too, the outputs keep the contract's shapes, and LiteRT matches PyTorch."""

from __future__ import annotations

import pytest
import torch

from exporter.checkpoint import load_model, save_checkpoint
from exporter.export.pipeline import VERIFIED, export
from exporter.model.age_bins import with_age_bins
from exporter.model.fine_attributes import with_fine_attributes
from exporter.paths import DEFAULT_CHECKPOINT


@pytest.fixture(scope="module")
def binned_checkpoint(tmp_path_factory):
    """The shipped checkpoint with new 21-bin age heads and fine attribute features (untrained: the graph matters)."""
    path = tmp_path_factory.mktemp("bins") / "binned.pt"
    model = with_fine_attributes(with_age_bins(load_model(DEFAULT_CHECKPOINT)[0], 21))
    with torch.no_grad():  # the pooled 16x16 inputs start silent; give them weight so verification compares that path
        model.attr8.pointwise.weight.normal_(0.0, 0.05)
    save_checkpoint(path, model)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("target", ["android", "ios"])
def test_binned_model_exports_and_verifies(binned_checkpoint, tmp_path, target):
    _, rows = export(target, binned_checkpoint, None, tmp_path / "exports", precisions=["fp32", "fp16", "int8"],
                     app_root=None, log=lambda *_: None)
    by_format = {(r.artifact.format, r.artifact.precision): r for r in rows}
    assert by_format[("onnx", "fp32")].status == VERIFIED
    if target == "ios":  # Core ML is converted and checked here, verified only on macOS
        checks = by_format[("coreml", "fp16")].artifact.checks
        assert {"softmax", "linear"} <= set(checks["ops"]) and checks["output_order_ok"]
        return
    for precision in ("fp32", "fp16", "int8"):
        row = by_format[("tflite", precision)]
        assert row.status == VERIFIED, (precision, row.note)
        assert {"SOFTMAX", "FULLY_CONNECTED"} <= set(row.artifact.checks["ops"])
        assert [o["shape"] for o in row.artifact.io["outputs"]] == [[1, 896, 16], [1, 896, 1], [1, 896, 1], [1, 896, 1]]
    assert by_format[("tflite", "fp32")].artifact.checks["ops_outside_gpu_set"] == []
    assert by_format[("tflite", "int8")].artifact.checks["non_int8_tensors"] == []
