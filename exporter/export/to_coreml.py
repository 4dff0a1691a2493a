"""PyTorch checkpoint -> Core ML ML Program (FaceKit.mlpackage: fp16, iOS 16+, RGB image input), checked statically."""

from __future__ import annotations

import logging
import os
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # coremltools imports TensorFlow: hide its info lines
os.environ.setdefault("TQDM_DISABLE", "1")  # the converter's progress bars
logging.getLogger("coremltools").setLevel(logging.ERROR)  # 'torch version not tested', 'Failed to load ...Proxy'

import coremltools as ct  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from coremltools.proto import MIL_pb2  # noqa: E402
from coremltools.proto.FeatureTypes_pb2 import ArrayFeatureType, ImageFeatureType  # noqa: E402

from exporter import __version__  # noqa: E402
from exporter.checkpoint import load_model  # noqa: E402
from exporter.export.artifacts import Artifact, converter_args, write_report  # noqa: E402
from exporter.export.formats import FORMATS  # noqa: E402
from exporter.export.metadata import METADATA_KEY, as_json, describe, model_spec  # noqa: E402
from exporter.model.blazeface import FaceKitNet  # noqa: E402
from exporter.spec import FACEKIT, OUTPUT_NAMES  # noqa: E402

PACKAGE = FORMATS["coreml"].artifact_name("fp16")
INPUT_NAME = "image"
SCALE, BIAS = FACEKIT.input.pixel_scale, FACEKIT.input.pixel_bias  # pixel p -> p * SCALE + BIAS in [-1, 1]
TARGET = ct.target.iOS16
# MIL ops the model needs: conv (convs, depthwise convs), relu, add (residuals, the image bias), max_pool, pad (channel
# padding of the residuals), transpose + reshape (per-anchor outputs), concat (16x16 then 8x8 anchors), mul (image
# scale), cast (fp32 image and outputs <-> fp16 compute), const (weights and op parameters); with age bins, softmax
# and linear (the bins' probabilities and their mean).
ALLOWED_OPS = frozenset({"const", "conv", "relu", "add", "max_pool", "pad", "transpose", "reshape", "concat", "mul",
                         "cast", "softmax", "linear"})
TOLERANCE = 5e-3  # macOS prediction vs PyTorch: max error relative to each output's range


class CoreMLCheckError(RuntimeError):
    """The saved package does not have the inputs, outputs, ops or precision FaceKit ships."""


def convert(checkpoint: Path, package: Path) -> FaceKitNet:
    """Trace the checkpoint's model, convert it to an fp16 ML Program with metadata and save it; return the model."""
    model, payload = load_model(checkpoint, fold_batchnorm=True)
    size = model.config.input_size
    with torch.no_grad():
        traced = torch.jit.trace(model, torch.zeros(1, 3, size, size))
    image = ct.ImageType(name=INPUT_NAME, shape=(1, 3, size, size), scale=SCALE, bias=[BIAS] * 3,
                         color_layout=ct.colorlayout.RGB)
    mlmodel = ct.convert(traced, inputs=[image], outputs=[ct.TensorType(name=n, dtype=np.float32) for n in OUTPUT_NAMES],
                         convert_to="mlprogram", compute_precision=ct.precision.FLOAT16, minimum_deployment_target=TARGET)
    mlmodel.author = "FaceKit"
    mlmodel.short_description = ("FaceKit multitask face model (BlazeFace-style, 896 anchors): face boxes, 6 keypoints, "
                                 "face scores, age and gender per anchor. Decode with the anchors metadata.")
    mlmodel.version = __version__
    mlmodel.license = "Apache-2.0 (code); see the FaceKit model card for the weights' training-data terms"
    mlmodel.input_description[INPUT_NAME] = f"RGB image, {size}x{size}, letterboxed; normalised to [-1, 1] in the model"
    description = describe(payload, model_spec(payload))
    for output in description["outputs"]:
        mlmodel.output_description[output["name"]] = output["meaning"]
    mlmodel.user_defined_metadata[METADATA_KEY] = as_json(description)
    if package.exists():
        shutil.rmtree(package)
    mlmodel.save(str(package))
    return model


def _dtype(op: MIL_pb2.Operation) -> str:
    """MIL dtype name of an op's first output (FLOAT16, FLOAT32, INT32 ...)."""
    return MIL_pb2.DataType.Name(op.outputs[0].type.tensorType.dataType)


def _floats(const: MIL_pb2.Operation) -> list[float]:
    """Values of a small fp32 const op (stored in the program, not in the weight file)."""
    return [float(v) for v in const.attributes["val"].immediateValue.tensor.floats.values]


def inspect_package(package: Path, input_shape: list[int], output_shapes: dict[str, list[int]]) -> tuple[dict, dict]:
    """io and checks of a saved package from its spec alone (no Core ML runtime); raise CoreMLCheckError on a problem."""
    spec = ct.models.MLModel(str(package), skip_model_load=True).get_spec()
    if spec.WhichOneof("Type") != "mlProgram":
        raise CoreMLCheckError(f"{package} is a {spec.WhichOneof('Type')} model, not an ML Program")
    main = spec.mlProgram.functions["main"]
    ops = main.block_specializations[main.opset].operations
    problems = []
    if spec.specificationVersion > TARGET.value:
        problems.append(f"spec version {spec.specificationVersion} needs a newer OS than iOS 16 (spec {TARGET.value})")

    inputs = [(i.name, i.type.WhichOneof("Type")) for i in spec.description.input]
    if inputs != [(INPUT_NAME, "imageType")]:
        problems.append(f"inputs are {inputs}, want one imageType named {INPUT_NAME!r}")
    else:
        image = spec.description.input[0].type.imageType
        colour = ImageFeatureType.ColorSpace.Name(image.colorSpace)
        shape = [d.constant.size for d in main.inputs[0].type.tensorType.dimensions]
        if colour != "RGB" or shape != input_shape or [image.height, image.width] != input_shape[2:]:
            problems.append(f"input is {colour} {image.height}x{image.width}, shape {shape}; want RGB, shape {input_shape}")

    producers = {o.name: op for op in ops for o in op.outputs}
    consumers = {a.name: op for op in ops for arg in op.inputs.values() for a in arg.arguments}
    scale_op = consumers.get(INPUT_NAME)
    bias_op = scale_op and consumers.get(scale_op.outputs[0].name)
    if not (scale_op and scale_op.type == "mul" and bias_op and bias_op.type == "add"):
        raise CoreMLCheckError(f"{package}: the image normalisation (mul then add) is not the first thing done to the input")
    norm_consts = [producers[op.inputs["y"].arguments[0].name] for op in (scale_op, bias_op)]
    scale, bias = (_floats(c) for c in norm_consts)
    if not (np.allclose(scale, SCALE) and len(bias) == 3 and np.allclose(bias, BIAS)):
        problems.append(f"image normalisation is x * {scale} + {bias}, want x * {SCALE} + {BIAS}")

    outputs = {o.name: {"shape": list(o.type.multiArrayType.shape),
                        "dtype": ArrayFeatureType.ArrayDataType.Name(o.type.multiArrayType.dataType).lower()}
               for o in spec.description.output}
    want = {n: {"shape": s, "dtype": "float32"} for n, s in output_shapes.items()}
    if list(outputs) != list(OUTPUT_NAMES) or outputs != want:
        problems.append(f"outputs are {outputs}, want {want} in this order")

    histogram = dict(sorted(Counter(op.type for op in ops).items()))
    unexpected = sorted(set(histogram) - ALLOWED_OPS)
    if unexpected:
        problems.append(f"ops outside the plain set {sorted(ALLOWED_OPS)}: {unexpected}")
    consts = [op for op in ops if op.type == "const"]
    by_dtype = dict(sorted(Counter(_dtype(op) for op in consts).items()))
    fp32 = [op.outputs[0].name for op in consts if _dtype(op) == "FLOAT32" and op not in norm_consts]
    if fp32 or not by_dtype.get("FLOAT16"):
        problems.append(f"weights are not fp16: consts by dtype {by_dtype}; fp32 besides the normalisation: {fp32[:5]}")
    conv_dtypes = sorted({_dtype(op) for op in ops if op.type == "conv"})
    if conv_dtypes != ["FLOAT16"]:
        problems.append(f"convolutions compute in {conv_dtypes}, want FLOAT16")
    if problems:
        raise CoreMLCheckError(f"{package} failed its checks:\n  " + "\n  ".join(problems))

    io = {
        "inputs": {INPUT_NAME: {"type": "image", "color_layout": "RGB", "shape": input_shape, "scale": scale[0],
                                "bias": bias, "range": [-1, 1], "pixel_range": [0, 255]}},
        "outputs": outputs,
        "minimum_deployment_target": "iOS16",
    }
    checks = {
        "model_type": "mlProgram", "spec_version": spec.specificationVersion, "opset": main.opset,
        "output_order": list(outputs), "output_order_ok": True, "ops": histogram, "allowed_ops": sorted(ALLOWED_OPS),
        "consts_by_dtype": by_dtype, "weights_fp16": True, "compute_fp16": True,
        "package_bytes": sum(f.stat().st_size for f in package.rglob("*") if f.is_file()),
    }
    return io, checks


def compare_predictions(package: Path, model: FaceKitNet, images: int = 3) -> dict[str, float]:
    """Core ML (macOS) vs PyTorch on seeded random images: the max error of each output relative to its range."""
    from PIL import Image

    mlmodel = ct.models.MLModel(str(package))
    size = model.config.input_size
    rng = np.random.default_rng(0)
    errors = dict.fromkeys(OUTPUT_NAMES, 0.0)
    for _ in range(images):
        pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        got = mlmodel.predict({INPUT_NAME: Image.fromarray(pixels)})
        with torch.no_grad():
            want = model(torch.from_numpy(pixels).permute(2, 0, 1)[None].float() * SCALE + BIAS)
        for name, ref in zip(OUTPUT_NAMES, want):
            ref = ref.numpy()
            span = float(ref.max() - ref.min()) or 1.0
            errors[name] = max(errors[name], float(np.abs(got[name] - ref).max()) / span)
    bad = {n: e for n, e in errors.items() if e > TOLERANCE}
    if bad:
        raise CoreMLCheckError(f"{package} predictions differ from PyTorch by more than {TOLERANCE} of the range: {bad}")
    return errors


def main(argv=None) -> int:
    """Write FaceKit.mlpackage and its report."""
    args = converter_args(__doc__, argv)
    if args.precisions != ["fp16"]:
        print(f"to_coreml: Core ML is exported in fp16 only (an ML Program with fp16 compute); "
              f"got --precisions {' '.join(args.precisions)}, pass --precisions fp16", file=sys.stderr)
        return 2
    start = time.time()
    package = args.out / PACKAGE
    model = convert(args.checkpoint, package)
    input_shape = [1, 3, model.config.input_size, model.config.input_size]
    with torch.no_grad():
        outputs = model(torch.zeros(input_shape))
    io, checks = inspect_package(package, input_shape, {n: list(t.shape) for n, t in zip(OUTPUT_NAMES, outputs)})
    if sys.platform == "darwin":
        checks.update(numbers_checked=True, max_error_vs_range=compare_predictions(package, model), tolerance=TOLERANCE)
    else:
        checks.update(numbers_checked=False, numbers_reason="Core ML prediction needs macOS")
    write_report(args.out, "coreml", [Artifact("coreml", "fp16", PACKAGE, [PACKAGE], io, checks)], time.time() - start)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
