"""Size-aware width search on the tiny variant: its byte counts add up to the model's, it respects its budget and finds
the best choice a brute force finds, its prediction matches the converted file, and the converter quantises a model
whose config says int8_per_tensor with one scale per tensor and no inner tensor names."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest
import torch

from exporter.checkpoint import save_checkpoint
from exporter.compress.prune import stream_widths
from exporter.compress.size_search import constant_bytes, search_size, search_within_size
from exporter.export.images import MIN_CALIBRATION
from exporter.export.to_onnx import export_onnx
from exporter.model.blazeface import FaceKitNet
from exporter.model.registry import build_model
from width_brute_force import best_kept_importance

REST = 30_000  # what a file holds beyond its weights and biases, as search_size is told
TINY_BUDGET_KB = 55  # the tiny model's own compact full-int8 file is about 62 KB


@pytest.fixture(scope="module")
def tiny() -> FaceKitNet:
    torch.manual_seed(0)
    return build_model("facekit-xs").eval()


def narrow(tiny: FaceKitNet, channels: tuple[int, ...]) -> FaceKitNet:
    """A fresh model of the tiny one's config at other stream widths."""
    return FaceKitNet(replace(tiny.config, channels=channels))


def test_bytes_count_int8_weights_and_an_int32_bias_per_output_channel():
    conv = torch.nn.Conv2d(8, 16, 3, bias=False)
    assert constant_bytes(conv) == 16 * 8 * 9 + 4 * 16  # the file gives every conv a bias


@pytest.mark.parametrize("share", [0.5, 0.8])
def test_the_search_respects_its_budget_and_matches_brute_force(tiny, share):
    file_bytes = constant_bytes(tiny) + REST
    budget = REST + share * constant_bytes(tiny)
    pruned, choice = search_size(tiny, budget, file_bytes)
    assert choice.cost <= budget
    assert choice.cost == constant_bytes(pruned) + REST  # the parts' bytes add up to the cut model's
    assert stream_widths(pruned) == list(choice.channels)

    best = best_kept_importance(tiny, lambda channels: constant_bytes(narrow(tiny, channels)) + REST <= budget)
    assert choice.value == pytest.approx(best, rel=1e-6)


def test_a_budget_nothing_fits_is_refused(tiny):
    with pytest.raises(ValueError, match="no width choice fits"):
        search_size(tiny, REST, constant_bytes(tiny) + REST)
    with pytest.raises(ValueError, match="budget in KB"):
        search_within_size(tiny, 0.0)


@pytest.mark.slow
def test_the_prediction_matches_the_converted_file(tiny, capsys):
    pruned = search_within_size(tiny, TINY_BUDGET_KB)  # converts the tiny model and the cut one
    assert pruned.config.int8_per_tensor
    found = re.search(r"predicted ([\d.]+) KB, measured ([\d.]+) KB.*the unpruned model's ([\d.]+) KB",
                      capsys.readouterr().out)
    predicted, measured, unpruned = (float(v) for v in found.groups())
    assert measured <= TINY_BUDGET_KB < unpruned
    assert predicted == pytest.approx(measured, rel=0.01)


@pytest.mark.slow
def test_the_converter_quantises_per_tensor_where_the_config_says_so(tiny, tmp_path):
    from ai_edge_litert.interpreter import Interpreter
    from tensorflow.lite.tools import flatbuffer_utils

    from exporter.export import to_tflite
    from exporter.spec import OUTPUT_NAMES

    squares = np.random.default_rng(0).integers(0, 256, (MIN_CALIBRATION, 128, 128, 3), dtype=np.uint8)
    np.save(tmp_path / "calibration.npy", squares)
    scales, sizes, names = {}, {}, {}
    for per_tensor in (False, True):
        folder = tmp_path / str(per_tensor)
        folder.mkdir()
        save_checkpoint(folder / "model.pt", FaceKitNet(replace(tiny.config, int8_per_tensor=per_tensor)).eval())
        export_onnx(folder / "model.pt", folder / "model.onnx")
        to_tflite.main(["--checkpoint", str(folder / "model.pt"), "--onnx", str(folder / "model.onnx"), "--out",
                        str(folder), "--precisions", "int8", "--calibration", str(tmp_path / "calibration.npy")])
        path = folder / "facekit_int8.tflite"
        graph = flatbuffer_utils.read_model(str(path)).subgraphs[0]
        scales[per_tensor] = [len(t.quantization.scale) for t in graph.tensors
                              if t.quantization is not None and t.quantization.scale is not None]
        sizes[per_tensor] = path.stat().st_size
        names[per_tensor] = [t.name for t in graph.tensors if t.name]
        interpreter = Interpreter(model_path=str(path))
        interpreter.allocate_tensors()
        interpreter.invoke()
        assert [d["name"] for d in interpreter.get_output_details()] == list(OUTPUT_NAMES)
        assert [d["name"] for d in interpreter.get_input_details()] == ["input"]
    assert max(scales[True]) == 1 and max(scales[False]) > 1
    assert sorted(names[True]) == sorted(n.encode() for n in ["input", *OUTPUT_NAMES])  # the compact file: no others
    assert len(names[False]) > 10 * len(names[True])
    # per channel: a float32 scale and an int64 zero point for every output channel's weights and bias
    assert sizes[False] - sizes[True] > 12 * sum(n for n in scales[False] if n > 1) * 0.9
