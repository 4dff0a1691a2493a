"""ExecuTorch export: the converter writes fp32 and int8 .pte files (XNNPACK delegate) of the shipped checkpoint, and
ExecuTorch's runtime matches PyTorch."""

from __future__ import annotations

import json

import numpy as np
import pytest

from exporter.checkpoint import load_model, read_checkpoint
from exporter.export import to_executorch
from exporter.export.images import CALIBRATION_COUNT
from exporter.export.embedded import read_executorch
from exporter.export.metadata import as_json, describe, model_spec
from exporter.export.runners import runner_for
from exporter.export.verify import compare
from exporter.image_io import read_rgb
from exporter.paths import DEFAULT_CHECKPOINT
from exporter.preprocess import letterbox
from exporter.runner import executorch_runner, torch_runner

PHOTOS = ("astronaut.png", "obama.jpg", "biden.jpg", "obama2.jpg")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def converted(exported):
    """(bundle folder, artifacts by precision) of the fp32 and int8 .pte files in the shared `export("all")` of the
    shipped checkpoint, int8 calibrated on the built-in set."""
    folder, rows, _ = exported
    return folder, {r.artifact.precision: r.artifact for r in rows if r.artifact.format == "executorch"}


@pytest.fixture(scope="module")
def squares(assets) -> np.ndarray:
    """8 letterboxed 128 px photos with faces: the 4 sample photos and their mirror images."""
    photos = np.stack([letterbox(read_rgb(assets[name]), 128)[0] for name in PHOTOS])
    return np.concatenate([photos, photos[:, :, ::-1]])


@pytest.fixture(scope="module")
def reference(squares) -> list[np.ndarray]:
    """PyTorch's outputs (BatchNorm folded, as exported) on the squares."""
    return torch_runner(load_model(DEFAULT_CHECKPOINT, fold_batchnorm=True)[0])(squares)


def test_report_and_files(converted):
    out, artifacts = converted
    assert list(artifacts) == ["fp32", "int8"]
    for precision, artifact in artifacts.items():
        name = f"facekit_{precision}.pte"
        assert artifact.path == name and artifact.files == [name]
        assert artifact.io["input"]["shape"] == [3, 128, 128] and artifact.io["input"]["dtype"] == "float32"
        assert list(artifact.io["outputs"]) == ["regressors", "scores", "age", "gender"]
        assert artifact.checks["ops_outside_delegate"] == {} and artifact.checks["delegated_subgraphs"] >= 1
    assert artifacts["int8"].checks["calibration_images"] == CALIBRATION_COUNT
    assert artifacts["int8"].checks["bytes"] < 0.6 * artifacts["fp32"].checks["bytes"]
    assert max(artifacts["fp32"].checks["max_abs_error_vs_pytorch"].values()) < 5e-4
    assert {p.name for p in out.glob("*.pte")} == {a.path for a in artifacts.values()}


def test_files_describe_themselves(converted):
    out, artifacts = converted
    payload = read_checkpoint(DEFAULT_CHECKPOINT)
    description = json.loads(as_json(describe(payload, model_spec(payload))))
    for artifact in artifacts.values():
        assert read_executorch(out / artifact.path) == description


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_matches_pytorch(converted, squares, reference, precision):
    out, artifacts = converted
    parity = compare(reference, runner_for(artifacts[precision], out)(squares), precision)
    assert parity.reference_faces >= 8 and parity.passed, parity.failures


def test_runners_at_other_thread_counts_reload(converted, squares, reference):
    out, artifacts = converted
    one, two = (executorch_runner(out / artifacts["fp32"].path, threads) for threads in (1, 2))
    for runner in (one, two, one):  # each run resizes the process-wide pool the other one was loaded with
        assert compare(reference, runner(squares), "fp32").passed


def test_a_broken_file_is_a_clear_error(converted, tmp_path):
    out, artifacts = converted
    broken = tmp_path / "facekit_fp32.pte"
    broken.write_bytes((out / artifacts["fp32"].path).read_bytes()[:1000])
    with pytest.raises(RuntimeError, match=f"ExecuTorch cannot load {broken}"):
        executorch_runner(broken)


def test_precisions_outside_the_table_are_refused(tmp_path):
    with pytest.raises(SystemExit, match="executorch precisions are fp32, int8; got fp16"):
        to_executorch.main(["--checkpoint", str(DEFAULT_CHECKPOINT), "--onnx", str(tmp_path / "unused.onnx"),
                            "--out", str(tmp_path), "--precisions", "fp16"])
