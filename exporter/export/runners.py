"""Host runners: each takes (N, S, S, 3) uint8 RGB squares and returns the four outputs in canonical order."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import torch

from exporter.export.artifacts import OUTPUT_NAMES, Artifact
from exporter.export.formats import FORMATS
from exporter.preprocess import to_float_input, to_nchw

Runner = Callable[[np.ndarray], list[np.ndarray]]


def torch_runner(model: torch.nn.Module) -> Runner:
    """The PyTorch reference."""
    model.eval()

    def run(squares: np.ndarray) -> list[np.ndarray]:
        with torch.no_grad():
            return [o.numpy() for o in model(torch.from_numpy(to_nchw(to_float_input(squares))))]

    return run


def onnx_runner(path: Path, threads: int = 1) -> Runner:
    """onnxruntime on the CPU, NCHW float input."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name

    def run(squares: np.ndarray) -> list[np.ndarray]:
        outs = [session.run(list(OUTPUT_NAMES), {input_name: to_nchw(to_float_input(s[None]))}) for s in squares]
        return [np.concatenate([o[i] for o in outs]) for i in range(len(OUTPUT_NAMES))]

    return run


def litert_runner(path: Path, threads: int = 1) -> Runner:
    """LiteRT (XNNPACK): float input in [-1, 1], or int8 input quantised with the tensor's scale/zero point."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path), num_threads=threads)
    interpreter.allocate_tensors()
    inp = interpreter.get_input_details()[0]
    outputs = {d["name"]: d for d in interpreter.get_output_details()}

    def quantise(square: np.ndarray) -> np.ndarray:
        x = to_float_input(square[None])
        scale, zero = inp["quantization"]
        if inp["dtype"] == np.int8:
            return np.clip(np.round(x / scale + zero), -128, 127).astype(np.int8)
        return x

    def dequantise(d: dict) -> np.ndarray:
        y = interpreter.get_tensor(d["index"])
        scale, zero = d["quantization"]
        return (y.astype(np.float32) - zero) * scale if d["dtype"] == np.int8 else y.copy()

    def run(squares: np.ndarray) -> list[np.ndarray]:
        results = []
        for square in squares:
            interpreter.set_tensor(inp["index"], quantise(square))
            interpreter.invoke()
            results.append([dequantise(outputs[name]) for name in OUTPUT_NAMES])
        return [np.concatenate([r[i] for r in results]) for i in range(len(OUTPUT_NAMES))]

    return run


def ncnn_runner(path: Path, artifact: Artifact, threads: int = 1) -> Runner:
    """ncnn with the blob mapping recorded at conversion."""
    from exporter.export.run_ncnn import NcnnRunner

    param, binary = (path.parent / f for f in artifact.files)
    return NcnnRunner(param, binary, artifact.io, num_threads=threads)


RUNTIMES: dict[str, Callable[[Path, Artifact, int], Runner]] = {
    "onnxruntime": lambda path, _artifact, threads: onnx_runner(path, threads),
    "litert": lambda path, _artifact, threads: litert_runner(path, threads),
    "ncnn": ncnn_runner,
}


def runner_for(artifact: Artifact, folder: Path, threads: int = 1) -> Runner | None:
    """A host runner for an exported artifact (by its format's runtime), or None when the host cannot run it."""
    runtime = FORMATS[artifact.format].runtime
    return None if runtime is None else RUNTIMES[runtime](Path(folder) / artifact.path, artifact, threads)
