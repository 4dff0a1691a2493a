"""Teacher models for distillation: MediaPipe BlazeFace (LiteRT) and the dlib age/gender pair (ONNX).

BlazeFace keypoint order: right eye, left eye, nose tip, mouth centre, right ear tragion, left
ear tragion ("right" is the subject's right, so on a frontal non-mirrored photo it is the eye
with the smaller x).

The age/gender networks expect dlib's aligned face chip (`get_face_chip_details`, padding 0.2).
dlib fits it from its own landmarks; here the same chip is fitted from BlazeFace's eyes, nose tip
and mouth centre onto these points of dlib's mean face shape (the 68-landmark template behind
`get_face_chip_details`, unpadded [0, 1] face frame, x to the image right):

    right eye centre   (0.225492, 0.215990)  mean of landmarks 36-41
    left eye centre    (0.754761, 0.215990)  mean of landmarks 42-47
    nose tip           (0.490127, 0.515625)  landmark 30
    mouth centre       (0.490127, 0.804225)  mean of landmarks 48-67

A point p of that frame lands at size * (padding + p) / (1 + 2 * padding) in the chip, as in dlib.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import cv2
import numpy as np
import onnxruntime as ort

from exporter.assets import ASSETS, asset_path
from exporter.detector import Detector
from exporter.jsonio import KB, load_json
from exporter.postprocess import DecodeConfig, Face
from exporter.preprocess import LETTERBOX_VERSION
from exporter.runner import litert_runner
from exporter.spec import BLAZEFACE_FULL, BLAZEFACE_SHORT

BLAZEFACE_MODELS = {"short": ("blazeface_short_range.tflite", BLAZEFACE_SHORT),
                    "full": ("blazeface_full_range.tflite", BLAZEFACE_FULL)}
DLIB_CHIP_POINTS = np.array(
    [[0.225492, 0.215990], [0.754761, 0.215990], [0.490127, 0.515625], [0.490127, 0.804225]], np.float32
)
ALIGN_KEYPOINTS = (0, 1, 2, 3)  # BlazeFace right eye, left eye, nose tip, mouth centre
CHIP_PADDING = 0.2
_MAX_SUPERSAMPLE = 8


class BlazeFaceTeacher:
    """MediaPipe BlazeFace (short-range 128 px or full-range 192 px) run with LiteRT through the reference Detector."""

    def __init__(
        self, variant: Literal["short", "full"] = "short", num_threads: int = 2, cache: Path | None = None
    ) -> None:
        if variant not in BLAZEFACE_MODELS:
            raise ValueError(f"unknown BlazeFace variant {variant!r}; use 'short' or 'full'")
        name, spec = BLAZEFACE_MODELS[variant]
        self.variant = variant
        self.spec = spec
        self.sha256 = ASSETS[name].sha256
        try:
            runner = litert_runner(asset_path(name, cache), num_threads, spec.output_names, spec.input)
        except KeyError as missing:
            raise ValueError(f"{name}: has no output {missing}; the file is not the expected BlazeFace model, "
                             "run `facekit assets` to restore it") from None
        shapes = [o.shape for o in runner.run_one(np.zeros((spec.input.size, spec.input.size, 3), np.uint8))]
        anchors = len(spec.anchor_table())
        if shapes != [(1, anchors, 16), (1, anchors, 1)]:
            raise ValueError(f"{name}: outputs {shapes} are not (1, {anchors}, 16) and (1, {anchors}, 1); "
                             "the file is not the expected BlazeFace model, run `facekit assets` to restore it")
        self.detector = Detector(runner, spec)

    @property
    def input_size(self) -> int:
        """Side of the model's square input."""
        return self.spec.input.size

    @property
    def teacher_id(self) -> str:
        """Identifies the model file, variant and letterbox version (for pseudo-label caches)."""
        return f"blazeface-{self.variant}-{self.sha256}-letterbox{LETTERBOX_VERSION}"

    def raw(self, square_uint8_rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Run on a size x size uint8 RGB square: (regressors (N, 16), score logits (N,))."""
        expected = (self.input_size, self.input_size, 3)
        if square_uint8_rgb.shape != expected or square_uint8_rgb.dtype != np.uint8:
            raise ValueError(
                f"BlazeFace {self.variant} needs a uint8 RGB array of shape {expected}, got "
                f"{square_uint8_rgb.dtype} {square_uint8_rgb.shape}; letterbox the image first"
            )
        regressors, logits = self.detector.runner.run_one(square_uint8_rgb)
        return regressors[0], logits[0, :, 0]

    def detect(self, image_rgb: np.ndarray, config: DecodeConfig | None = None) -> list[Face]:
        """Faces in an HxWx3 uint8 RGB image, in image pixels."""
        return self.detector(image_rgb, config)


def _chip_targets(size: int) -> np.ndarray:
    """DLIB_CHIP_POINTS in chip pixel coordinates (pixel centres at integers, as in dlib)."""
    return size * (CHIP_PADDING + DLIB_CHIP_POINTS) / (1 + 2 * CHIP_PADDING)


def _box_transform(box: np.ndarray, size: int) -> np.ndarray:
    """Similarity (2, 3) mapping a square around the box (as dlib's unpadded face frame) to the chip."""
    xmin, ymin, xmax, ymax = (float(v) for v in box)
    side = max(xmax - xmin, ymax - ymin, 1e-3)
    scale = size / (side * (1 + 2 * CHIP_PADDING))
    left = (xmin + xmax) / 2 - side / 2 - 0.5 - CHIP_PADDING * side
    top = (ymin + ymax) / 2 - side / 2 - 0.5 - CHIP_PADDING * side
    return np.array([[scale, 0, -left * scale], [0, scale, -top * scale]], np.float64)


def _keypoint_transform(keypoints: np.ndarray, size: int) -> np.ndarray | None:
    """Least-squares similarity (2, 3) from BlazeFace eyes/nose/mouth (image pixels) to dlib's chip points."""
    source = np.asarray(keypoints, np.float32)[list(ALIGN_KEYPOINTS)] - 0.5  # edge-based -> pixel centres
    matrix, _ = cv2.estimateAffinePartial2D(
        source, _chip_targets(size), method=cv2.RANSAC, ransacReprojThreshold=1e6, refineIters=20
    )
    return matrix


def warp_chip(image_rgb: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """Sample a size x size chip through a (2, 3) image->chip similarity, area-averaged when shrinking."""
    shrink = 1.0 / np.sqrt(abs(np.linalg.det(matrix[:, :2])))
    k = int(min(max(np.ceil(shrink - 0.25), 1), _MAX_SUPERSAMPLE))
    upsample = np.array([[k, 0, (k - 1) / 2], [0, k, (k - 1) / 2], [0, 0, 1]], np.float64)
    fine = (upsample @ np.vstack([matrix, [0, 0, 1]]))[:2]
    chip = cv2.warpAffine(image_rgb, fine, (size * k, size * k), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))
    return chip if k == 1 else cv2.resize(chip, (size, size), interpolation=cv2.INTER_AREA)


def face_chip(image_rgb: np.ndarray, face: Face, size: int = 64) -> np.ndarray:
    """dlib-style aligned chip (padding 0.2) of a face in image pixels; a square of the box if no keypoints."""
    keypoints = None if face.keypoints is None else np.asarray(face.keypoints, np.float32)
    matrix = None
    if keypoints is not None and keypoints.shape[0] > max(ALIGN_KEYPOINTS) and np.isfinite(keypoints).all():
        matrix = _keypoint_transform(keypoints, size)
    if matrix is None:
        matrix = _box_transform(np.asarray(face.box), size)
    return warp_chip(image_rgb, matrix, size)


class AttributeTeacher(Protocol):
    """An age/gender teacher: AgeGenderTeacher here, or faceapi_teacher.FaceApiAgeGender."""

    chip_size: int  # side of the aligned chip (face_chip) it reads

    @property
    def teacher_id(self) -> str: ...

    def predict_chips(self, chips_rgb: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]: ...


@dataclass(frozen=True)
class _Network:
    """One ONNX network of the age/gender pair and its input contract."""

    session: ort.InferenceSession
    input_name: str
    size: int
    means: np.ndarray  # per RGB channel, in bytes
    scale: float

    def run(self, chips_rgb: list[np.ndarray]) -> np.ndarray:
        """Probabilities (N, classes) for uint8 RGB chips, resized to this network's size."""
        batch = np.stack([resized(chip, self.size) for chip in chips_rgb]).astype(np.float32)
        batch = ((batch - self.means) * self.scale).transpose(0, 3, 1, 2)
        return self.session.run(None, {self.input_name: np.ascontiguousarray(batch)})[0]


class AgeGenderTeacher:
    """dlib's age predictor and gender classifier (CC0, as ONNX) in onnxruntime, per their manifest."""

    chip_size = 64  # the aligned chip handed to predict_chips (the gender network reads it at 32 px)

    def __init__(self, cache: Path | None = None) -> None:
        manifest = load_json(asset_path("age_gender_manifest.json", cache), max_bytes=64 * KB, what="age/gender model manifest")
        runtime = manifest["runtime"]
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(runtime["intra_op_num_threads"])
        options.inter_op_num_threads = int(runtime["inter_op_num_threads"])
        options.graph_optimization_level = getattr(ort.GraphOptimizationLevel, runtime["graph_optimization_level"])

        def network(task: str, asset: str) -> _Network:
            spec = manifest["models"][task]["input"]
            session = ort.InferenceSession(str(asset_path(asset, cache)), options, providers=[runtime["provider"]])
            means = np.asarray(spec["normalization"]["means"], np.float32)
            return _Network(session, spec["name"], int(spec["shape"][2]), means, float(spec["normalization"]["scale"]))

        self.age = network("age", "age-v1.onnx")
        self.gender = network("gender", "gender-v1.onnx")
        self.age_weights = np.asarray(manifest["models"]["age"]["age_weights"], np.float32)
        self.female_index = manifest["models"]["gender"]["labels"].index("female")

    @property
    def teacher_id(self) -> str:
        """Identifies both model files (for pseudo-label caches)."""
        return f"agegender-{ASSETS['age-v1.onnx'].sha256[:16]}-{ASSETS['gender-v1.onnx'].sha256[:16]}"

    def predict_chips(self, chips_rgb: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Ages in years (N,) and P(female) (N,) for HxWx3 uint8 RGB chips (resized to 64 / 32 px as needed)."""
        if len(chips_rgb) == 0:
            return np.zeros(0, np.float32), np.zeros(0, np.float32)
        check_chips(chips_rgb)
        ages = self.age.run(chips_rgb) @ self.age_weights
        female = self.gender.run(chips_rgb)[:, self.female_index]
        return ages.astype(np.float32), female.astype(np.float32)


def check_chips(chips_rgb: list[np.ndarray]) -> None:
    """ValueError unless every chip is an HxWx3 uint8 RGB array."""
    for chip in chips_rgb:
        if chip.ndim != 3 or chip.shape[2] != 3 or chip.dtype != np.uint8:
            raise ValueError(f"chips must be HxWx3 uint8 RGB arrays, got {chip.dtype} {chip.shape}")


def resized(chip: np.ndarray, size: int) -> np.ndarray:
    """A chip at size x size (area-averaged when shrinking)."""
    if chip.shape[:2] == (size, size):
        return chip
    interpolation = cv2.INTER_AREA if min(chip.shape[:2]) > size else cv2.INTER_LINEAR
    return cv2.resize(chip, (size, size), interpolation=interpolation)
