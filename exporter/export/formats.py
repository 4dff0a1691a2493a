"""The table of export formats: the CLI, option validation, verification and the benchmark all read it.

One row per format; each format yields one artifact per precision. `converter` is the module run in
its own process (`python -m MODULE --onnx ... --checkpoint ... --out DIR --precisions ...`); `runtime`
names the host runner in exporter.export.runners (None: nothing can run it on this host).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

PRECISIONS = ("fp32", "fp16", "int8-dynamic", "int8")


@dataclass(frozen=True)
class Format:
    """One export format."""

    name: str
    targets: tuple[str, ...]  # make/CLI targets that include it ("all" includes every format)
    suffix: str
    precisions: tuple[str, ...]  # precisions exported by default, in this order
    converter: str  # module with a main(argv) that writes the artifacts
    runtime: str | None  # host runner name, or None when the host cannot run it
    app_folder: str | None  # where the android/ios target installs it, relative to the repo
    note: str
    convert_seconds: int  # about how long its converter runs on 2 cores (the export starts the slowest first)

    def artifact_name(self, precision: str) -> str:
        """File (or package folder) name of one artifact."""
        if self.name in ("onnx", "opencv"):  # OpenCV DNN runs the ONNX file itself
            return "facekit.onnx"
        if self.name == "coreml":
            return "FaceKit.mlpackage"
        return f"facekit_{precision.replace('-', '_')}{self.suffix}"


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("onnx", ("onnx",), ".onnx", ("fp32",), "exporter.export.to_onnx", "onnxruntime", None,
               "opset 18, simplified with onnxslim; the source of the TFLite and ncnn conversions", 12),
        Format("tflite", ("android",), ".tflite", ("fp32", "fp16", "int8-dynamic", "int8"), "exporter.export.to_tflite",
               "litert", "android_app/app/src/main/assets",
               "onnx2tf 1.29.16, NHWC; fp16 weights; dynamic-range int8; full int8 with int8 input/output", 55),
        Format("coreml", ("ios",), ".mlpackage", ("fp16",), "exporter.export.to_coreml", None,
               "ios_app/FaceKitDemo/Models",
               "ML Program, iOS 16+, image input with the normalisation embedded; predicts on macOS only", 28),
        Format("ncnn", ("ncnn",), ".ncnn.param", ("fp32", "fp16"), "exporter.export.to_ncnn", "ncnn",
               "android_app/app/src/main/assets/ncnn", "pnnx from the ONNX file; fp16 storage variant", 5),
        Format("opencv", ("opencv",), ".onnx", ("fp32",), "exporter.export.to_opencv", "opencv", None,
               "the ONNX file itself, loaded by cv2.dnn.readNetFromONNX (OpenCV 4.10); outputs fetched by name", 4),
        Format("mnn", ("mnn",), ".mnn", ("fp32", "fp16", "int8-dynamic", "int8"), "exporter.export.to_mnn", "mnn", None,
               "MNN 3.6.1 converter from the ONNX file; fp16 weights; int8-dynamic: 8-bit weights, float activations; "
               "int8: MNN's quantisation tool, int8 weights and activations calibrated on the int8 images", 41),
        Format("executorch", ("executorch",), ".pte", ("fp32", "int8"), "exporter.export.to_executorch", "executorch",
               None, "ExecuTorch 1.5.1 from the checkpoint (torch.export), XNNPACK delegate; int8: PT2E with the "
               "XNNPACK quantizer, calibrated, float input and outputs", 134),
    )
}
TARGETS = ("android", "ios", "executorch", "mnn", "ncnn", "onnx", "opencv", "all")


class ExportOptionError(ValueError):
    """An unknown target, format or precision; the message lists the valid values."""


def _unknown(kind: str, value: str, valid) -> ExportOptionError:
    close = difflib.get_close_matches(value, list(valid), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ExportOptionError(f"unknown {kind} {value!r}{hint}; valid {kind}s: {', '.join(valid)}")


def formats_for(target: str) -> list[Format]:
    """The formats a target exports (ONNX always comes first: the others are converted from it)."""
    if target not in TARGETS:
        raise _unknown("target", target, TARGETS)
    chosen = [f for f in FORMATS.values() if target == "all" or target in f.targets]
    onnx = FORMATS["onnx"]
    return [onnx] + [f for f in chosen if f is not onnx]


def precisions_for(fmt: Format, requested: list[str] | None) -> tuple[str, ...]:
    """ONNX always fp32 (the source of the others); other formats their defaults or the requested ones they offer."""
    for p in requested or ():
        if p not in PRECISIONS:
            raise _unknown("precision", p, PRECISIONS)
    if fmt.name == "onnx" or not requested:
        return fmt.precisions
    kept = tuple(p for p in fmt.precisions if p in requested)
    if not kept:
        raise ExportOptionError(f"{fmt.name} offers precisions {', '.join(fmt.precisions)}, "
                                f"not {', '.join(requested)}; drop --precision or add one of those")
    return kept
