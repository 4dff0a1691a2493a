"""Where the bytes of a .tflite file go: constants by type, quantisation parameters, names, metadata, structure."""

from __future__ import annotations

from pathlib import Path

# Per-channel scales are float32 and zero points int64 in the TFLite schema (min/max, when kept, float32 each).
SCALE_BYTES, ZERO_POINT_BYTES, RANGE_BYTES = 4, 8, 4


def tflite_bytes(path: Path) -> dict[str, int]:
    """Bytes of each part of a TFLite flatbuffer; `structure` is the rest (tensor shapes, operators, tables, padding)."""
    from tensorflow.lite.python import schema_py_generated as schema

    data = Path(path).read_bytes()
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(data, 0))
    parts = {"file": len(data), "int8_constants": 0, "int32_constants": 0, "float_constants": 0, "quantisation": 0,
             "tensor_names": 0, "metadata": 0}
    for graph in model.subgraphs:
        for tensor in graph.tensors:
            parts["tensor_names"] += len(tensor.name or b"")
            q = tensor.quantization
            if q is not None:
                parts["quantisation"] += (SCALE_BYTES * _count(q.scale) + ZERO_POINT_BYTES * _count(q.zeroPoint)
                                          + RANGE_BYTES * (_count(q.min) + _count(q.max)))
            size = _count(model.buffers[tensor.buffer].data)
            if tensor.type == schema.TensorType.INT8:
                parts["int8_constants"] += size  # weights
            elif tensor.type == schema.TensorType.INT32:
                parts["int32_constants"] += size  # biases and shape vectors
            else:
                parts["float_constants"] += size
    parts["metadata"] = sum(_count(model.buffers[m.buffer].data) for m in model.metadata or [])
    parts["structure"] = parts["file"] - sum(v for k, v in parts.items() if k != "file")
    return parts


def _count(values) -> int:
    """Length of an optional flatbuffer vector (None: 0)."""
    return 0 if values is None else len(values)


def main(argv: list[str] | None = None) -> int:
    """Print the breakdown of each .tflite file given: python -m exporter.compress.tflite_bytes FILE..."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m exporter.compress.tflite_bytes", description=main.__doc__)
    parser.add_argument("files", type=Path, nargs="+")
    for path in parser.parse_args(argv).files:
        if not path.is_file():
            parser.error(f"{path} is not a file; pass exported .tflite files, e.g. exports/android/facekit_int8.tflite")
        try:
            parts = tflite_bytes(path)
        except Exception as exc:  # the flatbuffer reader raises many types on other files
            parser.error(f"{path} is not a TFLite file ({exc.__class__.__name__}: {str(exc)[:80]}); pass an exported .tflite file")
        print(f"{path}: " + ", ".join(f"{name} {count:,}" for name, count in parts.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
