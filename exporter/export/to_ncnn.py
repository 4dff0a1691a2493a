"""ONNX -> ncnn (.param + .bin) with pnnx: fp32 weights, and fp16 weight storage."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
import onnxruntime as ort

from exporter.export.artifacts import Artifact
from exporter.export.crosscheck import convert_each
from exporter.export.formats import FORMATS
from exporter.ncnn_net import NcnnRunner
from exporter.runner import nchw_input
from exporter.spec import FACEKIT, OUTPUT_NAMES

# The pnnx executable ships inside the pnnx package (importing the package would also import torch).
PNNX = Path(importlib.util.find_spec("pnnx").origin).with_name("pnnx")
PRECISIONS = ("fp32", "fp16")  # fp16: fp16 weight storage (pnnx fp16=1); bf16 is left off
MAPPING_TOLERANCE = 1e-2  # of each ONNX output's range: fp16 weights stay well inside, a wrong blob does not


def run_pnnx(onnx_path: Path, param: Path, weights: Path, fp16: bool) -> None:
    """Convert a copy of the ONNX file in a temporary folder (pnnx writes side files next to its input)."""
    with tempfile.TemporaryDirectory(prefix="facekit-pnnx-") as tmp:
        work = Path(tmp)
        shutil.copyfile(onnx_path, work / "model.onnx")
        command = [str(PNNX), "model.onnx", f"fp16={int(fp16)}", "ncnnparam=model.ncnn.param", "ncnnbin=model.ncnn.bin"]
        result = subprocess.run(command, cwd=work, capture_output=True, text=True, errors="replace")
        produced = [work / "model.ncnn.param", work / "model.ncnn.bin"]
        if result.returncode != 0 or not all(p.is_file() for p in produced):
            tail = "\n".join((result.stdout + result.stderr).splitlines()[-20:])
            raise RuntimeError(f"pnnx failed to convert {onnx_path} (exit status {result.returncode}); "
                               f"last lines of its output:\n{tail}")
        shutil.move(produced[0], param)
        shutil.move(produced[1], weights)


def layer_types(param: Path) -> dict[str, int]:
    """Histogram of the layer types in a .param file (after its magic and count lines)."""
    lines = param.read_text().splitlines()[2:]
    return dict(sorted(Counter(line.split()[0] for line in lines if line.strip()).items()))


def map_outputs(runner: NcnnRunner, session: ort.InferenceSession) -> tuple[dict[str, str], dict[str, float]]:
    """Canonical output name -> ncnn blob, matched by shape and by numbers on one random square."""
    size = session.get_inputs()[0].shape[2]
    square = np.random.default_rng(0).integers(0, 256, (size, size, 3), dtype=np.uint8)
    expected = session.run(list(OUTPUT_NAMES), {session.get_inputs()[0].name: nchw_input(square)})
    got = dict(zip(runner.output_blobs, runner.extract(square, runner.output_blobs)))
    mapping, errors = {}, {}
    for name, ref in zip(OUTPUT_NAMES, expected):
        ref = ref[0]
        tolerance = MAPPING_TOLERANCE * float(ref.max() - ref.min())
        close = {blob: float(np.abs(out - ref).max()) for blob, out in got.items() if out.shape == ref.shape}
        close = {blob: error for blob, error in close.items() if error <= tolerance}
        if len(close) != 1:
            raise RuntimeError(f"ONNX output {name!r} {ref.shape} matches {len(close)} ncnn blobs "
                               f"(of {list(got)}) within {tolerance:.3g}; expected exactly one")
        [(mapping[name], errors[name])] = close.items()
    if len(set(mapping.values())) != len(mapping):
        raise RuntimeError(f"two ONNX outputs map to the same ncnn blob: {mapping}")
    return mapping, errors


def convert(onnx_path: Path, out: Path, precision: str, session: ort.InferenceSession) -> Artifact:
    """Write facekit_<precision>.ncnn.param/.bin, confirm its blob mapping and describe it."""
    fp16 = precision == "fp16"
    param = out / FORMATS["ncnn"].artifact_name(precision)
    weights = param.with_suffix(".bin")
    run_pnnx(onnx_path, param, weights, fp16)
    channels, height, width = session.get_inputs()[0].shape[1:]
    spec = FACEKIT.input
    io = {
        "input": {"blob": "in0", "shape": [channels, height, width], "layout": "CHW", "dtype": "float32",
                  "range": [-1, 1], "pixel_format": "RGB", "mean_vals": [spec.mean] * 3, "norm_vals": [spec.pixel_scale] * 3,
                  "normalisation": "not embedded: Mat::from_pixels(RGB) then substract_mean_normalize"
                                   f"(mean_vals, norm_vals), i.e. (x - {spec.mean}) / {spec.std}"},
        # fp16 artifacts run with fp16 storage/arithmetic where the CPU has it; bf16 gives garbage on some CPUs.
        "options": {"use_fp16_storage": fp16, "use_fp16_packed": fp16, "use_fp16_arithmetic": fp16,
                    "use_bf16_storage": False, "use_bf16_packed": False},
    }
    runner = NcnnRunner(param, weights, io)
    if runner.net.input_names() != ["in0"]:
        raise RuntimeError(f"{param.name}: expected one input blob in0, got {runner.net.input_names()}")
    mapping, errors = map_outputs(runner, session)
    shapes = {o.name: o.shape[1:] for o in session.get_outputs()}
    io["outputs"] = {name: {"blob": mapping[name], "shape": shapes[name], "dtype": "float32"} for name in OUTPUT_NAMES}
    checks = {
        "layer_types": layer_types(param),
        "output_blobs": runner.output_blobs,
        "mapping_confirmed": True,  # map_outputs raises otherwise
        "blob_order_follows_onnx": [mapping[name] for name in OUTPUT_NAMES] == runner.output_blobs,
        "max_abs_error_vs_onnxruntime": errors,
        "weights_bytes": weights.stat().st_size,
    }
    return Artifact("ncnn", precision, param.name, [param.name, weights.name], io, checks)


def main(argv=None) -> int:
    """Write facekit_<precision>.ncnn.param/.bin for each precision, and the report."""
    return convert_each(__doc__, "ncnn", PRECISIONS, convert, argv)


if __name__ == "__main__":
    raise SystemExit(main())
