"""The stem rewrite (SpaceToDepth + a stride-1 conv) computes what the strided stem did: in ONNX Runtime for any
kernel size and the whole tiny model, and in int8 LiteRT to within one quantisation step; graphs it does not fit are
refused with the reason."""

from __future__ import annotations

import io
import warnings

import numpy as np
import onnx
import onnxruntime as ort
import onnxslim
import pytest
import torch
from torch import nn

from exporter.export.stem_rewrite import space_to_depth_stem, strided_stem
from exporter.model.blazeface import BlazeBlock, SameConv2d
from exporter.model.registry import build_model


def as_onnx(module: nn.Module, side: int, channels: int = 3) -> onnx.ModelProto:
    """The module traced on a (1, C, side, side) input and simplified as the export does."""
    traced = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), torch.zeros(1, channels, side, side), traced, input_names=["input"],
                          opset_version=18, dynamo=False)
    return onnxslim.slim(onnx.load_from_string(traced.getvalue()))


def run(model: onnx.ModelProto, x: np.ndarray) -> list[np.ndarray]:
    return ort.InferenceSession(model.SerializeToString()).run(None, {"input": x})


def stem(kernel: int, c_out: int = 8) -> nn.Module:
    torch.manual_seed(kernel)
    return nn.Sequential(SameConv2d(3, c_out, kernel, stride=2), nn.ReLU())


@pytest.mark.parametrize("kernel", [3, 4, 5, 7])
def test_the_rewritten_stem_computes_the_same_outputs(kernel):
    plain = as_onnx(stem(kernel), 32)
    rewritten = space_to_depth_stem(plain)
    assert [n.op_type for n in rewritten.graph.node][:2] == ["SpaceToDepth", "Conv"]
    conv = rewritten.graph.node[1]
    assert {a.name: onnx.helper.get_attribute_value(a) for a in conv.attribute}["strides"] == [1, 1]
    x = np.random.default_rng(kernel).standard_normal((1, 3, 32, 32)).astype(np.float32)
    np.testing.assert_allclose(run(rewritten, x)[0], run(plain, x)[0], atol=1e-5)
    assert strided_stem(plain.graph) is not None  # the input model is left as it was


def test_the_whole_tiny_model_keeps_its_outputs():
    model = build_model("facekit-xs").eval().fold_batchnorm()
    plain = as_onnx(model, 128)
    rewritten = space_to_depth_stem(plain)
    x = np.random.default_rng(0).uniform(-1, 1, (1, 3, 128, 128)).astype(np.float32)
    for a, b in zip(run(rewritten, x), run(plain, x)):
        np.testing.assert_allclose(a, b, atol=1e-4)


def test_graphs_without_a_strided_stem_or_with_an_odd_side_are_refused():
    block = BlazeBlock(8, 8, 2, 3).eval()
    block.fold()
    with pytest.raises(ValueError, match="no ungrouped stride-2 Conv reads the model's input"):
        space_to_depth_stem(as_onnx(block, 16, channels=8))
    with pytest.raises(ValueError, match="needs an even input side"):
        space_to_depth_stem(as_onnx(stem(5), 33))


@pytest.mark.slow
def test_int8_litert_outputs_stay_within_one_step(tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    from exporter.export.to_tflite import onnx2tf_convert, quantise
    from exporter.runner import litert_runner

    plain = as_onnx(stem(5, c_out=24), 128)
    images = np.random.default_rng(0).integers(0, 256, (16, 128, 128, 3)).astype(np.uint8)
    outputs, steps = [], []
    for name, model in (("plain", plain), ("rewritten", space_to_depth_stem(plain))):
        work = tmp_path / name
        work.mkdir()
        onnx.save(model, str(work / "stem.onnx"))
        quantise(onnx2tf_convert(work / "stem.onnx", work, images), work / "int8.tflite", images)
        interpreter = Interpreter(model_path=str(work / "int8.tflite"))
        ops = [op["op_name"] for op in interpreter._get_ops_details()]
        assert ops == (["CONV_2D"] if name == "plain" else ["SPACE_TO_DEPTH", "CONV_2D"])
        result = interpreter.get_output_details()[0]
        steps.append(result["quantization"][0])
        outputs.append(litert_runner(work / "int8.tflite", outputs=[result["name"]])(images[:1])[0])
    in_steps = np.abs(outputs[0] - outputs[1]) / max(steps)
    assert in_steps.max() <= 1.01 and (in_steps < 0.01).mean() > 0.99
