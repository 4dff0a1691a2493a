"""PyTorch checkpoint -> ONNX (opset 18, simplified with onnxslim): the source of the other conversions."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import onnx
import onnxslim
import torch

from exporter.checkpoint import load_model
from exporter.export.artifacts import Artifact, converter_args, write_report
from exporter.export.embedded import add_onnx_metadata
from exporter.export.metadata import describe, model_spec
from exporter.spec import OUTPUT_NAMES

OPSET = 18
INPUT_NAME = "input"


def export_onnx(checkpoint: Path, path: Path) -> onnx.ModelProto:
    """Trace the model on a (1, 3, S, S) input in [-1, 1] and write a simplified ONNX file that describes itself."""
    model, payload = load_model(checkpoint, fold_batchnorm=True)
    size = model.config.input_size
    raw = path.with_suffix(".raw.onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notices
        torch.onnx.export(model, torch.zeros(1, 3, size, size), str(raw), input_names=[INPUT_NAME],
                          output_names=list(OUTPUT_NAMES), opset_version=OPSET, dynamo=False)
    slim = onnxslim.slim(onnx.load(str(raw)))
    raw.unlink()
    add_onnx_metadata(slim, describe(payload, model_spec(payload)))
    onnx.checker.check_model(slim)
    onnx.save(slim, str(path))
    return slim


def onnx_io(model: onnx.ModelProto) -> dict:
    """Input/output names and shapes, opset and op histogram of an ONNX model."""
    def shape(v):
        return [d.dim_value for d in v.type.tensor_type.shape.dim]

    ops: dict[str, int] = {}
    for node in model.graph.node:
        ops[node.op_type] = ops.get(node.op_type, 0) + 1
    return {
        "inputs": {v.name: {"shape": shape(v), "dtype": "float32", "layout": "NCHW", "range": [-1, 1]} for v in model.graph.input},
        "outputs": {v.name: {"shape": shape(v), "dtype": "float32"} for v in model.graph.output},
        "opset": model.opset_import[0].version,
        "ops": dict(sorted(ops.items())),
    }


def main(argv=None) -> int:
    """Write facekit.onnx and its report."""
    args = converter_args(__doc__, argv)
    start = time.time()
    model = export_onnx(args.checkpoint, args.onnx)
    info = onnx_io(model)
    names = [o for o in info["outputs"]]
    checks = {"output_order": names, "output_order_ok": names == list(OUTPUT_NAMES), "opset": info["opset"]}
    rel = str(args.onnx.relative_to(args.out))
    write_report(args.out, "onnx", [Artifact("onnx", "fp32", rel, [rel], info, checks)], time.time() - start)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
