"""Host runners: one uint8 RGB square in, the model's raw outputs out, in three stages the benchmark times.

prepare: the uint8 square -> the runtime's input (normalisation, layout, int8 quantisation);
infer: the runtime call alone; finish: the runtime's outputs -> float32 arrays (dequantisation), each
with a leading batch axis of 1. Calling a runner on (N, S, S, 3) squares runs the stages per square.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from exporter.export.artifacts import OUTPUT_NAMES, Artifact
from exporter.export.formats import FORMATS
from exporter.preprocess import to_float_input, to_nchw


@dataclass(frozen=True)
class Runner:
    """A model as three stages; calling it on a batch of squares gives the outputs in canonical order."""

    prepare: Callable[[np.ndarray], Any]
    infer: Callable[[Any], Any]
    finish: Callable[[Any], list[np.ndarray]]

    def run_one(self, square: np.ndarray) -> list[np.ndarray]:
        """Outputs of one (S, S, 3) uint8 square, each (1, anchors, values)."""
        return self.finish(self.infer(self.prepare(square)))

    def __call__(self, squares: np.ndarray) -> list[np.ndarray]:
        """Outputs of (N, S, S, 3) uint8 squares, each (N, anchors, values)."""
        if squares.dtype != np.uint8 or squares.ndim != 4 or squares.shape[-1] != 3:
            raise ValueError(f"expected (N, S, S, 3) uint8 RGB squares, got {squares.shape} {squares.dtype}")
        per_image = [self.run_one(square) for square in squares]
        return [np.concatenate(outputs) for outputs in zip(*per_image)]


def _nchw(square: np.ndarray) -> np.ndarray:
    return to_nchw(to_float_input(square[None]))


def torch_runner(model: torch.nn.Module) -> Runner:
    """The PyTorch reference."""
    model.eval()

    def infer(x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        with torch.no_grad():
            return model(x)

    return Runner(lambda square: torch.from_numpy(_nchw(square)), infer, lambda outs: [o.numpy() for o in outs])


def onnx_runner(path: Path, threads: int = 1) -> Runner:
    """onnxruntime on the CPU, NCHW float input."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    return Runner(lambda square: {input_name: _nchw(square)}, lambda feed: session.run(list(OUTPUT_NAMES), feed), list)


def litert_runner(path: Path, threads: int = 1, outputs: Sequence[str] = OUTPUT_NAMES) -> Runner:
    """LiteRT (XNNPACK): float input in [-1, 1], or int8 input quantised with the tensor's scale/zero point."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path), num_threads=threads)
    interpreter.allocate_tensors()
    inp = interpreter.get_input_details()[0]
    by_name = {d["name"]: d for d in interpreter.get_output_details()}
    wanted = [by_name[name] for name in outputs]

    def prepare(square: np.ndarray) -> np.ndarray:
        x = to_float_input(square[None])
        scale, zero = inp["quantization"]
        if inp["dtype"] == np.int8:
            return np.clip(np.round(x / scale + zero), -128, 127).astype(np.int8)
        return x

    def infer(x: np.ndarray) -> list[np.ndarray]:
        interpreter.set_tensor(inp["index"], x)
        interpreter.invoke()
        return [interpreter.get_tensor(d["index"]) for d in wanted]  # copies

    def finish(raw: list[np.ndarray]) -> list[np.ndarray]:
        out = []
        for d, y in zip(wanted, raw):
            scale, zero = d["quantization"]
            out.append((y.astype(np.float32) - zero) * scale if d["dtype"] == np.int8 else y)
        return out

    return Runner(prepare, infer, finish)


def ncnn_runner(path: Path, artifact: Artifact, threads: int = 1) -> Runner:
    """ncnn with the blob mapping recorded at conversion."""
    from exporter.export.run_ncnn import NcnnRunner

    param, binary = (path.parent / f for f in artifact.files)
    net = NcnnRunner(param, binary, artifact.io, num_threads=threads)
    blobs = [artifact.io["outputs"][name]["blob"] for name in OUTPUT_NAMES]
    return Runner(net.prepare, lambda mat: net.infer(mat, blobs), lambda outs: [o[None] for o in outs])


RUNTIMES: dict[str, Callable[[Path, Artifact, int], Runner]] = {
    "onnxruntime": lambda path, _artifact, threads: onnx_runner(path, threads),
    "litert": lambda path, _artifact, threads: litert_runner(path, threads),
    "ncnn": ncnn_runner,
}


def runner_for(artifact: Artifact, folder: Path, threads: int = 1) -> Runner | None:
    """A host runner for an exported artifact (by its format's runtime), or None when the host cannot run it."""
    runtime = FORMATS[artifact.format].runtime
    return None if runtime is None else RUNTIMES[runtime](Path(folder) / artifact.path, artifact, threads)
