"""MNN export: the converter writes fp32, fp16, 8-bit-weight and full-int8 .mnn files of the shipped checkpoint, and MNN
matches PyTorch."""

from __future__ import annotations

import shutil

import numpy as np
import onnx
import pytest

from exporter.checkpoint import load_model
from exporter.export import to_mnn
from exporter.export.artifacts import read_report
from exporter.export.builtin_images import builtin_squares
from exporter.export.images import MIN_CALIBRATION
from exporter.export.runners import runner_for
from exporter.export.verify import compare
from exporter.image_io import read_rgb
from exporter.preprocess import letterbox
from exporter.runner import onnx_runner, torch_runner

PHOTOS = ("astronaut.png", "obama.jpg", "biden.jpg", "obama2.jpg")


@pytest.fixture(scope="module")
def converted(shipped_onnx, tmp_path_factory):
    """The shipped checkpoint's ONNX file converted to every MNN precision (full int8 calibrated on the fewest
    built-in calibration images the converters take, to keep the test short)."""
    checkpoint, source = shipped_onnx
    out = tmp_path_factory.mktemp("mnn")
    shutil.copyfile(source / "facekit.onnx", out / "facekit.onnx")
    calibration = tmp_path_factory.mktemp("calibration") / "calibration.npy"
    np.save(calibration, builtin_squares("calibration", MIN_CALIBRATION).squares)
    assert to_mnn.main(["--checkpoint", str(checkpoint), "--onnx", str(out / "facekit.onnx"), "--out", str(out),
                        "--precisions", "fp32", "fp16", "int8-dynamic", "int8", "--calibration", str(calibration)]) == 0
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
    assert list(artifacts) == ["fp32", "fp16", "int8-dynamic", "int8"]
    for precision, artifact in artifacts.items():
        name = f"facekit_{precision.replace('-', '_')}.mnn"
        assert artifact.path == name and artifact.files == [name]
        assert artifact.io["input"]["name"] == "input" and artifact.io["input"]["shape"] == [3, 128, 128]
    sizes = {p: a.checks["bytes"] for p, a in artifacts.items()}
    assert sizes["int8-dynamic"] < sizes["fp16"] < 0.6 * sizes["fp32"] and sizes["int8"] < sizes["fp16"]
    assert max(artifacts["fp32"].checks["max_abs_error_vs_onnxruntime"].values()) < 5e-4
    expected = {"facekit.onnx", "mnn.report.json"} | {a.path for a in artifacts.values()}
    assert {p.name for p in out.iterdir()} == expected  # no converter side files


@pytest.mark.parametrize("precision", ["fp32", "fp16", "int8-dynamic", "int8"])
def test_matches_pytorch(converted, squares, reference, precision):
    _, out, artifacts = converted
    parity = compare(reference, runner_for(artifacts[precision], out)(squares), precision)
    assert parity.reference_faces >= 8 and parity.passed, parity.failures


def test_int8_is_calibrated_and_quantises_every_conv_but_those_at_the_stem_resolution(converted):
    _, out, artifacts = converted
    int8 = artifacts["int8"]
    convs = [node.output[0] for node in onnx.load(str(out / "facekit.onnx")).graph.node if node.op_type == "Conv"]
    float_ops = int8.io["quantization"]["float_ops"]
    assert float_ops == to_mnn.stem_resolution_convs(out / "facekit.onnx") and set(float_ops) < set(convs[1:])
    assert int8.checks["calibration_images"] == MIN_CALIBRATION
    assert int8.checks["int8_ops"] >= len(convs) - len(float_ops)
    assert int8.io["quantization"]["tool"] == "mnnquant" and "converter_options" not in int8.io


def test_stem_resolution_convs_are_the_first_blocks(shipped_onnx):
    names = to_mnn.stem_resolution_convs(shipped_onnx[1] / "facekit.onnx")
    assert names == [f"/stage16/stage16.{block}/{conv}/Conv_output_0"
                     for block in (0, 1) for conv in ("depthwise", "pointwise")]


def test_full_int8_needs_calibration(shipped_onnx, tmp_path):
    checkpoint, source = shipped_onnx
    with pytest.raises(SystemExit, match="full int8 needs --calibration"):
        to_mnn.main(["--checkpoint", str(checkpoint), "--onnx", str(source / "facekit.onnx"), "--out", str(tmp_path),
                     "--precisions", "int8"])


def test_quantisation_failure_is_reported(tmp_path):
    bad = tmp_path / "bad.mnn"
    bad.write_bytes(b"not an mnn file")
    with pytest.raises(RuntimeError, match="mnnquant failed to quantise.*last lines"):
        to_mnn.run_mnnquant(bad, tmp_path / "q.mnn", np.zeros((2, 128, 128, 3), np.uint8), [])


def test_converter_failure_is_reported(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not an onnx file")
    with pytest.raises(RuntimeError, match="mnnconvert failed.*last lines"):
        to_mnn.run_mnnconvert(bad, tmp_path / "m.mnn", [])


def test_fp16_conversion_starts_from_conv_parameters_rounded_to_fp16(shipped_onnx, tmp_path):
    source = shipped_onnx[1] / "facekit.onnx"
    rounded = onnx.load(str(to_mnn.conv_parameters_in_fp16(source, tmp_path / "r.onnx")))
    original = {t.name: onnx.numpy_helper.to_array(t) for t in onnx.load(str(source)).graph.initializer}
    conv_inputs = {name for node in rounded.graph.node if node.op_type == "Conv" for name in node.input[1:]}
    assert conv_inputs
    for tensor in rounded.graph.initializer:
        values = onnx.numpy_helper.to_array(tensor)
        if tensor.name in conv_inputs:
            assert np.array_equal(values, values.astype(np.float16).astype(np.float32))
            assert np.abs(values - original[tensor.name]).max() <= 1e-3 * np.abs(original[tensor.name]).max()
        else:
            assert np.array_equal(values, original[tensor.name])


def test_fp16_file_computes_what_the_rounded_onnx_file_computes(converted, squares, tmp_path):
    _, out, artifacts = converted
    fp16 = artifacts["fp16"]
    assert fp16.io["conv_parameters"] == "rounded to fp16 first"
    rounded = onnx_runner(to_mnn.conv_parameters_in_fp16(out / "facekit.onnx", tmp_path / "r.onnx"))(squares)
    parity = compare(rounded, runner_for(fp16, out)(squares), "fp32")  # no error beyond float rounding
    assert parity.passed, parity.failures
