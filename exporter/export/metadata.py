"""What a model file must say about itself: the contract part of the manifest, also embedded in each model file.

`describe` builds it from a checkpoint's payload and the model spec; the manifest holds it whole, and the
TFLite (LiteRT metadata), ONNX (metadata_props), Core ML (user-defined metadata) and ExecuTorch (a constant method)
files carry the same JSON under the key METADATA_KEY, so a file copied into another app without its manifest can still be used.
"""

from __future__ import annotations

import json
from dataclasses import asdict

from exporter import __version__
from exporter.data.types import KEYPOINT_NAMES
from exporter.postprocess import DecodeConfig
from exporter.spec import OUTPUT_MEANINGS, ModelSpec, facekit_spec

METADATA_KEY = "facekit"
LETTERBOX = ("pad the shorter side with black to a centred square; halve squares of at least 4x the input side "
             "with 2x2 block means, (a+b+c+d+2)//4; then the exact area mean of each output pixel, rounded half up "
             "(exporter/preprocess.py specifies it; contract/ holds golden cases)")
EXACTNESS = {"exact": ["letterbox (uint8)", "float input (float32)", "frame-reuse decisions"],
             "within_tolerance": ["raw outputs (per precision: see thresholds)", "decoded faces (1e-4)"]}


def model_spec(payload: dict) -> ModelSpec:
    """The spec of the model a checkpoint payload describes."""
    return facekit_spec(int(payload["model_config"]["input_size"]), DecodeConfig(**payload["decode"]))


def describe(payload: dict, spec: ModelSpec) -> dict:
    """Input, outputs, anchors, decoding, keypoints and age/gender decoding of a model: what an app needs."""
    inp = spec.input
    return {
        "facekit_version": __version__,
        "input": {
            "size": inp.size, "colour": inp.colour, "mean": inp.mean, "std": inp.std, "dtype_float": "float32",
            "layout": {"tflite": "NHWC", "onnx": "NCHW", "ncnn": "CHW", "coreml": "RGB image", "executorch": "NCHW"},
            "letterbox": LETTERBOX,
            "normalisation": f"(x - {inp.mean}) / {inp.std} per channel; full-int8 models take "
                             "q = round(x_norm / scale + zero_point) with their input scale/zero_point",
            "exactness": EXACTNESS,
        },
        "outputs": [{"name": n, "meaning": OUTPUT_MEANINGS[n]} for n in spec.output_names],
        "anchors": {**asdict(spec.anchors), "count": int(len(spec.anchor_table())),
                    "order": "16x16 grid (2 per cell) then 8x8 grid (6 per cell); rows, then columns, then anchors",
                    "fixed_size": True},
        "decode": {**asdict(spec.decode), "score": "sigmoid of the logit clipped to [-100, 100]",
                   "nms": "weighted: each cluster of boxes overlapping the top one by IoU > iou_threshold is blended "
                          "by score (box, keypoints, age, P(female)); the face score is the top score"},
        "keypoints": list(KEYPOINT_NAMES),
        "age_gender": {"age": "years = age_scale * blended raw age", "gender": "P(female) = blended sigmoid(gender logit)"},
        "checkpoint_model_config": payload["model_config"],
    }


def as_json(description: dict) -> str:
    """The compact JSON text embedded in model files."""
    return json.dumps(description, separators=(",", ":"), sort_keys=True)
