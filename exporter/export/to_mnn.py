"""ONNX -> MNN (.mnn) with MNN's converter: fp32, fp16 weights, and 8-bit weights (int8-dynamic)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import onnxruntime as ort

from exporter.export.artifacts import Artifact
from exporter.export.crosscheck import convert_each, errors_vs_onnxruntime, nchw_io
from exporter.export.formats import FORMATS
from exporter.runner import mnn_runner

# int8-dynamic: weights stored in 8 bits and dequantised by MNN; activations stay float (no calibration).
OPTIONS = {"fp32": [], "fp16": ["--fp16"], "int8-dynamic": ["--weightQuantBits", "8"]}


def run_mnnconvert(onnx_path: Path, target: Path, options: list[str]) -> str:
    """Run MNN's converter in its own process; returns its output, raises with the output's tail on failure.

    It calls the compiled converter (`_tools.mnnconvert`) directly: the `MNN.tools.mnnconvert` wrapper sends usage
    logs to Alibaba Cloud and runs `pip install aliyun-log-python-sdk` when that package is missing.
    """
    command = [sys.executable, "-c", "import sys, _tools; _tools.mnnconvert(sys.argv)",
               "-f", "ONNX", "--modelFile", str(onnx_path),
               "--MNNModel", str(target), "--bizCode", "facekit", *options]
    result = subprocess.run(command, capture_output=True, text=True, errors="replace")
    output = result.stdout + result.stderr
    if result.returncode != 0 or "Converted Success" not in output or not target.is_file():
        tail = "\n".join(output.splitlines()[-20:])
        raise RuntimeError(f"mnnconvert failed to convert {onnx_path} (exit status {result.returncode}); "
                           f"last lines of its output:\n{tail}")
    return output


def convert(onnx_path: Path, out: Path, precision: str, session: ort.InferenceSession) -> Artifact:
    """Write facekit_<precision>.mnn, run it against onnxruntime and describe it."""
    target = out / FORMATS["mnn"].artifact_name(precision)
    run_mnnconvert(onnx_path, target, OPTIONS[precision])
    io = {**nchw_io(session), "converter_options": OPTIONS[precision]}
    checks = {"max_abs_error_vs_onnxruntime": errors_vs_onnxruntime(mnn_runner(target, io), session),
              "bytes": target.stat().st_size}
    return Artifact("mnn", precision, target.name, [target.name], io, checks)


def main(argv=None) -> int:
    """Write facekit_<precision>.mnn for each precision, and the report."""
    return convert_each(__doc__, "mnn", tuple(OPTIONS), convert, argv)


if __name__ == "__main__":
    raise SystemExit(main())
