"""The model description (exporter/export/metadata.py) inside the model files, and reading it back.

- TFLite: LiteRT model metadata (the `TFLITE_METADATA` flatbuffer that MediaPipe's and TFLite Support's metadata
  writers produce): the input's RGB image properties and normalisation (mean/std), a name and description for every
  tensor, and the whole description as the subgraph's custom metadata `facekit` (JSON).
- ONNX: `metadata_props["facekit"]` (JSON). Core ML: `user_defined_metadata["facekit"]` (JSON).
- ExecuTorch: a constant method `facekit` returning the JSON (written by exporter/export/to_executorch.py).
- ncnn's .param/.bin and MNN's .mnn have no metadata field: the manifest describes them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from exporter.export.metadata import METADATA_KEY, as_json
from exporter.runner import quiet_executorch_logs

TFLITE_METADATA = "TFLITE_METADATA"  # the name LiteRT's metadata extractors look for
MIN_PARSER_VERSION = "1.5.0"  # custom metadata in a subgraph needs a 1.5.0 metadata parser


def tflite_metadata(description: dict) -> bytes:
    """The LiteRT metadata flatbuffer of a FaceKit model."""
    import flatbuffers
    from tensorflow_lite_support.metadata import metadata_schema_py_generated as md

    inp = description["input"]
    image = md.TensorMetadataT()
    image.name = "input"
    image.description = f"{inp['size']}x{inp['size']} RGB, letterboxed: {inp['letterbox']}; {inp['normalisation']}"
    image.content = md.ContentT()
    image.content.contentPropertiesType = md.ContentProperties.ImageProperties
    image.content.contentProperties = md.ImagePropertiesT()
    image.content.contentProperties.colorSpace = md.ColorSpaceType.RGB
    normalise = md.ProcessUnitT()
    normalise.optionsType = md.ProcessUnitOptions.NormalizationOptions
    normalise.options = md.NormalizationOptionsT()
    normalise.options.mean, normalise.options.std = [float(inp["mean"])], [float(inp["std"])]
    image.processUnits = [normalise]
    outputs = []
    for output in description["outputs"]:
        tensor = md.TensorMetadataT()
        tensor.name, tensor.description = output["name"], output["meaning"]
        outputs.append(tensor)
    custom = md.CustomMetadataT()
    custom.name = METADATA_KEY
    custom.data = list(as_json(description).encode())
    subgraph = md.SubGraphMetadataT()
    subgraph.inputTensorMetadata, subgraph.outputTensorMetadata = [image], outputs
    subgraph.customMetadata = [custom]
    model = md.ModelMetadataT()
    model.name = "FaceKit face model"
    model.description = ("Faces with a box, 6 keypoints, age and gender per anchor (BlazeFace-style SSD); decode with "
                         "the anchors and options in the custom metadata 'facekit'.")
    model.version = description["facekit_version"]
    model.license = "Apache-2.0 (code); weights trained on UTKFace: non-commercial research only (see the model card)"
    model.subgraphMetadata = [subgraph]
    model.minParserVersion = MIN_PARSER_VERSION
    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), b"M001")
    return bytes(builder.Output())


def add_tflite_metadata(model, description: dict) -> None:
    """Attach the metadata to a TFLite ModelT (tensorflow.lite.tools.flatbuffer_utils), replacing an older one."""
    from tensorflow.lite.python import schema_py_generated as schema

    buffer = schema.BufferT()
    buffer.data = np.frombuffer(tflite_metadata(description), np.uint8)
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name, entry.buffer = TFLITE_METADATA, len(model.buffers) - 1
    model.metadata = [m for m in (model.metadata or []) if _text(m.name) != TFLITE_METADATA] + [entry]


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def read_tflite(path: Path) -> dict:
    """The FaceKit description, normalisation and tensor names of a TFLite file's metadata."""
    from tensorflow.lite.tools import flatbuffer_utils as fb
    from tensorflow_lite_support.metadata import metadata_schema_py_generated as md

    model = fb.read_model(str(path))
    entry = next((m for m in model.metadata or [] if _text(m.name) == TFLITE_METADATA), None)
    if entry is None:
        raise ValueError(f"{path} has no {TFLITE_METADATA} metadata")
    meta = md.ModelMetadataT.InitFromObj(md.ModelMetadata.GetRootAs(bytes(model.buffers[entry.buffer].data), 0))
    subgraph = meta.subgraphMetadata[0]
    custom = next(c for c in subgraph.customMetadata if _text(c.name) == METADATA_KEY)
    norm = subgraph.inputTensorMetadata[0].processUnits[0].options
    return {"description": json.loads(bytes(custom.data).decode()),
            "normalisation": {"mean": [float(v) for v in norm.mean], "std": [float(v) for v in norm.std]},
            "outputs": [_text(t.name) for t in subgraph.outputTensorMetadata],
            "min_parser_version": _text(meta.minParserVersion)}


def add_onnx_metadata(model, description: dict) -> None:
    """Set metadata_props['facekit'] of an onnx.ModelProto."""
    for prop in list(model.metadata_props):
        if prop.key == METADATA_KEY:
            model.metadata_props.remove(prop)
    entry = model.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, as_json(description)


def read_onnx(path: Path) -> dict:
    """The FaceKit description in an ONNX file's metadata_props."""
    import onnx

    props = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
    if METADATA_KEY not in props:
        raise ValueError(f"{path} has no metadata_props[{METADATA_KEY!r}]")
    return json.loads(props[METADATA_KEY])


def read_coreml(path: Path) -> dict:
    """The FaceKit description in a Core ML package's user-defined metadata."""
    import coremltools as ct

    user = dict(ct.utils.load_spec(str(path)).description.metadata.userDefined)
    if METADATA_KEY not in user:
        raise ValueError(f"{path} has no user-defined metadata {METADATA_KEY!r}")
    return json.loads(user[METADATA_KEY])


def read_executorch(path: Path) -> dict:
    """The FaceKit description an ExecuTorch program returns from its constant method `facekit`."""
    quiet_executorch_logs()
    from executorch.runtime import Runtime

    program = Runtime.get().load_program(Path(path))
    if METADATA_KEY not in program.method_names:
        raise ValueError(f"{path} has no method {METADATA_KEY!r}")
    return json.loads(program.load_method(METADATA_KEY).execute([])[0])
