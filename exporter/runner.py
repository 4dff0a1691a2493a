"""A model on a runtime as three stages the benchmark times: prepare, infer, finish; and the PyTorch reference.

prepare: one uint8 RGB square -> the runtime's input (normalisation, layout, int8 quantisation);
infer: the runtime call alone; finish: the runtime's outputs -> float32 arrays (dequantisation), each
with a leading batch axis of 1. Calling a runner on (N, S, S, 3) squares runs the stages per square.
PyTorch is the reference; ONNX Runtime, LiteRT (XNNPACK), ncnn, OpenCV DNN, MNN and ExecuTorch (XNNPACK) run the
exported files on the host.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from exporter.preprocess import to_nchw
from exporter.spec import FACEKIT, OUTPUT_NAMES, InputSpec


@dataclass(frozen=True)
class Runner:
    """A model as three stages; calling it on a batch of squares gives the outputs in the spec's order."""

    prepare: Callable[[np.ndarray], Any]
    infer: Callable[[Any], Any]
    finish: Callable[[Any], list[np.ndarray]]
    ready: Callable[[], object] = lambda: None  # the benchmark calls it untimed before each block of timed runs

    def run_one(self, square: np.ndarray) -> list[np.ndarray]:
        """Outputs of one (S, S, 3) uint8 square, each (1, anchors, values)."""
        return self.finish(self.infer(self.prepare(square)))

    def __call__(self, squares: np.ndarray) -> list[np.ndarray]:
        """Outputs of (N, S, S, 3) uint8 squares, each (N, anchors, values)."""
        if squares.dtype != np.uint8 or squares.ndim != 4 or squares.shape[-1] != 3:
            raise ValueError(f"expected (N, S, S, 3) uint8 RGB squares, got {squares.shape} {squares.dtype}")
        per_image = [self.run_one(square) for square in squares]
        return [np.concatenate(outputs) for outputs in zip(*per_image)]


def nchw_input(square: np.ndarray, spec: InputSpec = FACEKIT.input) -> np.ndarray:
    """One uint8 square -> the normalised (1, 3, S, S) float32 input of PyTorch and ONNX."""
    return to_nchw(spec.normalise(square[None]))


def torch_runner(model: torch.nn.Module, spec: InputSpec = FACEKIT.input, device: str = "cpu") -> Runner:
    """The PyTorch reference (eval mode, no gradients)."""
    model.eval()

    def infer(x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        with torch.no_grad():
            return model(x.to(device))

    return Runner(lambda square: torch.from_numpy(nchw_input(square, spec)), infer,
                  lambda outs: [o.cpu().numpy() for o in outs])


def onnx_runner(path: Path, threads: int = 1, spec: InputSpec = FACEKIT.input) -> Runner:
    """onnxruntime on the CPU, NCHW float input."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    return Runner(lambda square: {input_name: nchw_input(square, spec)}, lambda feed: session.run(list(OUTPUT_NAMES), feed), list)


def litert_runner(path: Path, threads: int = 1, outputs: Sequence[str] = OUTPUT_NAMES,
                  spec: InputSpec = FACEKIT.input) -> Runner:
    """LiteRT (XNNPACK): float input in [-1, 1], or int8 input quantised with the tensor's scale/zero point."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path), num_threads=threads)
    interpreter.allocate_tensors()
    inp = interpreter.get_input_details()[0]
    by_name = {d["name"]: d for d in interpreter.get_output_details()}
    wanted = [by_name[name] for name in outputs]

    def prepare(square: np.ndarray) -> np.ndarray:
        x = spec.normalise(square[None])
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


def ncnn_runner(param: Path, binary: Path, io: dict, threads: int = 1) -> Runner:
    """ncnn with the blob mapping (and normalisation) recorded at conversion."""
    from exporter.ncnn_net import NcnnRunner

    net = NcnnRunner(param, binary, io, num_threads=threads)
    blobs = [io["outputs"][name]["blob"] for name in OUTPUT_NAMES]
    return Runner(net.prepare, lambda mat: net.infer(mat, blobs), lambda outs: [o[None] for o in outs])


def opencv_runner(path: Path, threads: int = 1, spec: InputSpec = FACEKIT.input) -> Runner:
    """OpenCV DNN (its own CPU backend) on the ONNX file; outputs fetched by name (its own order differs)."""
    import cv2

    net = cv2.dnn.readNetFromONNX(str(path))
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)

    def infer(x: np.ndarray) -> tuple[np.ndarray, ...]:
        cv2.setNumThreads(threads)  # process-wide in OpenCV: set per call, so runners at other counts can interleave
        net.setInput(x)
        return net.forward(list(OUTPUT_NAMES))

    return Runner(lambda square: nchw_input(square, spec), infer, list)


def mnn_runner(path: Path, io: dict, threads: int = 1, spec: InputSpec = FACEKIT.input) -> Runner:
    """MNN's module API on the CPU (high precision), NCHW float input, with the tensor names recorded at conversion."""
    import MNN

    manager = MNN.nn.create_runtime_manager(({"backend": "CPU", "numThread": threads, "precision": "high"},))
    module = MNN.nn.load_module_from_file(str(path), [io["input"]["name"]], list(OUTPUT_NAMES), runtime_manager=manager)
    shape = [1, *io["input"]["shape"]]

    def finish(outs: list) -> list[np.ndarray]:
        return [np.array(MNN.expr.convert(o, MNN.expr.NCHW).read(), dtype=np.float32) for o in outs]

    return Runner(lambda square: MNN.expr.const(nchw_input(square, spec), shape, MNN.expr.NCHW),
                  lambda x: module.forward([x]), finish)


def executorch_runner(path: Path, threads: int = 1, spec: InputSpec = FACEKIT.input) -> Runner:
    """ExecuTorch's runtime (XNNPACK delegate), NCHW float input and outputs (an int8 file quantises inside).

    XNNPACK runs on ExecuTorch's one thread pool per process, resized by replacing it, and a loaded method keeps
    the pool it was loaded with: before each run the pool is sized to `threads` and, when it was replaced since
    (by this runner or another one), the program is loaded again.
    """
    quiet_executorch_logs()
    from executorch.runtime import Runtime

    loaded: dict = {}

    def method():
        generation = _executorch_pool(threads)
        if loaded.get("generation") != generation:
            try:
                program = Runtime.get().load_program(Path(path))
                loaded.update(generation=generation, method=program.load_method("forward"))
            except (RuntimeError, ValueError) as error:
                raise RuntimeError(f"ExecuTorch cannot load {path}: {error}") from None
        return loaded["method"]

    method()  # a file the runtime refuses fails here, not at the first image
    return Runner(lambda square: torch.from_numpy(nchw_input(square, spec)), lambda x: method().execute([x]),
                  lambda outs: [o.numpy() for o in outs], ready=method)


def quiet_executorch_logs() -> None:
    """Silence what importing ExecuTorch logs on a CPU-only host: torchao's CUDA kernels that cannot load, and the
    deprecation of the way torchao registers an Enum."""
    logging.getLogger("torchao").setLevel(logging.ERROR)
    logging.getLogger("torch.utils._pytree").setLevel(logging.ERROR)


@contextlib.contextmanager
def native_output_silenced(*fds: int):
    """Send these file descriptors (default stdout and stderr) to /dev/null for the block: native libraries
    (ExecuTorch, TensorFlow) log there, past Python's streams."""
    fds = fds or (1, 2)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(fd) for fd in fds]
    try:
        with open(os.devnull, "w") as null:
            for fd in fds:
                os.dup2(null.fileno(), fd)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        for fd, original in zip(fds, saved):
            os.dup2(original, fd)
            os.close(original)


_EXECUTORCH_POOL = {"threads": 0, "generation": 0}  # ExecuTorch's thread pool as the runners last set it


def _executorch_pool(threads: int) -> int:
    """Size ExecuTorch's process-wide thread pool to `threads` (replacing it when its size differs); its generation.

    Only the runners resize the pool, so an unchanged size costs no native call. Native stderr is muted while the
    pool is probed or replaced: ExecuTorch logs its CPU probing and every replacement there.
    """
    if _EXECUTORCH_POOL["threads"] != threads:
        from executorch.extension.pybindings import portable_lib

        with native_output_silenced(2):
            if portable_lib._threadpool_get_thread_count() != threads:
                portable_lib._unsafe_reset_threadpool(threads)
                _EXECUTORCH_POOL["generation"] += 1
        _EXECUTORCH_POOL["threads"] = threads
    return _EXECUTORCH_POOL["generation"]
