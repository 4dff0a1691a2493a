"""Size-aware width search: which of a model's channels to keep so that its compact full-int8 TFLite file (weights
quantised per tensor, no names on the inner tensors) fits a byte budget with the most channel importance.

It is the latency search's programme (exporter/compress/search.py) with bytes for costs. Every conv of the file holds
its weights as int8 (a byte each) and a bias as int32 (four bytes per output channel, also where PyTorch's conv has
none); with one scale per tensor, nothing else in the file grows with the widths. The rest (tensor shapes, operators,
the input's and outputs' names, the embedded metadata, one scale and zero point per tensor) is measured once by
converting the model itself through the export's own path, and the chosen model is converted too, so the prediction
is checked on the spot.
Per-channel quantisation would add a float32 scale and an int64 zero point per output channel, for weights and bias
alike: 24 bytes a channel, a quarter of the shipped file.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from functools import cache
from pathlib import Path

import numpy as np
from torch import nn

from exporter.compress.prune import prune_to_counts, refuse_unprunable
from exporter.compress.search import Choice, importance, search
from exporter.model.blazeface import STAGE_16, STAGE_8, BlazeBlock, FaceKitNet, SameConv2d

WEIGHT_BYTES, BIAS_BYTES = 1, 4  # int8 weights, int32 biases
BACKBONE = ("stem", "stage16", "stage8")  # the children of FaceKitNet that are not heads


def constant_bytes(module: nn.Module) -> int:
    """Bytes the module's convolutions take in a full-int8 TFLite file: int8 weights and an int32 bias per output
    channel (the same before and after BatchNorm folding)."""
    return sum(m.weight.numel() * WEIGHT_BYTES + m.out_channels * BIAS_BYTES
               for m in module.modules() if isinstance(m, nn.Conv2d))


def int8_file_bytes(model: FaceKitNet) -> int:
    """Size of the model's full-int8 TFLite file, converted by the export's own path (ONNX, onnx2tf, TF's converter,
    names and metadata restored); random calibration images, since the values do not change the size."""
    from exporter.checkpoint import read_checkpoint, save_checkpoint
    from exporter.export.metadata import describe, model_spec
    from exporter.export.to_onnx import export_onnx
    from exporter.export.to_tflite import onnx2tf_convert, quantise, restore_outputs
    from exporter.runner import native_output_silenced

    size = model.config.input_size
    squares = np.random.default_rng(0).integers(0, 256, (20, size, size, 3), dtype=np.uint8)
    with tempfile.TemporaryDirectory(prefix="facekit-size-") as tmp, native_output_silenced():
        work = Path(tmp)
        save_checkpoint(work / "model.pt", model)
        payload = read_checkpoint(work / "model.pt")
        export_onnx(work / "model.pt", work / "export.onnx")
        produced = onnx2tf_convert(work / "export.onnx", work, squares)
        quantise(produced, work / "raw.tflite", squares, model.config.int8_per_tensor)
        restore_outputs(work / "raw.tflite", work / "int8.tflite", describe(payload, model_spec(payload)),
                        inner_names=not model.config.int8_per_tensor)
        return (work / "int8.tflite").stat().st_size


def search_size(model: FaceKitNet, budget_bytes: float, file_bytes: int) -> tuple[FaceKitNet, Choice]:
    """(the model cut to the most valuable widths whose predicted file fits budget_bytes, the choice), the rest of
    the file taken from `file_bytes`, the model's own file size."""
    config = model.config
    offset = file_bytes - constant_bytes(model)
    born, births_at, values = importance(model)
    plan = STAGE_16 + STAGE_8

    @cache
    def part_bytes(position: int, c_in: int, c_out: int) -> int:
        if position == 0:
            return constant_bytes(SameConv2d(3, c_out, 5, stride=2))
        return constant_bytes(BlazeBlock(c_in, c_out, plan[position - 1][1], config.depthwise_kernel))

    @cache
    def heads_bytes(c16: int, c8: int) -> int:
        channels = (c16,) * (len(STAGE_16) + 1) + (c8,) * len(STAGE_8)
        net = FaceKitNet(replace(config, channels=channels))
        return sum(constant_bytes(child) for name, child in net.named_children() if name not in BACKBONE)

    choice = search(born, births_at, len(plan), values, part_bytes, heads_bytes, 0.0, offset, budget_bytes)
    return prune_to_counts(model, list(choice.counts)), choice


def search_within_size(model: FaceKitNet, budget_kb: float) -> FaceKitNet:
    """The model cut to the best widths whose full-int8 TFLite file (weights per tensor) fits budget_kb KB, with the
    prediction checked against the converted file."""
    if not 1 <= budget_kb <= 100_000:
        raise ValueError(f"--amount for size is the full-int8 TFLite budget in KB (e.g. 100), got {budget_kb}")
    refuse_unprunable(model)
    if model.config.ranks and any(model.config.ranks):
        raise ValueError("the size search cuts full-rank models; search before factorising (--method lowrank)")
    per_tensor = FaceKitNet(replace(model.config, int8_per_tensor=True))
    per_tensor.load_state_dict(model.state_dict())
    per_tensor.train(model.training)
    full = int8_file_bytes(per_tensor)
    pruned, choice = search_size(per_tensor, budget_kb * 1024, full)
    measured = int8_file_bytes(pruned)
    print(f"size search: widths {list(choice.channels)} keep {choice.value:.1%} of the channel importance; compact full-int8 "
          f"file (weights per tensor, no inner names) predicted {choice.cost / 1024:.1f} KB, measured {measured / 1024:.1f} KB "
          f"({choice.cost / measured - 1:+.1%}); the unpruned model's {full / 1024:.1f} KB; budget {budget_kb:g} KB")
    return pruned
