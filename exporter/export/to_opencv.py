"""ONNX -> OpenCV DNN: no new file; the ONNX file is loaded by cv2.dnn and its outputs checked against onnxruntime."""

from __future__ import annotations

import time

import cv2
import onnxruntime as ort

from exporter.export.artifacts import Artifact, converter_args, write_report
from exporter.export.crosscheck import errors_vs_onnxruntime
from exporter.export.formats import FORMATS
from exporter.runner import opencv_runner
from exporter.spec import OUTPUT_NAMES

PRECISIONS = ("fp32",)


def check(onnx_path, session: ort.InferenceSession) -> Artifact:
    """Load the ONNX file in OpenCV DNN, fetch every output by name and describe the artifact."""
    net = cv2.dnn.readNetFromONNX(str(onnx_path))
    missing = sorted(set(OUTPUT_NAMES) - set(net.getUnconnectedOutLayersNames()))
    if missing:
        raise RuntimeError(f"OpenCV DNN does not expose the outputs {missing} of {onnx_path.name}")
    name = FORMATS["opencv"].artifact_name("fp32")
    shapes = {o.name: o.shape[1:] for o in session.get_outputs()}
    inp = session.get_inputs()[0]
    io = {"input": {"name": inp.name, "shape": inp.shape[1:], "layout": "NCHW", "dtype": "float32", "range": [-1, 1]},
          "outputs": {n: {"shape": shapes[n], "dtype": "float32"} for n in OUTPUT_NAMES},
          "fetch": "net.forward(output names): OpenCV's own output order differs from the ONNX file's"}
    checks = {"opencv_version": cv2.__version__, "layers": len(net.getLayerNames()),
              "opencv_output_order": list(net.getUnconnectedOutLayersNames()),
              "max_abs_error_vs_onnxruntime": errors_vs_onnxruntime(opencv_runner(onnx_path), session)}
    return Artifact("opencv", "fp32", name, [name], io, checks)


def main(argv=None) -> int:
    """Check the ONNX file in OpenCV DNN and write the report."""
    args = converter_args(__doc__, argv)
    unsupported = sorted(set(args.precisions) - set(PRECISIONS))
    if unsupported:
        raise ValueError(f"opencv precisions are {', '.join(PRECISIONS)}; got {', '.join(unsupported)}")
    start = time.time()
    session = ort.InferenceSession(str(args.onnx), providers=["CPUExecutionProvider"])
    write_report(args.out, "opencv", [check(args.onnx, session)], time.time() - start)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
