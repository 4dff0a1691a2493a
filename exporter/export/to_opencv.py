"""ONNX -> OpenCV DNN: no new file; the ONNX file is loaded by cv2.dnn and its outputs checked against onnxruntime."""

from __future__ import annotations

from pathlib import Path

import cv2
import onnxruntime as ort

from exporter.export.artifacts import Artifact
from exporter.export.crosscheck import convert_each, errors_vs_onnxruntime, nchw_io
from exporter.export.formats import FORMATS
from exporter.runner import opencv_runner
from exporter.spec import OUTPUT_NAMES

PRECISIONS = ("fp32",)


def check(onnx_path: Path, _out: Path, _precision: str, session: ort.InferenceSession) -> Artifact:
    """Load the ONNX file in OpenCV DNN, fetch every output by name and describe the artifact."""
    net = cv2.dnn.readNetFromONNX(str(onnx_path))
    missing = sorted(set(OUTPUT_NAMES) - set(net.getUnconnectedOutLayersNames()))
    if missing:
        raise RuntimeError(f"OpenCV DNN does not expose the outputs {missing} of {onnx_path.name}")
    name = FORMATS["opencv"].artifact_name("fp32")
    io = {**nchw_io(session), "fetch": "net.forward(output names): OpenCV's own output order differs from the ONNX file's"}
    checks = {"opencv_version": cv2.__version__, "layers": len(net.getLayerNames()),
              "opencv_output_order": list(net.getUnconnectedOutLayersNames()),
              "max_abs_error_vs_onnxruntime": errors_vs_onnxruntime(opencv_runner(onnx_path), session)}
    return Artifact("opencv", "fp32", name, [name], io, checks)


def main(argv=None) -> int:
    """Check the ONNX file in OpenCV DNN and write the report."""
    return convert_each(__doc__, "opencv", PRECISIONS, check, argv)


if __name__ == "__main__":
    raise SystemExit(main())
