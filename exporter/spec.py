"""The model's contract in one place: input size, colour order, normalisation, outputs, anchors and decoding.

Converters, runners, the manifest, the embedded model metadata, eval, bench, detect and the preview all read
a ModelSpec; the teacher (MediaPipe's BlazeFace) is described by one too, so the same Detector runs both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from exporter.postprocess import FRONT_ANCHORS, FULL_RANGE_ANCHORS, AnchorSpec, DecodeConfig, generate_anchors

OUTPUT_NAMES = ("regressors", "scores", "age", "gender")  # canonical order of FaceKit's outputs
OUTPUT_MEANINGS = {
    "regressors": "per anchor: box centre dx, dy, width, height, then 6 keypoints (x, y); input pixels, relative "
                  "to the anchor centre (decoded = raw / input_size + anchor centre)",
    "scores": "per anchor: face logit; probability = sigmoid(logit)",
    "age": "per anchor: age / age_scale (years = raw * age_scale)",
    "gender": "per anchor: gender logit; P(female) = sigmoid(logit)",
}


@dataclass(frozen=True)
class InputSpec:
    """A model's input: a size x size RGB square, normalised as (pixel - mean) / std in float32."""

    size: int = 128
    colour: str = "RGB"
    mean: float = 127.5
    std: float = 127.5

    def normalise(self, squares_uint8: np.ndarray) -> np.ndarray:
        """uint8 (..., H, W, 3) -> float32 (pixel / std - mean / std), same layout; exact in float32 for std 127.5."""
        return squares_uint8.astype(np.float32) / np.float32(self.std) - np.float32(self.mean / self.std)

    @property
    def pixel_scale(self) -> float:
        """Multiplier of a pixel in the normalisation (Core ML's scale, ncnn's norm_vals)."""
        return 1.0 / self.std

    @property
    def pixel_bias(self) -> float:
        """Offset after scaling (Core ML's bias)."""
        return -self.mean / self.std


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to run a face model file and turn its outputs into faces."""

    name: str
    input: InputSpec
    anchors: AnchorSpec
    output_names: tuple[str, ...]
    decode: DecodeConfig = field(default_factory=DecodeConfig)
    has_attributes: bool = True  # age and gender outputs after the score

    def anchor_table(self) -> np.ndarray:
        """The anchors (N, 4), cached and read-only."""
        return generate_anchors(self.anchors)


def facekit_spec(input_size: int = 128, decode: DecodeConfig = DecodeConfig()) -> ModelSpec:
    """The FaceKit model's contract at an input size (the anchors follow the input size)."""
    anchors = FRONT_ANCHORS if input_size == FRONT_ANCHORS.input_size else AnchorSpec(input_size=input_size)
    return ModelSpec("facekit", InputSpec(size=input_size), anchors, OUTPUT_NAMES, decode)


FACEKIT = facekit_spec()
BLAZEFACE_SHORT = ModelSpec("blazeface-short", InputSpec(size=128), FRONT_ANCHORS, ("regressors", "classificators"),
                            has_attributes=False)
BLAZEFACE_FULL = ModelSpec("blazeface-full", InputSpec(size=192), FULL_RANGE_ANCHORS, ("reshaped_regressor_face_4",
                           "reshaped_classifier_face_4"), has_attributes=False)
