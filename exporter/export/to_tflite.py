"""ONNX -> TFLite through onnx2tf (NHWC): fp32, fp16, dynamic-range int8, full int8 with int8 input/output
(weights per channel; or, where the checkpoint's model_config.int8_per_tensor says so, the compact file: weights per
tensor and no names on the graph's inner tensors).

onnx2tf makes the SavedModel and the float files; the int8 files are quantised by TF's converter from a second
SavedModel of the same graph with its stem rewritten as SpaceToDepth + a 3x3 conv, which LiteRT's int8 kernels run
faster (`stem_rewrite`; the compact file is quantised from the first; onnx2tf would also build int16-activation
variants nobody ships). onnx2tf's pitfalls
handled here: it edits its input file (we convert a copy), it downloads a sample image file for any
model with one image input (we put real face images under that name first), and it scrambles output
names and order (we restore them from the SignatureDef and check them).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from exporter.checkpoint import model_config_of, read_checkpoint
from exporter.export.artifacts import Artifact, converter_args, write_report
from exporter.export.embedded import add_tflite_metadata
from exporter.export.formats import FORMATS
from exporter.export.images import load_calibration
from exporter.export.metadata import describe, model_spec
from exporter.export.stem_rewrite import space_to_depth_stem
from exporter.spec import FACEKIT, OUTPUT_NAMES

ONNX2TF_SAMPLE = "calibration_image_sample_data_20x128x128x3_float32.npy"  # the file onnx2tf would download
ONNX2TF_FILES = {"fp32": "model_float32.tflite", "fp16": "model_float16.tflite"}
# Ops the TFLite GPU delegate runs (float models): the same set MediaPipe's GPU BlazeFace uses, plus LOGISTIC, and
# SOFTMAX and FULLY_CONNECTED for a model with age bins (the bins' softmax and its mean).
GPU_OPS = {"ADD", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "DEQUANTIZE", "FULLY_CONNECTED", "LOGISTIC",
           "MAX_POOL_2D", "PAD", "RELU", "RESHAPE", "SOFTMAX"}
INT8_TYPES = {"int8", "int32"}  # int32 only for biases and shapes


def onnx2tf_convert(onnx_path: Path, work: Path, sample: np.ndarray) -> Path:
    """Run onnx2tf in `work` (quietly): a SavedModel plus fp32 and fp16 .tflite files in the returned folder."""
    import onnx2tf

    source = work / "model.onnx"
    shutil.copyfile(onnx_path, source)
    np.save(work / ONNX2TF_SAMPLE, sample[:20].astype(np.float32) / 255.0)
    out = work / "tflite"
    cwd = os.getcwd()
    log = io.StringIO()
    try:
        os.chdir(work)
        with contextlib.redirect_stdout(log):
            onnx2tf.convert(input_onnx_file_path=str(source), output_folder_path=str(out), non_verbose=True)
    except BaseException as error:  # onnx2tf calls sys.exit on failures
        raise RuntimeError(f"onnx2tf failed: {error!r}; its last output: {log.getvalue()[-2000:]}") from None
    finally:
        os.chdir(cwd)
    return out


def space_to_depth_saved_model(onnx_path: Path, work: Path, sample: np.ndarray) -> Path:
    """onnx2tf's SavedModel of the ONNX file with its stem rewritten for the int8 kernels (see stem_rewrite)."""
    import onnx

    work.mkdir()
    rewritten = work / "space_to_depth.onnx"
    onnx.save(space_to_depth_stem(onnx.load(str(onnx_path))), str(rewritten))
    return onnx2tf_convert(rewritten, work, sample)


def quantise(saved_model: Path, dst: Path, calibration: np.ndarray | None, per_tensor: bool = False) -> None:
    """Dynamic-range int8 (no calibration) or full int8 with int8 input/output, calibrated on real faces; weights
    per output channel, or per tensor (no scale and int64 zero point per channel: a smaller file)."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model))
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter._experimental_disable_per_channel = per_tensor  # TF's switch for per-tensor weights (no public one)
    if calibration is not None:
        floats = FACEKIT.input.normalise(calibration)
        converter.representative_dataset = lambda: ([x[None]] for x in floats)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    dst.write_bytes(converter.convert())


def restore_outputs(src: Path, dst: Path, description: dict, inner_names: bool = True) -> None:
    """Name the input 'input' and the outputs by the SignatureDef, in the canonical order; embed the model's
    description as LiteRT metadata; write to dst. Without inner_names, the other tensors lose their names (the
    converter's, such as 'model_21/tf.math.add_46/Add;model_21/tf.nn.convolution_13/convolution;Const_46': 9 KB of
    a 100 KB file that nothing reads)."""
    from tensorflow.lite.tools import flatbuffer_utils as fb

    model = fb.read_model(str(src))
    graph = model.subgraphs[0]
    signature = model.signatureDefs[0]
    by_name = {t.name.decode() if isinstance(t.name, bytes) else t.name: t.tensorIndex for t in signature.outputs}
    if set(by_name) != set(OUTPUT_NAMES):
        raise RuntimeError(f"{src.name}: signature outputs {sorted(by_name)} are not {OUTPUT_NAMES}")
    graph.outputs = np.array([by_name[n] for n in OUTPUT_NAMES], np.int32)
    if not inner_names:
        for tensor in graph.tensors:
            tensor.name = None
    for name in OUTPUT_NAMES:
        graph.tensors[by_name[name]].name = name.encode()
    graph.tensors[graph.inputs[0]].name = b"input"
    add_tflite_metadata(model, description)
    fb.write_model(model, str(dst))


def census(path: Path) -> Counter:
    """How many times each builtin op occurs."""
    from ai_edge_litert.interpreter import Interpreter

    return Counter(op["op_name"] for op in Interpreter(model_path=str(path))._get_ops_details())


def io_details(path: Path) -> dict:
    """Input/output names, shapes, dtypes and quantisation as the LiteRT interpreter sees them."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))

    def row(d: dict) -> dict:
        scale, zero = d["quantization"]
        out = {"name": d["name"], "shape": [int(v) for v in d["shape"]], "dtype": np.dtype(d["dtype"]).name}
        if scale:
            out.update(scale=float(scale), zero_point=int(zero))
        return out

    return {"inputs": [row(d) for d in interpreter.get_input_details()],
            "outputs": [row(d) for d in interpreter.get_output_details()], "layout": "NHWC"}


def tensors_not_int8(path: Path) -> list[str]:
    """Names of op inputs/outputs whose type is neither int8 nor int32 (empty for a fully int8 graph)."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    tensors = {t["index"]: t for t in interpreter.get_tensor_details()}
    bad = set()
    for op in interpreter._get_ops_details():
        for index in [*op["inputs"], *op["outputs"]]:
            if index >= 0 and np.dtype(tensors[index]["dtype"]).name not in INT8_TYPES:
                bad.add(f"{op['op_name']}:{tensors[index]['name']}")
    return sorted(bad)


def gpu_analyzer_warnings(path: Path) -> list[str]:
    """Lines of TF's GPU-compatibility analyzer that flag a problem (a weak check: pair it with the census)."""
    import tensorflow as tf

    log = io.StringIO()
    with contextlib.redirect_stdout(log):
        tf.lite.experimental.Analyzer.analyze(model_path=str(path), gpu_compatibility=True)
    return [line for line in log.getvalue().splitlines() if "GPU COMPATIBILITY WARNING" in line or "not supported" in line]


def check_artifact(path: Path, precision: str, depthwise_convs: int) -> dict:
    """Op census and delegate suitability; raises when the graph is not what phones need."""
    ops = census(path)
    checks: dict = {"ops": dict(sorted(ops.items())), "depthwise_convs_expected": depthwise_convs}
    problems = []
    if ops.get("TRANSPOSE"):
        problems.append(f"{ops['TRANSPOSE']} TRANSPOSE ops (the graph is not clean NHWC)")
    if ops.get("DEPTHWISE_CONV_2D", 0) != depthwise_convs:
        problems.append(f"{ops.get('DEPTHWISE_CONV_2D', 0)} DEPTHWISE_CONV_2D ops, expected {depthwise_convs}")
    if precision in ("fp32", "fp16"):
        outside = sorted(set(ops) - GPU_OPS)
        checks["ops_outside_gpu_set"] = outside
        checks["gpu_analyzer_warnings"] = gpu_analyzer_warnings(path)
        if outside:
            problems.append(f"ops the GPU delegate does not run: {outside}")
    if precision == "int8":
        checks["non_int8_tensors"] = tensors_not_int8(path)
        if checks["non_int8_tensors"]:
            problems.append(f"tensors that are not int8: {checks['non_int8_tensors'][:5]}")
    if problems:
        raise RuntimeError(f"{path.name}: " + "; ".join(problems))
    return checks


def depthwise_count(onnx_path: Path) -> int:
    """Depthwise Conv nodes (group == input channels > 1) in the ONNX file."""
    import onnx

    model = onnx.load(str(onnx_path))
    count = 0
    for node in model.graph.node:
        group = next((a.i for a in node.attribute if a.name == "group"), 1)
        count += node.op_type == "Conv" and group > 1
    return count


def main(argv=None) -> int:
    """Convert, restore names, check every requested precision; write the report."""
    args = converter_args(__doc__, argv)
    start = time.time()
    calibration = load_calibration(args.calibration) if "int8" in args.precisions else None
    depthwise = depthwise_count(args.onnx)
    payload = read_checkpoint(args.checkpoint)
    description = describe(payload, model_spec(payload))
    per_tensor = model_config_of(payload, args.checkpoint).int8_per_tensor
    artifacts = []
    with tempfile.TemporaryDirectory(prefix="facekit-tflite-") as tmp:
        size = FACEKIT.input.size
        sample = calibration if calibration is not None else np.zeros((1, size, size, 3), np.uint8)
        produced = onnx2tf_convert(args.onnx, Path(tmp), sample)
        int8_graph = produced if per_tensor else None  # the compact file keeps the 5x5 stem (stem_rewrite)
        for precision in args.precisions:
            name = FORMATS["tflite"].artifact_name(precision)
            source = produced / ONNX2TF_FILES.get(precision, f"{precision}.tflite")
            if precision not in ONNX2TF_FILES:
                int8_graph = int8_graph or space_to_depth_saved_model(args.onnx, Path(tmp) / "int8", sample)
                quantise(int8_graph, source, calibration if precision == "int8" else None, per_tensor)
            restore_outputs(source, args.out / name, description, inner_names=not (per_tensor and precision == "int8"))
            info = io_details(args.out / name)
            names = [o["name"] for o in info["outputs"]]
            if names != list(OUTPUT_NAMES):
                raise RuntimeError(f"{name}: outputs {names} after renaming, expected {list(OUTPUT_NAMES)}")
            checks = check_artifact(args.out / name, precision, depthwise)
            checks["calibration_images"] = len(calibration) if precision == "int8" else None
            artifacts.append(Artifact("tflite", precision, name, [name], info, checks))
    write_report(args.out, "tflite", artifacts, time.time() - start)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
