"""Converters checked against onnxruntime: their shared main, the NCHW io they record, and the check itself."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnxruntime as ort

from exporter.export.artifacts import Artifact, converter_args, write_report
from exporter.runner import Runner, nchw_input
from exporter.spec import OUTPUT_NAMES

Convert = Callable[[Path, Path, str, ort.InferenceSession], Artifact]  # (onnx, out dir, precision, session)


def convert_each(doc: str, format_name: str, offered: tuple[str, ...], convert: Convert, argv=None) -> int:
    """A converter's main: check the precisions, convert each one against the ONNX file, write the report."""
    args = converter_args(doc, argv)
    unsupported = sorted(set(args.precisions) - set(offered))
    if unsupported:
        raise ValueError(f"{format_name} precisions are {', '.join(offered)}; got {', '.join(unsupported)}")
    start = time.time()
    args.out.mkdir(parents=True, exist_ok=True)
    session = ort.InferenceSession(str(args.onnx), providers=["CPUExecutionProvider"])
    artifacts = [convert(args.onnx, args.out, precision, session) for precision in args.precisions]
    write_report(args.out, format_name, artifacts, time.time() - start)
    return 0


def nchw_io(session: ort.InferenceSession) -> dict:
    """The ONNX file's float32 NCHW input (range [-1, 1]) and outputs, as a format's io records them."""
    inp = session.get_inputs()[0]
    shapes = {o.name: o.shape[1:] for o in session.get_outputs()}
    return {"input": {"name": inp.name, "shape": inp.shape[1:], "layout": "NCHW", "dtype": "float32", "range": [-1, 1]},
            "outputs": {n: {"shape": shapes[n], "dtype": "float32"} for n in OUTPUT_NAMES}}


def errors_vs_onnxruntime(runner: Runner, session: ort.InferenceSession) -> dict[str, float]:
    """Max abs error per output on one random square; raises when an output's shape differs from ONNX's."""
    size = session.get_inputs()[0].shape[2]
    square = np.random.default_rng(0).integers(0, 256, (size, size, 3), dtype=np.uint8)
    expected = session.run(list(OUTPUT_NAMES), {session.get_inputs()[0].name: nchw_input(square)})
    errors = {}
    for name, ref, out in zip(OUTPUT_NAMES, expected, runner.run_one(square)):
        if out.shape != ref.shape:
            raise RuntimeError(f"output {name!r}: shape {out.shape}, ONNX gives {ref.shape}")
        errors[name] = float(np.abs(out - ref).max())
    return errors
