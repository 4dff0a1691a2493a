"""ONNX -> MNN (.mnn) with MNN's tools: fp32, fp16 weights, 8-bit weights (int8-dynamic) and calibrated int8 (int8)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from functools import partial
from pathlib import Path

import cv2
import numpy as np
import onnx
from onnx import numpy_helper
import onnxruntime as ort

from exporter.export.artifacts import Artifact, converter_args
from exporter.export.crosscheck import convert_each, errors_vs_onnxruntime, nchw_io
from exporter.export.formats import FORMATS
from exporter.export.images import load_calibration
from exporter.jsonio import MB, load_json, write_json
from exporter.runner import mnn_runner
from exporter.spec import FACEKIT, InputSpec

# int8-dynamic: weights stored in 8 bits and dequantised by MNN; activations stay float (no calibration).
# int8: converted as fp32, then quantised by MNN's offline tool (int8 weights and activations, calibrated), but for
# the convolutions at the stem's resolution (stem_resolution_convs), which stay float.
OPTIONS = {"fp32": [], "fp16": ["--fp16"], "int8-dynamic": ["--weightQuantBits", "8"], "int8": []}
# KL activation ranges, MAX_ABS weights (MNN's defaults), activations clamped to [-120, 120] as MNN's docs suggest
# when errors are large: mean age difference on the verification images, built-in set / datasets folder, 1.53 / 1.05
# with the default 127 (the built-in set fails the 1.5 gate), 1.37 / 1.10 with 120. ADMM activations crash the tool
# (SIGSEGV); EMA took 320 s for 1,000 images (KL 40 s).
QUANT_SETTINGS = {"feature_quantize_method": "KL", "weight_quantize_method": "MAX_ABS", "feature_clamp_value": 120}
# The convolutions after the stem at its resolution (64x64 for a 128 input: the first two BlazeBlocks) stay float.
# Quantising them too, the 6,000-step base model's built-in set gave 1.79 y mean age difference (gate 1.5) and the
# datasets folder 0.949 of faces (gate 0.98); keeping them float, 1.36 y and 0.983. Other choices tried on that model
# (built-in / datasets): clamp 100, 127 or ADMM weights failed one set or both; float stem and those blocks
# 1.35 y / 0.966 faces, the first four blocks 1.48 y / 0.983, only the first block 1.70 y / 0.983, the attribute
# heads or the stride-16 blocks ~1.8 y. MNN's int8 runs slower than its fp32 on x86 (3.7 against 1.3 ms), and the
# float blocks change that by under 0.1 ms.


def run_tool(code: str, arguments: list[str], success: str, target: Path, what: str) -> str:
    """Run one of MNN's compiled tools (`_tools.<name>(argv)`) in its own process; returns its output, raises with
    the output's tail when it fails.

    The compiled tools are called directly: the `MNN.tools` wrappers send usage logs to Alibaba Cloud (and run
    `pip install aliyun-log-python-sdk` when it is missing), and 3.6.1's `mnnquant` wrapper passes three strings
    where the compiled tool now takes an argv list, which aborts it (std::length_error).
    """
    result = subprocess.run([sys.executable, "-c", f"import sys, _tools; _tools.{code}(sys.argv)", *arguments],
                            capture_output=True, text=True, errors="replace")
    output = result.stdout + result.stderr
    if result.returncode != 0 or success not in output or not target.is_file():
        tail = "\n".join(output.replace("\r", "\n").splitlines()[-20:])
        raise RuntimeError(f"{what} (exit status {result.returncode}); last lines of its output:\n{tail}")
    return output


def conv_parameters_in_fp16(onnx_path: Path, target: Path) -> Path:
    """A copy of the ONNX file whose convolution weights and biases are rounded to the nearest fp16 value.

    MNN's `--fp16` stores them in half precision with an error bias (on the shipped checkpoint its file's gender
    output was 5.8e-3 of its range off on the sample photos, as truncating every weight towards zero gives, where
    rounding gives 1.4e-3, TFLite's fp16 file's figure); values already in fp16 go through it unchanged.
    """
    model = onnx.load(str(onnx_path))
    conv_inputs = {name for node in model.graph.node if node.op_type == "Conv" for name in node.input[1:]}
    for tensor in model.graph.initializer:
        if tensor.name in conv_inputs and tensor.data_type == onnx.TensorProto.FLOAT:
            rounded = numpy_helper.to_array(tensor).astype(np.float16).astype(np.float32)
            tensor.CopyFrom(numpy_helper.from_array(rounded, tensor.name))
    onnx.save(model, str(target))
    return target


def run_mnnconvert(onnx_path: Path, target: Path, options: list[str]) -> str:
    """Convert the ONNX file with MNN's converter."""
    return run_tool("mnnconvert", ["-f", "ONNX", "--modelFile", str(onnx_path), "--MNNModel", str(target),
                                   "--bizCode", "facekit", *options], "Converted Success", target,
                    f"mnnconvert failed to convert {onnx_path}")


def stem_resolution_convs(onnx_path: Path) -> list[str]:
    """Output names of the convolutions after the first one that keep its output's resolution (MNN names each
    convolution op after its output)."""
    model = onnx.shape_inference.infer_shapes(onnx.load(str(onnx_path)))
    values = [*model.graph.value_info, *model.graph.output]
    sizes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim][2:] for v in values}
    convs = [node.output[0] for node in model.graph.node if node.op_type == "Conv"]
    return [name for name in convs[1:] if sizes[name] == sizes[convs[0]]]


def quant_config(images: Path, count: int, float_ops: list[str], spec: InputSpec = FACEKIT.input) -> dict:
    """MNN's quantisation config: the calibration image folder, the model's normalisation, (pixel - mean) * normal,
    and the ops left in float."""
    return {"format": spec.colour, "mean": [spec.mean] * 3, "normal": [spec.pixel_scale] * 3, "width": spec.size,
            "height": spec.size, "path": f"{images}/", "used_image_num": count, **QUANT_SETTINGS,
            "skip_quant_op_names": float_ops}


def run_mnnquant(source: Path, target: Path, calibration: np.ndarray, float_ops: list[str]) -> int:
    """Quantise an fp32 .mnn file to int8 with MNN's offline tool, calibrated on uint8 RGB squares (written as PNG
    files, the input the tool reads), leaving float_ops in float; returns how many ops it gave int8 scales."""
    with tempfile.TemporaryDirectory(prefix="facekit-mnnquant-") as tmp:
        images = Path(tmp) / "images"
        images.mkdir()
        for i, square in enumerate(calibration):
            cv2.imwrite(str(images / f"{i:04d}.png"), cv2.cvtColor(square, cv2.COLOR_RGB2BGR))
        config = write_json(Path(tmp) / "config.json", quant_config(images, len(calibration), float_ops))
        produced = Path(tmp) / target.name  # the tool also writes the tensor scales beside it, as <name>.json
        run_tool("mnnquant", [str(source), str(produced), str(config)], "Quantize model done", produced,
                 f"mnnquant failed to quantise {source}")
        scales = load_json(Path(f"{produced}.json"), max_bytes=MB, what="mnnquant tensor scales")
        shutil.move(produced, target)
    return len(scales)


def convert(onnx_path: Path, out: Path, precision: str, session: ort.InferenceSession,
            calibration: np.ndarray | None = None) -> Artifact:
    """Write facekit_<precision>.mnn, run it against onnxruntime and describe it."""
    target = out / FORMATS["mnn"].artifact_name(precision)
    checks: dict = {}
    if precision == "int8":
        with tempfile.TemporaryDirectory(prefix="facekit-mnn-") as tmp:
            fp32 = Path(tmp) / "fp32.mnn"
            run_mnnconvert(onnx_path, fp32, OPTIONS["fp32"])
            float_ops = stem_resolution_convs(onnx_path)
            checks["int8_ops"] = run_mnnquant(fp32, target, calibration, float_ops)
        checks["calibration_images"] = len(calibration)
        io = {**nchw_io(session), "quantization": {"tool": "mnnquant", **QUANT_SETTINGS, "float_ops": float_ops}}
    elif precision == "fp16":
        with tempfile.TemporaryDirectory(prefix="facekit-mnn-") as tmp:
            run_mnnconvert(conv_parameters_in_fp16(onnx_path, Path(tmp) / "fp16.onnx"), target, OPTIONS[precision])
        io = {**nchw_io(session), "converter_options": OPTIONS[precision], "conv_parameters": "rounded to fp16 first"}
    else:
        run_mnnconvert(onnx_path, target, OPTIONS[precision])
        io = {**nchw_io(session), "converter_options": OPTIONS[precision]}
    checks |= {"max_abs_error_vs_onnxruntime": errors_vs_onnxruntime(mnn_runner(target, io), session),
               "bytes": target.stat().st_size}
    return Artifact("mnn", precision, target.name, [target.name], io, checks)


def main(argv=None) -> int:
    """Write facekit_<precision>.mnn for each precision, and the report."""
    args = converter_args(__doc__, argv)
    calibration = load_calibration(args.calibration) if "int8" in args.precisions else None
    return convert_each(__doc__, "mnn", tuple(OPTIONS), partial(convert, calibration=calibration), argv)


if __name__ == "__main__":
    raise SystemExit(main())
