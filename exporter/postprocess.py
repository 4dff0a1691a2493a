"""Anchors, box/keypoint decoding and BlazeFace-style weighted NMS: the reference the apps port.

Raw model outputs per anchor: 16 regressors (box dx, dy, w, h, then 6 keypoints x, y, all in
input pixels relative to the anchor centre), a face-score logit, an age value (years / age_scale)
and a gender logit (sigmoid = probability of female). Everything here is pure NumPy.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import numpy as np

NUM_KEYPOINTS = 6
NUM_REGRESSORS = 4 + 2 * NUM_KEYPOINTS


@dataclass(frozen=True)
class AnchorSpec:
    """MediaPipe SSD anchor parameters (fixed anchor size, aspect ratio 1)."""

    input_size: int = 128
    strides: tuple[int, ...] = (8, 16, 16, 16)
    min_scale: float = 0.1484375
    max_scale: float = 0.75
    offset: float = 0.5
    interpolated_scale: bool = True  # one extra anchor per layer at sqrt(scale * next_scale)


FRONT_ANCHORS = AnchorSpec()
FULL_RANGE_ANCHORS = AnchorSpec(input_size=192, strides=(4,), interpolated_scale=False)


def _layer_scale(spec: AnchorSpec, layer: int) -> float:
    n = len(spec.strides)
    if n == 1:
        return (spec.min_scale + spec.max_scale) / 2.0
    return spec.min_scale + (spec.max_scale - spec.min_scale) * layer / (n - 1)


@functools.lru_cache(maxsize=8)
def _anchor_table(spec: AnchorSpec) -> tuple[np.ndarray, np.ndarray]:
    """Anchor centres (N, 2) and nominal scales (N,), in MediaPipe's order; built once per spec, read-only."""
    centres, scales = [], []
    layer = 0
    while layer < len(spec.strides):
        stride, last, layer_scales = spec.strides[layer], layer, []
        while last < len(spec.strides) and spec.strides[last] == stride:
            scale = _layer_scale(spec, last)
            layer_scales.append(scale)
            if spec.interpolated_scale:
                nxt = 1.0 if last == len(spec.strides) - 1 else _layer_scale(spec, last + 1)
                layer_scales.append(float(np.sqrt(scale * nxt)))
            last += 1
        cells = int(np.ceil(spec.input_size / stride))
        grid = (np.arange(cells, dtype=np.float64) + spec.offset) / cells
        ys, xs = np.meshgrid(grid, grid, indexing="ij")  # rows, then columns, then the anchors of a cell
        per_cell = len(layer_scales)
        centres.append(np.repeat(np.stack([xs.ravel(), ys.ravel()], axis=1), per_cell, axis=0))
        scales.append(np.tile(np.asarray(layer_scales, np.float64), cells * cells))
        layer = last
    table = np.concatenate(centres).astype(np.float32), np.concatenate(scales).astype(np.float32)
    for array in table:
        array.setflags(write=False)
    return table


def generate_anchors(spec: AnchorSpec = FRONT_ANCHORS) -> np.ndarray:
    """Anchors (N, 4) as [x_centre, y_centre, w, h], normalised; w = h = 1 (fixed size). Read-only, cached."""
    return _anchors(spec)


@functools.lru_cache(maxsize=8)
def _anchors(spec: AnchorSpec) -> np.ndarray:
    centres, _ = _anchor_table(spec)
    anchors = np.concatenate([centres, np.ones_like(centres)], axis=1)
    anchors.setflags(write=False)
    return anchors


def anchor_scales(spec: AnchorSpec = FRONT_ANCHORS) -> np.ndarray:
    """Nominal side of each anchor (N,), normalised: used to match training targets to anchors."""
    return _anchor_table(spec)[1]


def decode_regressors(raw: np.ndarray, anchors: np.ndarray, input_size: int) -> np.ndarray:
    """Raw (N, 4+2K) -> (N, 4+2K) [xmin, ymin, xmax, ymax, kx0, ky0, ...] normalised to the input."""
    raw = np.asarray(raw, np.float32)
    ax, ay, aw, ah = (anchors[:, i : i + 1] for i in range(4))
    cx = raw[:, 0:1] / input_size * aw + ax
    cy = raw[:, 1:2] / input_size * ah + ay
    w = raw[:, 2:3] / input_size * aw
    h = raw[:, 3:4] / input_size * ah
    kx = raw[:, 4::2] / input_size * aw + ax
    ky = raw[:, 5::2] / input_size * ah + ay
    keypoints = np.stack([kx, ky], axis=-1).reshape(len(raw), raw.shape[1] - 4)
    return np.concatenate([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, keypoints], axis=1)


def encode_targets(decoded: np.ndarray, anchors: np.ndarray, input_size: int) -> np.ndarray:
    """Inverse of decode_regressors: (M, 4+2K) normalised boxes/keypoints -> raw regressors."""
    decoded = np.asarray(decoded, np.float32)
    ax, ay, aw, ah = (anchors[:, i : i + 1] for i in range(4))
    xmin, ymin, xmax, ymax = (decoded[:, i : i + 1] for i in range(4))
    raw_box = np.concatenate(
        [((xmin + xmax) / 2 - ax) / aw, ((ymin + ymax) / 2 - ay) / ah, (xmax - xmin) / aw, (ymax - ymin) / ah],
        axis=1,
    )
    kx = (decoded[:, 4::2] - ax) / aw
    ky = (decoded[:, 5::2] - ay) / ah
    raw_kp = np.stack([kx, ky], axis=-1).reshape(len(decoded), decoded.shape[1] - 4)
    return np.concatenate([raw_box, raw_kp], axis=1) * input_size


def sigmoid(x: np.ndarray, clip: float = 100.0) -> np.ndarray:
    """Logistic function with MediaPipe's score clipping; exp only of non-positive values, so it never overflows."""
    x = np.clip(np.asarray(x, np.float32), -clip, clip)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(np.float32)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU (Na, Nb) of [xmin, ymin, xmax, ymax] boxes, 0 for empty unions; float32 unless given float64."""
    dtype = np.result_type(np.asarray(a).dtype, np.asarray(b).dtype, np.float32)
    a, b = np.asarray(a, dtype).reshape(-1, 4), np.asarray(b, dtype).reshape(-1, 4)
    ix = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    iy = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = ix * iy
    area_a = np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0).astype(dtype)


def iou_one_to_many(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one [xmin, ymin, xmax, ymax] box with each of (N, 4) boxes (0 for empty unions)."""
    return box_iou(np.asarray(box)[None], boxes)[0]


def weighted_nms_clusters(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> list[np.ndarray]:
    """Group detections: the best remaining one and every remaining one overlapping it above the threshold.

    Returns index arrays, each starting with its cluster's top detection; clusters are in
    descending score order. Ties in score keep the lower index first (stable sort).
    """
    remaining = np.argsort(-np.asarray(scores, np.float32), kind="stable")
    clusters = []
    while remaining.size:
        top = remaining[0]
        overlaps = iou_one_to_many(boxes[top], boxes[remaining])
        members = overlaps > iou_threshold
        members[0] = True
        clusters.append(remaining[members])
        remaining = remaining[~members]
    return clusters


NOT_FINITE = ("the model produced NaN or infinite outputs (damaged weights or a broken conversion); "
              "use another checkpoint or export again")


@dataclass(frozen=True)
class DecodeConfig:
    """Thresholds and output scalings used to turn raw outputs into faces."""

    score_threshold: float = 0.5
    iou_threshold: float = 0.3
    age_scale: float = 100.0  # age in years = age_scale * raw age output


@dataclass(frozen=True)
class Face:
    """One detected face: box, keypoints (normalised or image pixels), score, age, P(female)."""

    box: np.ndarray  # (4,) xmin, ymin, xmax, ymax
    keypoints: np.ndarray  # (6, 2)
    score: float
    age: float | None = None
    female: float | None = None

    def to_image(self, letterbox) -> Face:
        """Map from normalised model-input coordinates to image pixels of a letterboxed image."""
        box = letterbox.to_image(self.box.reshape(2, 2)).reshape(4)
        return replace(self, box=box, keypoints=letterbox.to_image(self.keypoints))

    def to_dict(self) -> dict:
        """JSON-friendly dict (floats rounded to 6 decimals)."""
        out = {
            "box": [round(float(v), 6) for v in self.box],
            "keypoints": [[round(float(x), 6), round(float(y), 6)] for x, y in self.keypoints],
            "score": round(float(self.score), 6),
        }
        if self.age is not None:
            out["age"] = round(float(self.age), 4)
        if self.female is not None:
            out["female"] = round(float(self.female), 6)
        return out

    @classmethod
    def from_dict(cls, data: dict) -> Face:
        """Inverse of to_dict: box and keypoints as float32 arrays."""
        return cls(
            box=np.asarray(data["box"], np.float32),
            keypoints=np.asarray(data["keypoints"], np.float32).reshape(-1, 2),
            score=float(data["score"]),
            age=data.get("age"),
            female=data.get("female"),
        )


def decode_faces(
    regressors: np.ndarray,
    score_logits: np.ndarray,
    anchors: np.ndarray,
    input_size: int,
    config: DecodeConfig = DecodeConfig(),
    age_raw: np.ndarray | None = None,
    gender_logits: np.ndarray | None = None,
) -> list[Face]:
    """Raw outputs of one image -> faces after thresholding and weighted NMS (blending).

    Box, keypoints, age and P(female) of a face are the score-weighted means over its cluster;
    its score is the cluster's top score.
    """
    regressors = np.asarray(regressors, np.float32).reshape(len(anchors), -1)
    logits = np.asarray(score_logits, np.float32).reshape(-1)
    if np.isnan(logits).any():
        raise ValueError(NOT_FINITE)
    scores = sigmoid(logits)
    keep = np.flatnonzero(scores >= config.score_threshold)
    if keep.size == 0:
        return []
    with np.errstate(over="ignore", invalid="ignore"):  # overflow becomes inf, refused just below
        decoded = decode_regressors(regressors[keep], anchors[keep], input_size)
        # float64, so that a huge but finite raw age stays finite once scaled
        ages = None if age_raw is None else np.asarray(age_raw, np.float64).reshape(-1)[keep] * config.age_scale
    gender_kept = None if gender_logits is None else np.asarray(gender_logits, np.float32).reshape(-1)[keep]
    if not all(np.isfinite(a).all() for a in (decoded, ages, gender_kept) if a is not None):
        raise ValueError(NOT_FINITE)
    kept_scores = scores[keep]
    females = None if gender_kept is None else sigmoid(gender_kept)
    faces = []
    for cluster in weighted_nms_clusters(decoded[:, :4], kept_scores, config.iou_threshold):
        weights = kept_scores[cluster] / kept_scores[cluster].sum()
        blended = weights @ decoded[cluster]
        faces.append(
            Face(
                box=blended[:4],
                keypoints=blended[4:].reshape(-1, 2),
                score=float(kept_scores[cluster[0]]),
                age=None if ages is None else float(weights @ ages[cluster]),
                # clipped: float32 weights can sum to 1 + 1e-7, and a probability above 1 is no probability
                female=None if females is None else float(np.clip(weights @ females[cluster], 0.0, 1.0)),
            )
        )
    return faces
