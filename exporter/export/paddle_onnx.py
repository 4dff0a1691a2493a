"""The ONNX file spelled the way x2paddle 1.6.0 and Paddle Lite 2.12 take it: the same graph, the same numbers.

- opset 15: x2paddle maps opsets 7 to 15 only. Every op of this graph means the same at 15 as at the export's 18
  (Pad gained an optional axes input and a "wrap" mode at 18, neither used here); `for_paddle` refuses other ops.
- MaxPool without its dilations attribute when it is the default (x2paddle refuses any dilations attribute).
- each Pad of channels only (the residuals' zero channels) as a Concat with a zero tensor: x2paddle turns it into
  Paddle's generic `pad` op, which Paddle Lite 2.12's optimiser refuses on both arm and x86.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper, shape_inference

OPSET = 15
SAME_AT_OPSET = {"Add", "Concat", "Constant", "Conv", "MaxPool", "Pad", "Relu", "Reshape", "Transpose"}


def _constants(model: onnx.ModelProto) -> dict[str, np.ndarray]:
    """Initializers and Constant outputs by name."""
    values = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Constant":
            values[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    return values


def _channel_pad_as_concat(node: onnx.NodeProto, constants: dict, shapes: dict, model: onnx.ModelProto):
    """A Concat of the input and zeros for a constant Pad that only appends channels (NCHW), else None."""
    pads = constants.get(node.input[1])
    mode = next((a.s for a in node.attribute if a.name == "mode"), b"constant")
    value = node.input[2] if len(node.input) > 2 else ""
    if pads is None or mode != b"constant" or value or len(pads) != 8 or pads[5] <= 0 or np.any(np.delete(pads, 5)):
        return None
    n, _, h, w = shapes[node.input[0]]
    zeros = numpy_helper.from_array(np.zeros((n, int(pads[5]), h, w), np.float32), f"{node.output[0]}_zero_channels")
    model.graph.initializer.append(zeros)
    return helper.make_node("Concat", [node.input[0], zeros.name], list(node.output), axis=1, name=f"{node.name}_concat")


def for_paddle(source: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of the model at opset 15, default MaxPool dilations dropped, channel Pads as Concats; checked by onnx."""
    model = onnx.ModelProto()
    model.CopyFrom(source)
    unknown = {n.op_type for n in model.graph.node} - SAME_AT_OPSET
    if unknown or any(n.op_type == "Pad" and len(n.input) > 3 for n in model.graph.node):
        raise ValueError(f"ops not checked to mean the same at opset {OPSET}: {sorted(unknown) or 'Pad with axes'}")
    inferred = shape_inference.infer_shapes(model)
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in [*inferred.graph.value_info, *inferred.graph.input]}
    constants = _constants(model)
    nodes = []
    for node in model.graph.node:
        if node.op_type == "MaxPool":
            kept = [a for a in node.attribute if not (a.name == "dilations" and set(a.ints) == {1})]
            del node.attribute[:]
            node.attribute.extend(kept)
        nodes.append(node if node.op_type != "Pad" else _channel_pad_as_concat(node, constants, shapes, model) or node)
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    used = {name for node in model.graph.node for name in node.input}
    kept = [t for t in model.graph.initializer if t.name in used]
    del model.graph.initializer[:]
    model.graph.initializer.extend(kept)
    for opset in model.opset_import:
        if opset.domain in ("", "ai.onnx"):
            opset.version = OPSET
    onnx.checker.check_model(model, full_check=True)
    return model
