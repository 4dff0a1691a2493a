"""Label types shared by every dataset loader: faces, labelled images and load reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# BlazeFace's keypoint order. "right" is the subject's right: on the image LEFT in a non-mirrored photo.
KEYPOINT_NAMES = ("right_eye", "left_eye", "nose_tip", "mouth_centre", "right_ear_tragion", "left_ear_tragion")
# Keypoint order after a horizontal flip: the subject's right and left swap.
FLIP_PERMUTATION = (1, 0, 2, 3, 5, 4)


@dataclass(frozen=True)
class FaceLabel:
    """One face: a pixel box (xmin, ymin, xmax, ymax) and whatever else the dataset knows."""

    box: np.ndarray  # (4,) float32 xmin, ymin, xmax, ymax in image pixels
    keypoints: np.ndarray | None = None  # (6, 2) float32 pixels, KEYPOINT_NAMES order
    keypoint_mask: np.ndarray | None = None  # (6,) bool: which keypoints are known
    age: float | None = None
    gender: int | None = None  # UTKFace convention: 0 male, 1 female
    masked: bool | None = None  # the face wears a mask (worn correctly or not)


@dataclass(frozen=True)
class LabelledImage:
    """An image file, its size in pixels and the faces labelled in it."""

    path: Path
    width: int
    height: int
    faces: tuple[FaceLabel, ...]


@dataclass
class LoadReport:
    """How many items a loader kept and how many it skipped, by reason."""

    source: str
    loaded: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str, count: int = 1) -> None:
        """Count `count` items skipped for `reason`."""
        self.skipped[reason] = self.skipped.get(reason, 0) + count

    def summary(self) -> str:
        """One line: source, loaded count and skipped counts by reason."""
        if not self.skipped:
            return f"{self.source}: {self.loaded} loaded, nothing skipped"
        reasons = ", ".join(f"{reason} {n}" for reason, n in sorted(self.skipped.items()))
        return f"{self.source}: {self.loaded} loaded, skipped {reasons}"


def clip_box(xmin: float, ymin: float, xmax: float, ymax: float, width: int, height: int) -> np.ndarray | None:
    """Clip a pixel box to the image; None when not finite or under 1 px wide or tall after clipping."""
    limits = np.array([width, height, width, height], dtype=np.float32)
    box = np.clip(np.array([xmin, ymin, xmax, ymax], dtype=np.float32), np.float32(0.0), limits)
    if not np.isfinite(box).all() or box[2] - box[0] < 1.0 or box[3] - box[1] < 1.0:
        return None
    return box
