"""OpenCV DNN export: cv2.dnn loads the shipped checkpoint's ONNX file, and its outputs (fetched by name) match PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

from exporter.checkpoint import load_model
from exporter.export import to_opencv
from exporter.export.artifacts import read_report
from exporter.export.runners import runner_for
from exporter.export.verify import compare
from exporter.image_io import read_rgb
from exporter.preprocess import letterbox
from exporter.runner import torch_runner
from exporter.spec import OUTPUT_NAMES

PHOTOS = ("astronaut.png", "obama.jpg", "biden.jpg", "obama2.jpg")


@pytest.fixture(scope="module")
def checked(shipped_onnx):
    """The opencv report of the shipped checkpoint's ONNX file."""
    checkpoint, out = shipped_onnx
    assert to_opencv.main(["--checkpoint", str(checkpoint), "--onnx", str(out / "facekit.onnx"), "--out", str(out),
                           "--precisions", "fp32"]) == 0
    [artifact], _ = read_report(out, "opencv")
    return checkpoint, out, artifact


def test_report(checked):
    _, _, artifact = checked
    assert (artifact.format, artifact.precision, artifact.path, artifact.files) == \
           ("opencv", "fp32", "facekit.onnx", ["facekit.onnx"])
    assert sorted(artifact.checks["opencv_output_order"]) == sorted(OUTPUT_NAMES)
    assert max(artifact.checks["max_abs_error_vs_onnxruntime"].values()) < 5e-4


def test_matches_pytorch(checked, assets):
    checkpoint, out, artifact = checked
    photos = np.stack([letterbox(read_rgb(assets[name]), 128)[0] for name in PHOTOS])
    squares = np.concatenate([photos, photos[:, :, ::-1]])
    reference = torch_runner(load_model(checkpoint, fold_batchnorm=True)[0])(squares)
    parity = compare(reference, runner_for(artifact, out)(squares), "fp32")
    assert parity.reference_faces >= 8 and parity.passed, parity.failures


def test_precision_other_than_fp32_is_refused(checked):
    checkpoint, out, _ = checked
    with pytest.raises(ValueError, match="opencv precisions are fp32"):
        to_opencv.main(["--checkpoint", str(checkpoint), "--onnx", str(out / "facekit.onnx"), "--out", str(out),
                        "--precisions", "fp16"])
