"""Frame reuse on video: decide per frame between running the full model and reusing earlier results.

This is the reference the Android and iOS apps port, so every step is plain integer/float arithmetic:

- The change measure is a grey thumbnail, cheap enough for every frame: the frame is sampled on an
  N x N grid (N = THUMB * SAMPLES, sample i at row floor((2i + 1) * H / (2N)), columns alike), each sample's
  luma is the integer 299 R + 587 G + 114 B, and a cell of the THUMB x THUMB thumbnail is the sum of its
  SAMPLES x SAMPLES samples divided, in float32, by SAMPLES^2 * 255000 (so luma in [0, 1]). The sums are
  exact integers, so a port gets the same float32 thumbnail bit for bit.
- The change since the last full run is measured per region: the thumbnail is cut into BLOCKS x BLOCKS
  regions and the largest mean |difference| of a region counts (a face entering a corner changes one
  region a lot and the whole picture little).
- `every-frame` runs the model on every frame; `skip-N` on every N-th frame; `motion-gated` when the
  change exceeds `region_threshold`. `motion-gated+tracking` follows each face between full runs
  (block matching of its thumbnail region at the last full run against the current frame, shifts of up
  to `search` cells) and carries its box; it runs the model when a face's region still differs by more than
  `face_threshold` after the best shift, or when a region away from the tracked faces changed by more
  than `region_threshold`. Every policy runs the model at least every `max_reuse + 1` frames, so a
  result is never reused more than `max_reuse` times.
- A face's thumbnail region is the cells its image-pixel box covers (floor of the left/top and ceil of the
  right/bottom edge times THUMB / image side, in double precision, at least one cell, inside the grid).
- With tracking, detections of a full run are matched to the tracks by IoU (greedy, best first); a
  matched track keeps its id and smooths age and P(female) with an exponential moving average.

Same frames and settings give the same decisions: the apps are checked against traces written here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from exporter.postprocess import Face, iou_one_to_many

POLICIES = ("every-frame", "skip-N", "motion-gated", "motion-gated+tracking")
LUMA_WEIGHTS = np.array([299, 587, 114], np.float32)  # x 1/1000: BT.601 luma
SAMPLES = 4  # samples per thumbnail cell side


@dataclass(frozen=True)
class ReuseConfig:
    """Settings of a policy (the defaults are the ones `facekit bench` reports)."""

    policy: str = "motion-gated+tracking"
    skip: int = 3  # skip-N: run on frames 0, N, 2N, ...
    thumb: int = 32  # thumbnail side, in cells
    blocks: int = 4  # the change is measured in blocks x blocks regions of the thumbnail
    region_threshold: float = 0.04  # largest mean |change| of a region since the last full run, luma in [0, 1]
    face_threshold: float = 0.05  # mean |change| of a face's region after its best shift
    search: int = 2  # tracking: largest shift tried, in thumbnail cells
    max_reuse: int = 10  # a result is reused on at most this many frames in a row
    match_iou: float = 0.3  # tracking: a detection continues a track above this IoU
    smoothing: float = 0.3  # tracking: weight of a new age/gender observation

    def __post_init__(self) -> None:
        if self.policy not in POLICIES:
            raise ValueError(f"unknown reuse policy {self.policy!r}; choose one of: {', '.join(POLICIES)}")
        if self.skip < 1 or self.max_reuse < 0 or self.search < 0 or self.blocks < 1 or self.thumb % self.blocks:
            raise ValueError("skip >= 1, max_reuse >= 0, search >= 0 and a thumb side divisible by blocks are required")


def thumbnail(frame_rgb: np.ndarray, size: int) -> np.ndarray:
    """Mean sampled luma in [0, 1] over a size x size grid of cells: (size, size) float32."""
    if frame_rgb.ndim != 3 or frame_rgb.shape[2] != 3 or frame_rgb.dtype != np.uint8 or 0 in frame_rgb.shape:
        raise ValueError(f"a frame must be a non-empty (H, W, 3) uint8 RGB array, got {frame_rgb.shape} {frame_rgb.dtype}")
    n = size * SAMPLES
    # INTER_NEAREST_EXACT picks pixel floor((2i + 1) * H / 2N), as defined above (tests/test_reuse.py checks it).
    samples = cv2.resize(frame_rgb, (n, n), interpolation=cv2.INTER_NEAREST_EXACT)
    # Integers held in float32 (all below 2^24, so every sum is exact): fast and the same in any port.
    luma = samples.astype(np.float32) @ LUMA_WEIGHTS
    rows = sum(luma[i::SAMPLES] for i in range(SAMPLES))  # strided adds: much faster than reshape + sum
    sums = sum(rows[:, i::SAMPLES] for i in range(SAMPLES))
    return sums / np.float32(SAMPLES * SAMPLES * 255000)


@dataclass
class Track:
    """A face followed across frames."""

    id: int
    face: Face  # box and keypoints in image pixels, at the current frame
    age: float
    female: float
    start: Face  # the face as the model saw it at the last full run


@dataclass(frozen=True)
class FrameDecision:
    """What the scheduler did on one frame."""

    index: int
    ran_model: bool
    reason: str  # first, skip, period, scene-change, face-change, max-reuse, static
    change: float  # largest regional |thumbnail change| since the last full run (tracked faces left out)
    faces: tuple[Face, ...]
    track_ids: tuple[int, ...] = ()

    def trace(self) -> dict:
        """The JSON-friendly record the apps' ports are checked against."""
        return {"index": self.index, "ran_model": self.ran_model, "reason": self.reason,
                "change": round(self.change, 6), "track_ids": list(self.track_ids),
                "faces": [f.to_dict() for f in self.faces]}


def region_change(thumb: np.ndarray, reference: np.ndarray, blocks: int, ignore: np.ndarray | None = None) -> float:
    """Largest mean |thumb - reference| over blocks x blocks regions (cells where ignore is True left out)."""
    diff = np.abs(thumb - reference)
    keep = np.ones_like(diff) if ignore is None else (~ignore).astype(np.float32)
    side = thumb.shape[0] // blocks
    sums = (diff * keep).reshape(blocks, side, blocks, side).sum(axis=(1, 3))
    counts = keep.reshape(blocks, side, blocks, side).sum(axis=(1, 3))
    return float(np.max(np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)))


def _region(box: np.ndarray, width: int, height: int, size: int) -> tuple[int, int, int, int]:
    """Thumbnail cells (x0, y0, x1, y1) covered by an image-pixel box, at least one cell, inside the grid."""
    left, top, right, bottom = (float(v) for v in box)
    x0 = min(max(math.floor(left * size / width), 0), size - 1)
    y0 = min(max(math.floor(top * size / height), 0), size - 1)
    x1 = min(max(math.ceil(right * size / width), x0 + 1), size)
    y1 = min(max(math.ceil(bottom * size / height), y0 + 1), size)
    return x0, y0, x1, y1


def best_shift(previous: np.ndarray, current: np.ndarray, region: tuple[int, int, int, int], search: int) -> tuple[int, int, float]:
    """Shift (dx, dy) in cells that best maps the region of `previous` onto `current`, and the mean |diff| left.

    Shifts that leave the grid are not tried. Scanning dy, then dx, from the most negative, a shift replaces
    the best so far (which starts at no shift) only when its mean |diff| is lower by more than 1e-7.
    """
    x0, y0, x1, y1 = region
    size = previous.shape[0]
    patch = previous[y0:y1, x0:x1]
    dy_lo, dy_hi = max(-search, -y0), min(search, size - y1)
    dx_lo, dx_hi = max(-search, -x0), min(search, size - x1)
    window = current[y0 + dy_lo:y1 + dy_hi, x0 + dx_lo:x1 + dx_hi]
    views = np.lib.stride_tricks.sliding_window_view(window, patch.shape)
    diffs = (np.abs(views - patch).sum(axis=(2, 3)) / np.float32(patch.size)).tolist()
    best = (0, 0, diffs[-dy_lo][-dx_lo])
    for iy, row in enumerate(diffs):
        for ix, diff in enumerate(row):
            if diff < best[2] - 1e-7:  # ties keep the earlier shift: deterministic
                best = (ix + dx_lo, iy + dy_lo, diff)
    return best


def _moved(face: Face, dx: float, dy: float) -> Face:
    offset = np.array([dx, dy], np.float32)
    return replace(face, box=face.box + np.tile(offset, 2), keypoints=face.keypoints + offset)


@dataclass
class FrameReuseScheduler:
    """Runs `detect` (frame -> faces in image pixels) only when the policy says so."""

    detect: Callable[[np.ndarray], list[Face]]
    config: ReuseConfig = field(default_factory=ReuseConfig)

    def __post_init__(self) -> None:
        self.index = -1
        self.since_full = 0
        self.reference: np.ndarray | None = None  # thumbnail at the last full run
        self.faces: list[Face] = []
        self.tracks: list[Track] = []
        self.next_id = 1

    def _tracked_cells(self, shape: tuple[int, int]) -> np.ndarray:
        """Thumbnail cells a tracked face may cover since the last full run (its box there, widened by the search)."""
        cfg, (h, w) = self.config, shape
        mask = np.zeros((cfg.thumb, cfg.thumb), bool)
        for track in self.tracks:
            for box in (track.face.box, track.start.box):
                x0, y0, x1, y1 = _region(box, w, h, cfg.thumb)
                mask[max(y0 - cfg.search, 0):y1 + cfg.search, max(x0 - cfg.search, 0):x1 + cfg.search] = True
        return mask

    def _reason(self, thumb: np.ndarray, shape: tuple[int, int]) -> tuple[str | None, float]:
        """Why the model must run on this frame (None: reuse; tracking then moves the tracks), and the change."""
        cfg = self.config
        if self.reference is None:
            return "first", 0.0
        tracking = cfg.policy == "motion-gated+tracking"
        change = region_change(thumb, self.reference, cfg.blocks, self._tracked_cells(shape) if tracking else None)
        if cfg.policy == "every-frame":
            return "every-frame", change
        if self.since_full >= cfg.max_reuse:
            return "max-reuse", change
        if cfg.policy == "skip-N":
            return ("period" if self.since_full + 1 >= cfg.skip else None), change
        if change > cfg.region_threshold:
            return "scene-change", change
        if tracking:
            h, w = shape
            moves = []
            for track in self.tracks:
                dx, dy, residual = best_shift(self.reference, thumb, _region(track.start.box, w, h, cfg.thumb), cfg.search)
                if residual > cfg.face_threshold:
                    return "face-change", change
                moves.append((dx * w / cfg.thumb, dy * h / cfg.thumb))
            for track, (dx, dy) in zip(self.tracks, moves):
                track.face = _moved(track.start, dx, dy)
            self.faces = [replace(t.face, age=t.age, female=t.female) for t in self.tracks]
        return None, change

    def _update_tracks(self, faces: list[Face]) -> None:
        """Continue tracks with the new detections (greedy IoU, best first); start tracks for the rest."""
        cfg = self.config
        free = list(range(len(self.tracks)))
        updated: list[Track] = []
        for face in sorted(faces, key=lambda f: -f.score):
            overlaps = iou_one_to_many(face.box, np.array([self.tracks[i].face.box for i in free]).reshape(-1, 4))
            if len(free) and overlaps.max() >= cfg.match_iou:
                track = self.tracks[free.pop(int(overlaps.argmax()))]
                a = cfg.smoothing
                track.age = (1 - a) * track.age + a * (face.age or 0.0)
                track.female = (1 - a) * track.female + a * (face.female or 0.0)
                track.face = track.start = face
            else:
                track = Track(self.next_id, face, face.age or 0.0, face.female or 0.0, face)
                self.next_id += 1
            updated.append(track)
        self.tracks = sorted(updated, key=lambda t: t.id)
        self.faces = [replace(t.face, age=t.age, female=t.female) for t in self.tracks]

    def step(self, frame_rgb: np.ndarray) -> FrameDecision:
        """Process the next frame: run the model or reuse, and return what was done and the faces."""
        self.index += 1
        thumb = thumbnail(frame_rgb, self.config.thumb)
        reason, change = self._reason(thumb, frame_rgb.shape[:2])
        if reason is not None:
            faces = self.detect(frame_rgb)
            if self.config.policy == "motion-gated+tracking":
                self._update_tracks(faces)
            else:
                self.faces = list(faces)
            self.reference, self.since_full = thumb, 0
        else:
            self.since_full += 1
        tracking = self.config.policy == "motion-gated+tracking"
        return FrameDecision(self.index, reason is not None, reason or "static", change, tuple(self.faces),
                             tuple(t.id for t in self.tracks) if tracking else ())
