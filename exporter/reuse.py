"""Frame reuse on video: decide per frame between running the full model and reusing earlier results.

This is the reference the Android and iOS apps port. Every decision is taken on exact integers (or on
doubles computed from exact integers in a fixed order), so a port reproduces it bit for bit:

- Samples and thumbnail. The frame is sampled on an N x N grid (N = THUMB * SAMPLES, sample i at row
  floor((2i + 1) * H / (2N)), columns alike); a sample's luma is the integer 299 R + 587 G + 114 B. A cell of
  the THUMB x THUMB thumbnail holds the integer sum of its SAMPLES x SAMPLES samples; `thumbnail()` divides
  it, in float32, by SAMPLES^2 * 255000 (luma in [0, 1]) for display and the stored goldens. A "change"
  of a set of cells is sum |cell difference| / (cells * SAMPLES^2 * 255000) in double; a threshold t is
  compared as sum > t * cells * SAMPLES^2 * 255000 (double products in this order). Of several regions (or
  border segments) the one with the largest mean, sum / cells in double, counts; the first in order on a tie.
- `every-frame` runs the model on every frame and computes nothing else (the honest baseline); `skip-N`
  runs on every N-th frame and computes nothing on the picture either; `motion-gated` runs when a region's change since the last full run exceeds
  `region_threshold` (regions: the thumbnail cut into BLOCKS x BLOCKS). Every policy but every-frame runs
  the model at least every `max_reuse + 1` frames.
- `motion-gated+tracking` (the one the apps ship) keeps, from the last full run, the reference samples
  (as a summed-area table), their cells and their column and row sums, and the tracks (a face, its
  confidence, smoothed age and P(female), and how many runs in a row missed it). On each later frame, in
  this order:
  1. max-reuse: `max_reuse` frames reused in a row.
  2. Camera motion. The cell difference to the reference is taken as it is (a still camera, shift 0) when
     its whole-picture change is at most `still_threshold`. Otherwise, for each axis, the current column
     (row) sums P are compared with the reference's R for shifts s = 0, -1, +1, -2, +2, ... up to
     `motion_search` samples: the cost of s is sum |P[i] - R[i - s]| over the overlap (exact integers)
     divided, in double, by the overlap's length; the first lowest cost wins. The reference samples moved
     by (sx, sy) are summed into cells (the summed-area table: exact); cells that are not wholly inside the
     moved reference are not compared. The shift is kept only when the moved difference's mean over its
     compared cells is lower than the unmoved one's over all cells (compared by cross-multiplying the
     integer sums and counts); then `motion` is (sx, sy), else (0, 0) and every cell is compared.
  3. cut: the change of all compared cells exceeds `cut_threshold`, or fewer than half the cells are
     compared. Tracks are dropped: the faces after a cut get new ids.
  4. edge: the camera's shift reaches `edge_shift` samples on an axis (new content came into view), or a
     segment of the border ring (EDGE_RING cells deep and EDGE_SEGMENT long: the top and bottom rows, then
     the left and right columns between them; a cell's segment is its column (rows) or row (columns) index
     // EDGE_SEGMENT, so the side columns' first and last segments are shorter) changed by more than
     `edge_threshold` over its compared cells outside the tracked faces (something entering at a border).
  5. scene-change: a region's change over its compared cells outside the tracked faces exceeds
     `region_threshold`, or `empty_threshold` when no face is tracked (then any change may be a face
     appearing). A tracked face's cells: its box at the last full run (as below), moved by the camera's
     shift in whole cells (samples / SAMPLES rounded half away from zero), widened by `search` cells.
  6. recheck: the last full run missed a tracked face (it is hidden, and looked for on each frame until it
     is found again or `recheck` runs in a row have missed it).
  7. low-confidence: a track's confidence, floor(1000 * score) at its last detection, less
     `confidence_decay` for each frame since the last full run (this one included), is below
     `min_confidence`: weak faces are checked again sooner than clear ones.
  8. face-change: each track's cells of the reference thumbnail are matched against the current one at
     cell shifts within `search` of the camera's shift in whole cells (shifts that leave the grid are not
     tried); scanning dy, then dx, from the most negative, the first lowest sum |difference| wins, the
     camera's shift being preferred on a tie; the model runs when that sum's mean exceeds `face_threshold`
     or no shift fits in the grid.
  9. Otherwise the results are reused and each track's box and keypoints move by its best shift (cells
     times the frame side / THUMB, in double, added in float32).
- A box's cells: floor of the left/top and ceil of the right/bottom edge times THUMB / image side, in
  double precision, at least one cell, inside the grid.
- After a full run the detections continue the tracks by IoU with their last box (greedy, best score
  first, above `match_iou`; after a cut no track is continued); a continued track keeps its id, smooths age
  and P(female) with an exponential moving average and takes the new confidence; a track no detection
  continues is missed (see recheck); a new detection starts a track with the next id.
- The second look (optional; exporter.second_look): after a full run, each shown track whose box side is below
  `max_face_fraction` of the frame's longer side and which is new or was last looked at `refresh_every` or more
  frames ago (at most `max_faces`, highest confidence first, then lowest id) is looked at again: the model runs
  on the square around its box; the age and P(female) found there replace the track's and are kept (not
  smoothed with later full runs) until its next look. A look that finds no face leaves the track as it was.
  `looked` in the decisions lists the ids looked at.
- `change` in the decisions is the largest regional change of step 5 (0 when the decision came earlier,
  the whole-picture change for a cut) and `motion` the camera's shift of step 2.

Same frames and settings give the same decisions: the apps are checked against traces written here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import cv2
import numpy as np

from exporter.postprocess import Face, iou_one_to_many
from exporter.second_look import SecondLook, wants_second_look

POLICIES = ("every-frame", "skip-N", "motion-gated", "motion-gated+tracking")
REASONS = ("first", "every-frame", "period", "max-reuse", "cut", "edge", "scene-change", "recheck",
           "low-confidence", "face-change", "static")
LUMA_WEIGHTS = np.array([[299, 587, 114]], np.float32)  # x 1/1000: BT.601 luma, as a 1 x 3 colour transform
SAMPLES = 4  # samples per thumbnail cell side
LUMA_SCALE = SAMPLES * SAMPLES * 255000  # a cell sum divided by this is its mean luma in [0, 1]
EDGE_RING, EDGE_SEGMENT = 2, 4  # border ring depth and segment length, in cells


@dataclass(frozen=True)
class ReuseConfig:
    """Settings of a policy (the defaults are the ones `facekit bench` reports)."""

    policy: str = "motion-gated+tracking"
    skip: int = 3  # skip-N: run on frames 0, N, 2N, ...
    thumb: int = 32  # thumbnail side, in cells
    blocks: int = 4  # the change is measured in blocks x blocks regions of the thumbnail
    region_threshold: float = 0.04  # largest mean |change| of a region since the last full run, luma in [0, 1]
    empty_threshold: float = 0.01  # the same when the last full run found no face
    face_threshold: float = 0.05  # mean |change| of a face's region after its best shift
    cut_threshold: float = 0.08  # mean |change| of the whole (camera-compensated) picture: a cut
    edge_threshold: float = 0.15  # mean |change| of a border segment: something entering
    edge_shift: int = 12  # new content (in samples, 1/(thumb * SAMPLES) of the side) the camera may bring
    still_threshold: float = 0.01  # camera: below this mean |change| of the whole picture it is taken as still
    motion_search: int = 12  # camera: largest shift tried, in samples
    search: int = 2  # tracking: largest face shift tried around the camera's, in thumbnail cells
    max_reuse: int = 10  # a result is reused on at most this many frames in a row
    min_confidence: int = 500  # thousandths: a reused face's decayed confidence must stay at least this
    confidence_decay: int = 10  # thousandths per reused frame
    recheck: int = 2  # tracking: a face the model lost is looked for on this many following frames
    match_iou: float = 0.3  # tracking: a detection continues a track above this IoU
    smoothing: float = 0.3  # tracking: weight of a new age/gender observation

    def __post_init__(self) -> None:
        if self.policy not in POLICIES:
            raise ValueError(f"unknown reuse policy {self.policy!r}; choose one of: {', '.join(POLICIES)}")
        if (self.skip < 1 or self.max_reuse < 0 or self.search < 0 or self.motion_search < 0 or self.blocks < 1
                or self.thumb % self.blocks or self.thumb < 2 * EDGE_RING or self.thumb % EDGE_SEGMENT):
            raise ValueError("skip >= 1, max_reuse, search and motion_search >= 0, and a thumb side divisible by "
                             f"blocks and by {EDGE_SEGMENT} are required")


def luma_samples(frame_rgb: np.ndarray, size: int) -> np.ndarray:
    """Integer luma of the (size * SAMPLES)^2 sample grid, held exactly in float32."""
    if frame_rgb.ndim != 3 or frame_rgb.shape[2] != 3 or frame_rgb.dtype != np.uint8 or 0 in frame_rgb.shape:
        raise ValueError(f"a frame must be a non-empty (H, W, 3) uint8 RGB array, got {frame_rgb.shape} {frame_rgb.dtype}")
    n = size * SAMPLES
    # INTER_NEAREST_EXACT picks pixel floor((2i + 1) * H / 2N), as defined above (tests/test_reuse.py checks it).
    samples = cv2.resize(frame_rgb, (n, n), interpolation=cv2.INTER_NEAREST_EXACT)
    return cv2.transform(samples.astype(np.float32), LUMA_WEIGHTS)  # integers below 2^24 in any order: exact


def cell_sums(luma: np.ndarray) -> np.ndarray:
    """Integer sums of SAMPLES x SAMPLES blocks of the samples (a thumbnail before division), as int64."""
    rows = luma[0::SAMPLES].copy()  # strided adds: much faster than reshape + sum
    for i in range(1, SAMPLES):
        rows += luma[i::SAMPLES]
    cells = rows[:, 0::SAMPLES].copy()
    for i in range(1, SAMPLES):
        cells += rows[:, i::SAMPLES]
    return cells.astype(np.int64)  # at most 16 * 255000: exact


def thumbnail(frame_rgb: np.ndarray, size: int) -> np.ndarray:
    """Mean sampled luma in [0, 1] over a size x size grid of cells: (size, size) float32."""
    return cell_sums(luma_samples(frame_rgb, size)).astype(np.float32) / np.float32(LUMA_SCALE)


def _exceeds(total: int, cells: int, threshold: float) -> bool:
    """Whether a summed |cell difference| over `cells` cells is a mean change above the threshold."""
    return total > threshold * cells * LUMA_SCALE


@lru_cache(maxsize=8)
def _labels(size: int, blocks: int) -> tuple[np.ndarray, np.ndarray]:
    """Per cell, as flat arrays: its region (blocks x blocks, row-major), and its border segment (EDGE_RING
    deep, EDGE_SEGMENT long: top, bottom, then left and right between them, numbered by column or row index //
    EDGE_SEGMENT),
    with the inner cells in a last, unused segment."""
    cell = np.arange(size)
    side = size // blocks
    regions = (cell[:, None] // side) * blocks + cell[None, :] // side
    per_side = size // EDGE_SEGMENT
    segments = np.full((size, size), 4 * per_side)
    for i, ring in enumerate((np.s_[:EDGE_RING, :], np.s_[size - EDGE_RING:, :])):
        segments[ring] = i * per_side + cell[None, :] // EDGE_SEGMENT
    for i, ring in enumerate((np.s_[EDGE_RING:size - EDGE_RING, :EDGE_RING], np.s_[EDGE_RING:size - EDGE_RING, size - EDGE_RING:])):
        segments[ring] = (2 + i) * per_side + cell[EDGE_RING:size - EDGE_RING, None] // EDGE_SEGMENT
    return regions.ravel(), segments.ravel()


def _largest_means(diff: np.ndarray, keep: np.ndarray, labels: np.ndarray, counts: tuple[int, ...]) -> list[tuple[int, int]]:
    """For each grouping of the cells (consecutive label ranges of the given sizes, in `labels` once per
    grouping), (sum, cells) of the group with the largest mean |difference| over kept cells, the first of
    equal means; (0, 1) when no cell of a grouping is kept."""
    kept = np.tile(keep.ravel(), len(counts))
    total = sum(counts)
    sums = np.bincount(labels, np.tile(diff.ravel(), len(counts)) * kept, total + 1)  # below 2^53: exact in double
    cells = np.bincount(labels, kept, total + 1)
    means = np.where(cells > 0, sums / np.maximum(cells, 1), -1.0)
    out, start = [], 0
    for count in counts:
        best = start + int(np.argmax(means[start:start + count]))
        out.append((int(sums[best]), int(cells[best])) if cells[best] > 0 else (0, 1))
        start += count
    return out


@lru_cache(maxsize=8)
def _both_labels(size: int, blocks: int) -> tuple[np.ndarray, tuple[int, int]]:
    """Labels for `_largest_means` of the regions and the border segments together (inner cells go to the
    last, unused bin), and the two group counts."""
    regions, segments = _labels(size, blocks)
    segments = np.where(segments < 4 * (size // EDGE_SEGMENT), segments + blocks * blocks, -1)
    counts = (blocks * blocks, 4 * (size // EDGE_SEGMENT))
    labels = np.concatenate([regions, segments])
    return np.where(labels < 0, sum(counts), labels), counts


def region_change(diff: np.ndarray, blocks: int, keep: np.ndarray | None = None) -> tuple[int, int]:
    """(sum, cells) of the region with the largest mean |difference| (cells where keep is False left out)."""
    keep = np.ones(diff.shape, bool) if keep is None else keep
    return _largest_means(diff, keep, _labels(diff.shape[0], blocks)[0], (blocks * blocks,))[0]


def region_and_border_change(diff: np.ndarray, blocks: int, keep: np.ndarray) -> tuple[tuple[int, int], tuple[int, int]]:
    """(sum, cells) of the region, and of the border-ring segment, with the largest mean |difference| over kept cells."""
    labels, counts = _both_labels(diff.shape[0], blocks)
    region, border = _largest_means(diff, keep, labels, counts)
    return region, border


def _change(pair: tuple[int, int]) -> float:
    return pair[0] / (pair[1] * LUMA_SCALE)


@lru_cache(maxsize=8)
def _shift_table(n: int, search: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For profiles of n and shifts up to `search`: the shifts of the windows of a reference padded by
    `search` zeros on each side (window w holds R[i - s] at i for s = search - w), the overlap masks of the
    windows, the overlap lengths, and the windows in trial order (0, -1, +1, -2, ...)."""
    shifts = np.arange(search, -search - 1, -1)
    source = np.arange(n)[None, :] - shifts[:, None]
    overlap = (source >= 0) & (source < n)
    order = np.array(sorted(range(len(shifts)), key=lambda w: (abs(shifts[w]), shifts[w])))
    return shifts, overlap.astype(np.int32), overlap.sum(axis=1), order


def global_shift(profiles: np.ndarray, references: np.ndarray, search: int) -> tuple[int, ...]:
    """Per row of `profiles` (column sums, row sums, ...), the shift s in samples that best maps the reference
    profile onto the current one, profile[i] ~ reference[i - s]."""
    n = profiles.shape[1]
    search = min(search, n - 1)
    shifts, overlap, lengths, order = _shift_table(n, search)
    padded = np.zeros((len(profiles), n + 2 * search), np.int32)
    padded[:, search:search + n] = references
    windows = np.lib.stride_tricks.sliding_window_view(padded, n, axis=1)  # (rows, 2 * search + 1, n)
    sums = (np.abs(profiles[:, None, :] - windows) * overlap).sum(axis=2, dtype=np.int64)
    costs = (sums / lengths)[:, order]
    return tuple(int(shifts[order[i]]) for i in np.argmin(costs, axis=1))  # the first of equal costs: the smallest


def profiles(luma: np.ndarray) -> np.ndarray:
    """Column sums and row sums of the samples: (2, n) int32, exact (at most 128 * 255000)."""
    return np.stack([luma.sum(axis=0, dtype=np.float64), luma.sum(axis=1, dtype=np.float64)]).astype(np.int32)


def integral(luma: np.ndarray) -> np.ndarray:
    """Summed-area table of the samples, (n + 1, n + 1) int64 with a zero first row and column."""
    table = np.zeros((luma.shape[0] + 1, luma.shape[1] + 1), np.int64)
    table[1:, 1:] = luma.astype(np.int64).cumsum(axis=0).cumsum(axis=1)
    return table


def _inside(shift: int, n: int) -> tuple[int, int]:
    """Cells [first, last) whose samples moved by `shift` come wholly from inside 0..n."""
    cells = n // SAMPLES
    return min(max(-(-shift // SAMPLES), 0), cells), max(min((n + shift) // SAMPLES, cells), 0)


def shifted_cells(table: np.ndarray, dx: int, dy: int) -> tuple[np.ndarray, np.ndarray]:
    """Cell sums of the samples (given as their summed-area table) moved by (dx, dy), and which cells lie
    wholly inside the moved picture (the others hold 0)."""
    n = table.shape[0] - 1
    (r0, r1), (c0, c1) = _inside(dy, n), _inside(dx, n)
    cells = np.zeros((n // SAMPLES, n // SAMPLES), np.int64)
    compared = np.zeros(cells.shape, bool)
    if r1 > r0 and c1 > c0:
        y, x = SAMPLES * r0 - dy, SAMPLES * c0 - dx
        ys, xs = np.s_[y:y + SAMPLES * (r1 - r0) + 1:SAMPLES], np.s_[x:x + SAMPLES * (c1 - c0) + 1:SAMPLES]
        corners = table[ys, xs]
        cells[r0:r1, c0:c1] = corners[1:, 1:] - corners[:-1, 1:] - corners[1:, :-1] + corners[:-1, :-1]
        compared[r0:r1, c0:c1] = True
    return cells, compared


def _region(box: np.ndarray, width: int, height: int, size: int) -> tuple[int, int, int, int]:
    """Thumbnail cells (x0, y0, x1, y1) covered by an image-pixel box, at least one cell, inside the grid."""
    left, top, right, bottom = (float(v) for v in box)
    x0 = min(max(math.floor(left * size / width), 0), size - 1)
    y0 = min(max(math.floor(top * size / height), 0), size - 1)
    x1 = min(max(math.ceil(right * size / width), x0 + 1), size)
    y1 = min(max(math.ceil(bottom * size / height), y0 + 1), size)
    return x0, y0, x1, y1


def best_shift(previous: np.ndarray, current: np.ndarray, region: tuple[int, int, int, int], search: int,
               centre: tuple[int, int] = (0, 0)) -> tuple[int, int, int]:
    """Cell shift (dx, dy) within `search` of `centre` that best maps the region of `previous` onto `current`,
    and the sum |difference| left (integer cell sums in, shifts leaving the grid not tried).

    Scanning dy, then dx, from the most negative, a shift replaces the best so far (which starts at the
    centre, or at the first shift tried when the centre leaves the grid) only when its sum is strictly lower.
    """
    x0, y0, x1, y1 = region
    size = previous.shape[0]
    patch = previous[y0:y1, x0:x1]
    cx, cy = centre
    dy_lo, dy_hi = max(cy - search, -y0), min(cy + search, size - y1)
    dx_lo, dx_hi = max(cx - search, -x0), min(cx + search, size - x1)
    if dy_lo > dy_hi or dx_lo > dx_hi:  # the face has left the picture
        return 0, 0, -1
    window = current[y0 + dy_lo:y1 + dy_hi, x0 + dx_lo:x1 + dx_hi]
    rows, cols = window.shape[0] - patch.shape[0] + 1, window.shape[1] - patch.shape[1] + 1
    views = np.lib.stride_tricks.as_strided(window, (rows, cols, *patch.shape), window.strides * 2, writeable=False)
    sums = np.abs(views - patch).sum(axis=(2, 3))
    first = np.unravel_index(int(np.argmin(sums)), sums.shape)  # the first lowest in scan order
    if dy_lo <= cy <= dy_hi and dx_lo <= cx <= dx_hi and sums[cy - dy_lo, cx - dx_lo] == sums[first]:
        return cx, cy, int(sums[first])
    return int(first[1]) + dx_lo, int(first[0]) + dy_lo, int(sums[first])


def _moved(face: Face, dx: float, dy: float) -> Face:
    offset = np.array([dx, dy], np.float32)
    return Face(face.box + np.tile(offset, 2), face.keypoints + offset, face.score, face.age, face.female)


@dataclass
class Track:
    """A face followed across frames."""

    id: int
    face: Face  # box and keypoints in image pixels, at the current frame
    age: float
    female: float
    start: Face  # the face as the model saw it at the last full run
    confidence: int  # floor(1000 * score) at the last full run
    missed: int = 0  # full runs in a row that did not find the face (then it is hidden, kept to be re-checked)
    looked_at: int | None = None  # frame index of its last second look
    looked: bool = False  # age and P(female) come from a second look (later full runs do not smooth them)

    def shown(self) -> Face:
        """The face as reported: current box, smoothed age and P(female)."""
        return Face(self.face.box, self.face.keypoints, self.face.score, self.age, self.female)


@dataclass(frozen=True)
class FrameDecision:
    """What the scheduler did on one frame."""

    index: int
    ran_model: bool
    reason: str  # one of REASONS
    change: float  # largest regional change since the last full run (tracked faces left out; camera compensated)
    faces: tuple[Face, ...]
    track_ids: tuple[int, ...] = ()
    motion: tuple[int, int] = (0, 0)  # tracking: the camera's shift since the last full run, in samples
    looked: tuple[int, ...] = ()  # tracking with a second look: the track ids looked at again on this frame

    def trace(self) -> dict:
        """The JSON-friendly record the apps' ports are checked against."""
        return {"index": self.index, "ran_model": self.ran_model, "reason": self.reason,
                "change": round(self.change, 6), "motion": list(self.motion), "track_ids": list(self.track_ids),
                "looked": list(self.looked), "faces": [f.to_dict() for f in self.faces]}


@dataclass
class FrameReuseScheduler:
    """Runs `detect` (frame -> faces in image pixels) only when the policy says so; with tracking and a second
    look, `look` (frame, face -> the face found on the square around it, or None) refreshes small tracks."""

    detect: Callable[[np.ndarray], list[Face]]
    config: ReuseConfig = field(default_factory=ReuseConfig)
    second_look: SecondLook | None = None
    look: Callable[[np.ndarray, Face], Face | None] | None = None

    def __post_init__(self) -> None:
        if self.second_look is not None and self.look is None:
            raise ValueError("a scheduler with a second look needs `look` (frame, face -> face or None)")
        self.index = -1
        self.since_full = 0
        self.reference: np.ndarray | None = None  # summed-area table of the luma samples at the last full run
        self.reference_cells: np.ndarray | None = None
        self.reference_profiles = np.zeros((2, 0), np.int32)  # column and row sums at the last full run
        self.faces: list[Face] = []
        self.tracks: list[Track] = []
        self.next_id = 1

    def _face_cells(self, shape: tuple[int, int], dx: int, dy: int) -> np.ndarray:
        """Cells a tracked face may cover (its box at the last run, moved by the camera, widened by the search)."""
        cfg, (h, w) = self.config, shape
        mask = np.zeros((cfg.thumb, cfg.thumb), bool)
        for track in self.tracks:
            x0, y0, x1, y1 = _region(track.start.box, w, h, cfg.thumb)
            mask[max(y0 + dy - cfg.search, 0):max(y1 + dy + cfg.search, 0),
                 max(x0 + dx - cfg.search, 0):max(x1 + dx + cfg.search, 0)] = True
        return mask

    def _gated(self, cells: np.ndarray) -> tuple[str | None, float]:
        """motion-gated: run when a region changed (no camera compensation, no tracks)."""
        change = region_change(np.abs(cells - self.reference_cells), self.config.blocks)
        if self.since_full >= self.config.max_reuse:
            return "max-reuse", _change(change)
        return ("scene-change" if _exceeds(*change, self.config.region_threshold) else None), _change(change)

    def _tracked(self, luma: np.ndarray, cells: np.ndarray, shape: tuple[int, int]) -> tuple[str | None, float, tuple[int, int]]:
        """motion-gated+tracking: steps 1-8 of the module docstring; on reuse the tracks are moved."""
        cfg = self.config
        if self.since_full >= cfg.max_reuse:
            return "max-reuse", 0.0, (0, 0)
        diff = np.abs(cells - self.reference_cells)
        total, compared, (gx, gy), n = int(diff.sum()), _all_cells(cfg.thumb), (0, 0), diff.size
        if _exceeds(total, diff.size, cfg.still_threshold):  # the picture changed: did the camera move?
            shift = global_shift(profiles(luma), self.reference_profiles, cfg.motion_search)
            expected, moved = shifted_cells(self.reference, *shift)
            moved_diff = np.abs(cells - expected) * moved
            moved_total, n = int(moved_diff.sum()), int(moved.sum())
            if moved_total * diff.size < total * n:  # the shift explains the picture better than a still camera
                diff, total, compared, (gx, gy) = moved_diff, moved_total, moved, shift
            else:
                n = diff.size
        if 2 * n < compared.size or _exceeds(total, n, cfg.cut_threshold):
            return "cut", _change((total, max(n, 1))), (gx, gy)
        cx, cy = _round_cells(gx), _round_cells(gy)
        keep = compared & ~self._face_cells(shape, cx, cy)
        change, border = region_and_border_change(diff, cfg.blocks, keep)
        if max(abs(gx), abs(gy)) >= cfg.edge_shift or _exceeds(*border, cfg.edge_threshold):
            return "edge", 0.0, (gx, gy)
        if _exceeds(*change, cfg.region_threshold if self.tracks else cfg.empty_threshold):
            return "scene-change", _change(change), (gx, gy)
        if any(t.missed for t in self.tracks):
            return "recheck", _change(change), (gx, gy)
        age = self.since_full + 1
        if any(t.confidence - cfg.confidence_decay * age < cfg.min_confidence for t in self.tracks):
            return "low-confidence", _change(change), (gx, gy)
        h, w = shape
        moves = []
        for track in self.tracks:
            region = _region(track.start.box, w, h, cfg.thumb)
            dx, dy, total = best_shift(self.reference_cells, cells, region, cfg.search, (cx, cy))
            area = (region[2] - region[0]) * (region[3] - region[1])
            if total < 0 or _exceeds(total, area, cfg.face_threshold):
                return "face-change", _change(change), (gx, gy)
            moves.append((dx * w / cfg.thumb, dy * h / cfg.thumb))
        for track, (dx, dy) in zip(self.tracks, moves):
            track.face = _moved(track.start, dx, dy)
        self.faces = [t.shown() for t in self.tracks if not t.missed]
        return None, _change(change), (gx, gy)

    def _update_tracks(self, faces: list[Face], cut: bool) -> None:
        """Continue tracks with the new detections (greedy IoU, best first); start tracks for the rest."""
        cfg = self.config
        free = [] if cut else list(range(len(self.tracks)))
        updated: list[Track] = []
        for face in sorted(faces, key=lambda f: -f.score):
            overlaps = iou_one_to_many(face.box, np.array([self.tracks[i].face.box for i in free]).reshape(-1, 4))
            confidence = math.floor(1000 * float(face.score))
            if len(free) and overlaps.max() >= cfg.match_iou:
                track = self.tracks[free.pop(int(overlaps.argmax()))]
                if not track.looked:
                    a = cfg.smoothing
                    track.age = (1 - a) * track.age + a * (face.age or 0.0)
                    track.female = (1 - a) * track.female + a * (face.female or 0.0)
                track.face = track.start = face
                track.confidence, track.missed = confidence, 0
            else:
                track = Track(self.next_id, face, face.age or 0.0, face.female or 0.0, face, confidence)
                self.next_id += 1
            updated.append(track)
        for i in free:  # tracks not found: hidden, looked for again on the next frames, then dropped
            self.tracks[i].missed += 1
            if self.tracks[i].missed <= cfg.recheck:
                updated.append(self.tracks[i])
        self.tracks = sorted(updated, key=lambda t: t.id)
        self.faces = [t.shown() for t in self.tracks if not t.missed]

    def _look_again(self, frame_rgb: np.ndarray) -> tuple[int, ...]:
        """Second looks at the small shown tracks that are new or due (see the module docstring); their ids."""
        look = self.second_look
        if look is None:
            return ()
        due = [t for t in self.tracks if not t.missed and wants_second_look(t.face, frame_rgb.shape, look)
               and (t.looked_at is None or self.index - t.looked_at >= look.refresh_every)]
        due = sorted(due, key=lambda t: (-t.confidence, t.id))[: look.max_faces]
        for track in due:
            seen = self.look(frame_rgb, track.face)
            track.looked_at = self.index
            if seen is not None:
                track.age, track.female, track.looked = seen.age or 0.0, seen.female or 0.0, True
        self.faces = [t.shown() for t in self.tracks if not t.missed]
        return tuple(t.id for t in due)

    def step(self, frame_rgb: np.ndarray) -> FrameDecision:
        """Process the next frame: run the model or reuse, and return what was done and the faces."""
        self.index += 1
        cfg = self.config
        tracking = cfg.policy == "motion-gated+tracking"
        change, motion = 0.0, (0, 0)
        if cfg.policy in ("every-frame", "skip-N"):  # counting only: nothing is computed on the picture
            reason = ("first" if self.index == 0 else "every-frame" if cfg.policy == "every-frame"
                      else "max-reuse" if self.since_full >= cfg.max_reuse
                      else "period" if self.since_full + 1 >= cfg.skip else None)
            luma = cells = None
        else:
            luma = luma_samples(frame_rgb, cfg.thumb)
            cells = cell_sums(luma)
            if self.reference_cells is None:
                reason = "first"
            elif tracking:
                reason, change, motion = self._tracked(luma, cells, frame_rgb.shape[:2])
            else:
                reason, change = self._gated(cells)
        looked: tuple[int, ...] = ()
        if reason is not None:
            faces = self.detect(frame_rgb)
            if tracking:
                self._update_tracks(faces, cut=reason == "cut")
                looked = self._look_again(frame_rgb)
                self.reference, self.reference_profiles = integral(luma), profiles(luma)
            else:
                self.faces = list(faces)
            self.reference_cells, self.since_full = cells, 0
        else:
            self.since_full += 1
        return FrameDecision(self.index, reason is not None, reason or "static", change, tuple(self.faces),
                             tuple(t.id for t in self.tracks if not t.missed) if tracking else (), motion, looked)


@lru_cache(maxsize=8)
def _all_cells(size: int) -> np.ndarray:
    """Every cell compared (a still camera)."""
    return np.ones((size, size), bool)


def _round_cells(samples: int) -> int:
    """A shift in samples as whole cells, halves away from zero."""
    return int(math.copysign((abs(samples) + SAMPLES // 2) // SAMPLES, samples))
