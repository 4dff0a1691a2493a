"""Paddle: the ONNX file respelled for x2paddle and Paddle Lite gives the same numbers; with .venv-paddle (`make paddle`)
the Paddle inference model matches PyTorch."""

from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from exporter.export.paddle_check import PaddleFailed, paddle_export
from exporter.export.paddle_onnx import OPSET, for_paddle
from exporter.export.to_paddle import FILES
from exporter.paths import DEFAULT_CHECKPOINT, REPO_ROOT

PADDLE_VENV = REPO_ROOT / ".venv-paddle"


def test_for_paddle_is_exact_and_has_no_op_paddle_lite_refuses(shipped_onnx):
    source = onnx.load(str(shipped_onnx[1] / "facekit.onnx"))
    respelled = for_paddle(source)
    ops, source_ops = ([n.op_type for n in m.graph.node] for m in (respelled, source))
    assert respelled.opset_import[0].version == OPSET and "Pad" not in ops and source_ops.count("Pad") > 0
    assert ops.count("Concat") == source_ops.count("Concat") + source_ops.count("Pad")
    assert not any(a.name == "dilations" for n in respelled.graph.node if n.op_type == "MaxPool" for a in n.attribute)
    x = np.random.default_rng(0).uniform(-1, 1, (1, 3, 128, 128)).astype(np.float32)
    before, after = (ort.InferenceSession(m.SerializeToString()).run(None, {"input": x}) for m in (source, respelled))
    assert all(np.array_equal(a, b) for a, b in zip(before, after))


def test_for_paddle_refuses_ops_it_has_not_checked():
    node = helper.make_node("Sigmoid", ["x"], ["y"])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    with pytest.raises(ValueError, match="Sigmoid"):
        for_paddle(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]))


def test_missing_venv_says_how_to_make_it(tmp_path):
    with pytest.raises(PaddleFailed, match="make paddle"):
        paddle_export(DEFAULT_CHECKPOINT, None, tmp_path / "paddle", tmp_path / "no-venv")
    assert not (tmp_path / "paddle").exists()


@pytest.mark.skipif(not (PADDLE_VENV / "bin" / "python").is_file(), reason="no .venv-paddle: `make paddle` sets it up")
def test_paddle_model_matches_pytorch(tmp_path, assets):
    out = tmp_path / "paddle"
    parity, latency = paddle_export(DEFAULT_CHECKPOINT, None, out, PADDLE_VENV, log=lambda *_: None)
    assert parity.passed and parity.images >= 50 and parity.reference_faces >= 40 and latency > 0
    assert sorted(p.name for p in out.iterdir()) == sorted([*FILES, "paddle.json"])
    report = json.loads((out / "paddle.json").read_text())
    assert report["parity"]["passed"] and set(report["files"]) == set(FILES)
