"""ncnn export: pnnx converts the ONNX file cleanly, the blob mapping is confirmed, and ncnn matches PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from exporter.checkpoint import save_checkpoint
from exporter.export import to_ncnn, to_onnx
from exporter.export.artifacts import read_report
from exporter.spec import OUTPUT_NAMES
from exporter.ncnn_net import NcnnRunner
from exporter.model import build_model
from exporter.image_io import read_rgb
from exporter.preprocess import letterbox, to_nchw
from exporter.spec import FACEKIT

PHOTOS = ("astronaut.png", "obama.jpg", "biden.jpg", "obama2.jpg")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A random facekit-xs model, its ONNX export and its ncnn conversion."""
    torch.manual_seed(0)
    model = build_model("facekit-xs").eval()
    root = tmp_path_factory.mktemp("ncnn")
    checkpoint, out = root / "model.pt", root / "export"
    out.mkdir()
    save_checkpoint(checkpoint, model)
    common = ["--checkpoint", str(checkpoint), "--onnx", str(out / "facekit.onnx"), "--out", str(out)]
    assert to_onnx.main([*common, "--precisions", "fp32"]) == 0
    assert to_ncnn.main([*common, "--precisions", "fp32", "fp16"]) == 0
    artifacts, _ = read_report(out, "ncnn")
    return model, out, {a.precision: a for a in artifacts}


@pytest.fixture(scope="module")
def squares(assets) -> np.ndarray:
    """8 letterboxed 128 px photos with faces: the 4 sample photos and their mirror images."""
    photos = np.stack([letterbox(read_rgb(assets[name]), 128)[0] for name in PHOTOS])
    return np.concatenate([photos, photos[:, :, ::-1]])


def test_report_and_files(exported):
    _, out, artifacts = exported
    assert list(artifacts) == ["fp32", "fp16"]
    for precision, artifact in artifacts.items():
        stem = f"facekit_{precision}.ncnn"
        assert artifact.path == f"{stem}.param" and artifact.files == [f"{stem}.param", f"{stem}.bin"]
        assert [artifact.io["outputs"][name]["blob"] for name in OUTPUT_NAMES] == ["out0", "out1", "out2", "out3"]
        assert artifact.io["input"]["blob"] == "in0"
        assert artifact.io["options"]["use_fp16_storage"] == (precision == "fp16")
        assert artifact.checks["mapping_confirmed"] and artifact.checks["blob_order_follows_onnx"]
        assert artifact.checks["layer_types"]["Convolution"] > 0 and "Input" in artifact.checks["layer_types"]
    assert artifacts["fp16"].checks["weights_bytes"] < 0.6 * artifacts["fp32"].checks["weights_bytes"]
    expected = {"facekit.onnx", "onnx.report.json", "ncnn.report.json"}
    expected |= {name for artifact in artifacts.values() for name in artifact.files}
    assert {p.name for p in out.iterdir()} == expected  # no pnnx side files


@pytest.mark.parametrize("precision", ["fp32", "fp16"])
def test_matches_pytorch(exported, squares, precision):
    model, out, artifacts = exported
    artifact = artifacts[precision]
    runner = NcnnRunner(out / artifact.files[0], out / artifact.files[1], artifact.io)
    with torch.no_grad():
        expected = [t.numpy() for t in model(torch.from_numpy(to_nchw(FACEKIT.input.normalise(squares))))]
    got = runner(squares)
    for name, ref, value in zip(OUTPUT_NAMES, expected, got):
        assert value.dtype == np.float32 and value.shape == ref.shape, name
        error = float(np.abs(value - ref).max())
        # fp32: 1e-5 of the output's range (float rounding); fp16 weights: 5e-3 of the range.
        tolerance = (1e-5 if precision == "fp32" else 5e-3) * float(ref.max() - ref.min())
        assert error <= tolerance, f"{precision} {name}: max abs error {error:.3g} > {tolerance:.3g}"


def test_runner_rejects_float_input(exported):
    _, out, artifacts = exported
    artifact = artifacts["fp32"]
    runner = NcnnRunner(out / artifact.files[0], out / artifact.files[1], artifact.io)
    with pytest.raises(ValueError, match="uint8"):
        runner(np.zeros((1, 128, 128, 3), np.float32))


def test_pnnx_failure_is_reported(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not an onnx file")
    with pytest.raises(RuntimeError, match="pnnx failed.*last lines"):
        to_ncnn.run_pnnx(bad, tmp_path / "m.param", tmp_path / "m.bin", fp16=False)
    assert {p.name for p in tmp_path.iterdir()} == {"bad.onnx"}
