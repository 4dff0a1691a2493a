"""PyTorch's QNNPACK engine (PyTorch Mobile's int8 kernels): the exported model quantised post-training, timed by the bench.

FX graph-mode static quantisation with the qnnpack qconfig (int8 weights per tensor, uint8 activations from
histograms), BatchNorm folded as exported, calibrated on the export's int8 images. PyTorch's int8 lowering has
no rule for F.pad, so each pad would run in float between a dequantize and a quantize; here every pad shares its
input's observer, and `int8_pads` then runs it on the int8 tensor itself (exact: a quantised zero pad writes the
zero point). The four output concatenations run in float: their inputs (the 16x16 and the 8x8 heads) have their own
scales, which an int8 cat would clamp to the first one's range, and their results are made float anyway. There is no
file to ship: the model lives in the bench process.
"""

from __future__ import annotations

import copy
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.ao.quantization.backend_config.utils  # noqa: F401  (get_qnnpack_backend_config needs it; torch does not import it)
import torch.nn.functional as F
from torch.ao.quantization import get_default_qconfig_mapping
from torch.ao.quantization.backend_config import (
    BackendConfig,
    BackendPatternConfig,
    DTypeConfig,
    ObservationType,
    get_qnnpack_backend_config,
)
from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx
from torch.fx import GraphModule

from exporter.bench.latency import Backend, backend_key
from exporter.data.splits import evenly
from exporter.export.images import export_images
from exporter.export.verify import Parity, compare
from exporter.preprocess import to_nchw
from exporter.runner import torch_runner
from exporter.spec import FACEKIT

ENGINE = "qnnpack"
BACKEND = backend_key("pytorch-qnnpack", "int8")  # its name in bench reports
BATCH = 100  # calibration images per forward pass (the histogram observers' results depend on it a little)


@dataclass(frozen=True)
class Quantised:
    """The int8 model, where its calibration images came from, and its agreement with the float model."""

    model: GraphModule
    calibration: str
    calibration_images: int
    parity: Parity

    def summary(self) -> dict:
        """JSON-friendly form for the bench report."""
        return {"backend": BACKEND, "engine": ENGINE, "calibration": self.calibration, "calibration_images": self.calibration_images,
                "parity": self.parity.to_dict()}


def backend_config() -> BackendConfig:
    """PyTorch's QNNPACK patterns, plus F.pad sharing its input's observer."""
    pad = (BackendPatternConfig(F.pad).set_observation_type(ObservationType.OUTPUT_SHARE_OBSERVER_WITH_INPUT)
           .set_dtype_configs([DTypeConfig(input_dtype=torch.quint8, output_dtype=torch.quint8)]))
    return get_qnnpack_backend_config().set_backend_pattern_config(pad)


def int8_pads(model: GraphModule) -> int:
    """Replace each quantize(pad(dequantize(x))) by pad(x) in place; returns how many it replaced."""
    graph, replaced = model.graph, 0
    for node in list(graph.nodes):
        pad = node.args[0] if node.target is torch.quantize_per_tensor else None
        if pad is None or pad.target is not F.pad or getattr(pad.args[0], "target", None) != "dequantize":
            continue
        with graph.inserting_before(node):
            node.replace_all_uses_with(graph.call_function(F.pad, (pad.args[0].args[0], *pad.args[1:]), pad.kwargs))
        replaced += 1
    graph.eliminate_dead_code()
    model.recompile()
    return replaced


def quantise(model: torch.nn.Module, calibration: np.ndarray) -> GraphModule:
    """The float model (eval mode) as a QNNPACK int8 GraphModule, calibrated on uint8 RGB squares (N, S, S, 3).

    Sets the process's quantized engine to QNNPACK, which running the model needs.
    """
    torch.backends.quantized.engine = ENGINE
    x = torch.from_numpy(to_nchw(FACEKIT.input.normalise(calibration)))
    config = backend_config()
    qconfig = get_default_qconfig_mapping(ENGINE).set_object_type(torch.cat, None)  # float cats: see the docstring
    prepared = prepare_fx(copy.deepcopy(model).eval(), qconfig, (x[:1],), backend_config=config)
    with torch.no_grad():
        for batch in x.split(BATCH):
            prepared(batch)
    quantised = convert_fx(prepared, backend_config=config)
    int8_pads(quantised)
    return quantised


def quantise_checked(model: torch.nn.Module, data_root: Path | None, count: int | None = None) -> Quantised:
    """Quantise on the export's calibration images (`count` of them spread evenly; None: all), then compare with
    the float model on the export's verification images by the int8 rules."""
    calibration, verification = export_images(data_root, calibrate=True)
    chosen = calibration.squares[evenly(list(range(len(calibration.squares))), count)]
    quantised = quantise(model, chosen)
    squares = verification.squares
    parity = compare(torch_runner(model)(squares), torch_runner(quantised)(squares), "int8")
    return Quantised(quantised, calibration.source, len(chosen), parity)


def size_bytes(model: GraphModule) -> int:
    """Bytes of the model's saved state (packed int8 weights, scales): what a file of it would hold, near enough."""
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.tell()


def qnnpack_backend(quantised: Quantised, threads: int) -> Backend:
    """The int8 model on PyTorch's QNNPACK engine (PyTorch's thread count set while it runs)."""
    return Backend(BACKEND, "pytorch", "int8", ENGINE, threads,
                   size_bytes(quantised.model), lambda: torch_runner(quantised.model))
