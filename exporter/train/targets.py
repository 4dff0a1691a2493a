"""Assign ground-truth faces to anchors: which anchors are faces, and what they should regress."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from exporter.postprocess import NUM_KEYPOINTS, NUM_REGRESSORS, encode_targets
from exporter.metrics import box_iou


@dataclass(frozen=True)
class MatchConfig:
    """IoU thresholds between a face and an anchor's nominal square (centre, nominal scale)."""

    positive_iou: float = 0.5
    negative_iou: float = 0.35


@dataclass
class SampleLabels:
    """Faces of one training sample, normalised to the square input; NaN marks an unknown value."""

    boxes: np.ndarray  # (M, 4) xmin, ymin, xmax, ymax
    keypoints: np.ndarray  # (M, 6, 2)
    keypoint_mask: np.ndarray  # (M, 6) bool
    age: np.ndarray  # (M,) years or NaN
    gender: np.ndarray  # (M,) 1 female / 0 male / soft probability, or NaN
    attr_weight: np.ndarray  # (M,) 1 for human labels, < 1 for teacher labels

    @staticmethod
    def empty() -> "SampleLabels":
        """A sample with no face."""
        return SampleLabels(
            np.zeros((0, 4), np.float32),
            np.zeros((0, NUM_KEYPOINTS, 2), np.float32),
            np.zeros((0, NUM_KEYPOINTS), bool),
            np.zeros(0, np.float32),
            np.zeros(0, np.float32),
            np.zeros(0, np.float32),
        )


@dataclass
class AnchorTargets:
    """Per-anchor training targets of one sample (A = number of anchors)."""

    label: np.ndarray  # (A,) 1 face, 0 background, -1 ignore
    regressors: np.ndarray  # (A, 16) raw targets (valid where label == 1)
    keypoint_mask: np.ndarray  # (A, 6) bool
    age: np.ndarray  # (A,) years/100 target or NaN
    gender: np.ndarray  # (A,) target in [0,1] or NaN
    attr_weight: np.ndarray  # (A,)


def anchor_boxes(anchors: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """Nominal square of each anchor (A, 4) for matching."""
    half = scales[:, None] / 2
    return np.concatenate([anchors[:, :2] - half, anchors[:, :2] + half], axis=1)


def assign(
    labels: SampleLabels,
    anchors: np.ndarray,
    nominal_boxes: np.ndarray,
    input_size: int,
    config: MatchConfig = MatchConfig(),
) -> AnchorTargets:
    """Match faces to anchors by IoU (plus each face's best anchor) and encode their targets."""
    count = len(anchors)
    label = np.zeros(count, np.int8)
    regressors = np.zeros((count, NUM_REGRESSORS), np.float32)
    kp_mask = np.zeros((count, NUM_KEYPOINTS), bool)
    age = np.full(count, np.nan, np.float32)
    gender = np.full(count, np.nan, np.float32)
    weight = np.zeros(count, np.float32)
    if len(labels.boxes):
        iou = box_iou(nominal_boxes, labels.boxes)  # (A, M)
        best_face = iou.argmax(axis=1)
        best_iou = iou[np.arange(count), best_face]
        label[best_iou >= config.positive_iou] = 1
        label[(best_iou >= config.negative_iou) & (best_iou < config.positive_iou)] = -1
        for face, anchor in enumerate(iou.argmax(axis=0)):  # every face gets at least its best anchor
            best_face[anchor], label[anchor] = face, 1
        pos = np.flatnonzero(label == 1)
        face = best_face[pos]
        decoded = np.concatenate([labels.boxes[face], labels.keypoints[face].reshape(len(pos), -1)], axis=1)
        regressors[pos] = encode_targets(decoded, anchors[pos], input_size)
        kp_mask[pos] = labels.keypoint_mask[face]
        age[pos] = labels.age[face] / 100.0
        gender[pos] = labels.gender[face]
        weight[pos] = labels.attr_weight[face]
    return AnchorTargets(label, regressors, kp_mask, age, gender, weight)
