"""A converted file against onnxruntime on one random square: the check a converter records in its report."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort

from exporter.runner import Runner, nchw_input
from exporter.spec import OUTPUT_NAMES


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
