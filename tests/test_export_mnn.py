"""MNN export: the converter writes fp32, fp16 and 8-bit-weight .mnn files of the shipped checkpoint, and MNN matches PyTorch."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from exporter.checkpoint import load_model
from exporter.export import to_mnn
from exporter.export.artifacts import read_report
from exporter.export.runners import runner_for
from exporter.export.verify import compare
from exporter.image_io import read_rgb
from exporter.preprocess import letterbox
from exporter.runner import torch_runner

PHOTOS = ("astronaut.png", "obama.jpg", "biden.jpg", "obama2.jpg")


@pytest.fixture(scope="module")
def converted(shipped_onnx, tmp_path_factory):
    """The shipped checkpoint's ONNX file converted to every MNN precision."""
    checkpoint, source = shipped_onnx
    out = tmp_path_factory.mktemp("mnn")
    shutil.copyfile(source / "facekit.onnx", out / "facekit.onnx")
    assert to_mnn.main(["--checkpoint", str(checkpoint), "--onnx", str(out / "facekit.onnx"), "--out", str(out),
                        "--precisions", "fp32", "fp16", "int8-dynamic"]) == 0
    artifacts, _ = read_report(out, "mnn")
    return checkpoint, out, {a.precision: a for a in artifacts}


@pytest.fixture(scope="module")
def squares(assets) -> np.ndarray:
    """8 letterboxed 128 px photos with faces: the 4 sample photos and their mirror images."""
    photos = np.stack([letterbox(read_rgb(assets[name]), 128)[0] for name in PHOTOS])
    return np.concatenate([photos, photos[:, :, ::-1]])


@pytest.fixture(scope="module")
def reference(converted, squares) -> list[np.ndarray]:
    """PyTorch's outputs (BatchNorm folded, as exported) on the squares."""
    return torch_runner(load_model(converted[0], fold_batchnorm=True)[0])(squares)


def test_report_and_files(converted):
    _, out, artifacts = converted
    assert list(artifacts) == ["fp32", "fp16", "int8-dynamic"]
    for precision, artifact in artifacts.items():
        name = f"facekit_{precision.replace('-', '_')}.mnn"
        assert artifact.path == name and artifact.files == [name]
        assert artifact.io["input"]["name"] == "input" and artifact.io["input"]["shape"] == [3, 128, 128]
    sizes = {p: a.checks["bytes"] for p, a in artifacts.items()}
    assert sizes["int8-dynamic"] < sizes["fp16"] < 0.6 * sizes["fp32"]
    assert max(artifacts["fp32"].checks["max_abs_error_vs_onnxruntime"].values()) < 5e-4
    expected = {"facekit.onnx", "mnn.report.json"} | {a.path for a in artifacts.values()}
    assert {p.name for p in out.iterdir()} == expected  # no converter side files


@pytest.mark.parametrize("precision", ["fp32", "fp16", "int8-dynamic"])
def test_matches_pytorch(converted, squares, reference, precision):
    _, out, artifacts = converted
    parity = compare(reference, runner_for(artifacts[precision], out)(squares), precision)
    assert parity.reference_faces >= 8 and parity.passed, parity.failures


def test_converter_failure_is_reported(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not an onnx file")
    with pytest.raises(RuntimeError, match="mnnconvert failed.*last lines"):
        to_mnn.run_mnnconvert(bad, tmp_path / "m.mnn", [])
