"""The Core ML converter writes a checked fp16 ML Program package and its report; other precisions are refused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from exporter.checkpoint import save_checkpoint
from exporter.export.artifacts import read_report
from exporter.spec import OUTPUT_NAMES
from exporter.model import build_model

REPO = Path(__file__).resolve().parents[1]
# What the BlazeFace-style model needs, and nothing else (no gather, slice, softmax, custom layers ...).
PLAIN_OPS = {"const", "conv", "relu", "add", "max_pool", "pad", "transpose", "reshape", "concat", "mul", "cast"}


def _convert(tmp: Path, *precisions: str) -> subprocess.CompletedProcess:
    """Run the converter in its own process (coremltools imports TensorFlow) on a random facekit-xs checkpoint."""
    checkpoint = tmp / "model.pt"
    if not checkpoint.exists():
        save_checkpoint(checkpoint, build_model("facekit-xs"))
    cmd = [sys.executable, "-m", "exporter.export.to_coreml", "--checkpoint", str(checkpoint),
           "--onnx", str(tmp / "facekit.onnx"), "--out", str(tmp), "--precisions", *precisions]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> Path:
    """Export folder holding FaceKit.mlpackage and coreml.report.json."""
    out = tmp_path_factory.mktemp("coreml")
    result = _convert(out, "fp16")
    assert result.returncode == 0, result.stderr[-3000:]
    return out


@pytest.mark.slow
def test_package_and_io(converted):
    artifacts, seconds = read_report(converted, "coreml")
    assert len(artifacts) == 1 and seconds > 0
    art = artifacts[0]
    assert (art.format, art.precision, art.path, art.files) == ("coreml", "fp16", "FaceKit.mlpackage", ["FaceKit.mlpackage"])
    package = converted / art.path
    assert (package / "Manifest.json").is_file() and (package / "Data/com.apple.CoreML/weights/weight.bin").is_file()
    image = art.io["inputs"]["image"]
    assert (image["type"], image["color_layout"], image["shape"]) == ("image", "RGB", [1, 3, 128, 128])
    assert image["scale"] == pytest.approx(1 / 127.5) and image["bias"] == [-1.0, -1.0, -1.0]
    outputs = art.io["outputs"]
    assert list(outputs) == list(OUTPUT_NAMES)
    assert [o["shape"] for o in outputs.values()] == [[1, 896, 16], [1, 896, 1], [1, 896, 1], [1, 896, 1]]
    assert art.io["minimum_deployment_target"] == "iOS16"


@pytest.mark.slow
def test_static_checks(converted):
    checks = read_report(converted, "coreml")[0][0].checks
    assert checks["model_type"] == "mlProgram" and checks["spec_version"] <= 7 and checks["output_order_ok"]
    ops = checks["ops"]
    assert ops["conv"] > 0 and set(ops) <= PLAIN_OPS
    assert checks["weights_fp16"] and checks["compute_fp16"] and checks["consts_by_dtype"]["FLOAT16"] > 0
    assert checks["consts_by_dtype"].get("FLOAT32", 0) <= 2  # the image scale and bias only
    if sys.platform != "darwin":
        assert checks["numbers_checked"] is False and "macOS" in checks["numbers_reason"]


def test_rejects_other_precisions(tmp_path, capsys):
    """Refused before any conversion (in this process: the refusal comes before coremltools does any work)."""
    from exporter.export import to_coreml

    checkpoint = tmp_path / "model.pt"
    save_checkpoint(checkpoint, build_model("facekit-xs"))
    assert to_coreml.main(["--checkpoint", str(checkpoint), "--onnx", str(tmp_path / "facekit.onnx"),
                           "--out", str(tmp_path), "--precisions", "fp32"]) == 2
    err = capsys.readouterr().err
    assert "fp16 only" in err and "--precisions fp16" in err
    assert not (tmp_path / "FaceKit.mlpackage").exists() and not (tmp_path / "coreml.report.json").exists()


@pytest.mark.slow
def test_checks_fail_loudly(converted, monkeypatch):
    """An op outside the allowed set and a wrong output shape both raise CoreMLCheckError naming the problem."""
    from exporter.export import to_coreml

    monkeypatch.setattr(to_coreml, "ALLOWED_OPS", to_coreml.ALLOWED_OPS - {"max_pool"})
    shapes = {name: [1, 896, 1] for name in OUTPUT_NAMES}
    with pytest.raises(to_coreml.CoreMLCheckError) as raised:
        to_coreml.inspect_package(converted / "FaceKit.mlpackage", [1, 3, 128, 128], shapes)
    message = str(raised.value)
    assert "failed its checks" in message and "['max_pool']" in message and "outputs are" in message
