"""Frame reuse on synthetic sequences: static, panning, a cut, a face entering and leaving.

The detector here is a real (tiny) one for these synthetic frames: it finds the bright squares that
stand in for faces, so the scheduler's decisions can be checked against known ground truth.
"""

from __future__ import annotations

import numpy as np
import pytest

from exporter.postprocess import Face
from exporter.reuse import POLICIES, SAMPLES, FrameReuseScheduler, ReuseConfig, best_shift, thumbnail

H, W = 120, 160


def background(seed: int) -> np.ndarray:
    """A smooth random texture twice the frame width (so it can pan)."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(40, 160, (H // 8 + 1, 2 * W // 8 + 1, 3)).astype(np.float32)
    return np.kron(coarse, np.ones((8, 8, 1)))[:H, : 2 * W].astype(np.uint8)


def frame(bg: np.ndarray, pan: int = 0, faces: tuple[tuple[int, int], ...] = ()) -> np.ndarray:
    """A window of the background with 24-pixel white squares (the 'faces') at the given corners."""
    out = bg[:, pan:pan + W].copy()
    for x, y in faces:
        out[max(y, 0):max(y + 24, 0), max(x, 0):max(x + 24, 0)] = 255
    return out


def find_squares(image: np.ndarray) -> list[Face]:
    """Bounding boxes of the white squares, as faces (age from the x position, to test smoothing)."""
    mask = (image == 255).all(axis=2)
    faces = []
    cols = np.flatnonzero(mask.any(axis=0))
    if cols.size == 0:
        return faces
    groups = np.split(cols, np.flatnonzero(np.diff(cols) > 1) + 1)
    for group in groups:
        rows = np.flatnonzero(mask[:, group].any(axis=1))
        box = np.array([group[0], rows[0], group[-1] + 1, rows[-1] + 1], np.float32)
        faces.append(Face(box, np.tile(box[:2], (6, 1)), 0.9, age=30.0 + box[0] / 10, female=0.8))
    return faces


def run(frames: list[np.ndarray], **settings) -> list:
    scheduler = FrameReuseScheduler(find_squares, ReuseConfig(**settings))
    return [scheduler.step(f) for f in frames]


def test_thumbnail_of_a_quarter_white_image():
    image = np.zeros((64, 64, 3), np.uint8)
    image[:32, :32] = 255
    thumb = thumbnail(image, 4)
    assert thumb.shape == (4, 4) and thumb[0, 0] == pytest.approx(1.0) and thumb[3, 3] == 0.0
    with pytest.raises(ValueError, match="uint8 RGB"):
        thumbnail(np.zeros((2, 2), np.uint8), 4)


@pytest.mark.parametrize(("height", "width", "size"), [(75, 131, 8), (20, 33, 8), (480, 480, 32), (720, 1280, 32),
                                                      (1364, 720, 32)])
def test_thumbnail_matches_the_integer_definition_the_ports_follow(height, width, size):
    """Samples at floor((2i + 1) * H / 2N), integer luma 299 R + 587 G + 114 B, exact sums, one division."""
    image = np.random.default_rng(height).integers(0, 256, (height, width, 3), dtype=np.uint8)
    samples = SAMPLES
    n = size * samples
    rows = [(2 * i + 1) * height // (2 * n) for i in range(n)]
    cols = [(2 * i + 1) * width // (2 * n) for i in range(n)]
    expected = np.zeros((size, size), np.float32)
    for cy in range(size):
        for cx in range(size):
            total = 0
            for r in rows[cy * samples:(cy + 1) * samples]:
                for c in cols[cx * samples:(cx + 1) * samples]:
                    red, green, blue = (int(v) for v in image[r, c])
                    total += 299 * red + 587 * green + 114 * blue
            expected[cy, cx] = np.float32(total) / np.float32(samples * samples * 255000)
    np.testing.assert_array_equal(thumbnail(image, size), expected)


def test_every_frame_and_skip_n():
    frames = [frame(background(0), faces=((40, 40),))] * 9
    assert all(d.ran_model for d in run(frames, policy="every-frame"))
    assert [d.index for d in run(frames, policy="skip-N", skip=3) if d.ran_model] == [0, 3, 6]


@pytest.mark.parametrize("policy", POLICIES[2:])
def test_static_scene_reuses_with_bounded_staleness(policy):
    frames = [frame(background(0), faces=((40, 40),))] * 25
    decisions = run(frames, policy=policy, max_reuse=5)
    assert [d.index for d in decisions if d.ran_model] == [0, 6, 12, 18, 24]
    assert {d.reason for d in decisions if d.ran_model} == {"first", "max-reuse"}
    assert all(len(d.faces) == 1 for d in decisions)


@pytest.mark.parametrize("policy", POLICIES[2:])
def test_cut_to_a_new_scene_runs_at_once(policy):
    frames = [frame(background(0), faces=((40, 40),))] * 5 + [frame(background(1), faces=((100, 60),))] * 3
    decisions = run(frames, policy=policy)
    assert decisions[5].ran_model and decisions[5].reason == "scene-change"
    assert decisions[5].faces[0].box[0] == 100 and not decisions[6].ran_model


@pytest.mark.parametrize("policy", POLICIES[2:])
def test_panning_camera_keeps_running_the_model(policy):
    bg = background(2)
    frames = [frame(bg, pan=4 * i, faces=((60, 50),)) for i in range(8)]
    decisions = run(frames, policy=policy, max_reuse=30)
    assert sum(d.ran_model for d in decisions) >= 6  # the view changes: results must not go stale
    assert all(abs(d.faces[0].box[0] - 60) <= 1 for d in decisions)


def test_moving_face_is_tracked_between_runs():
    bg = background(6)
    frames = [frame(bg, faces=((40 + 2 * i, 50),)) for i in range(10)]  # 2 px a frame on a still background
    # a white square on a dark texture changes cells far more than a face does: a looser face threshold
    decisions = run(frames, policy="motion-gated+tracking", max_reuse=30, face_threshold=0.15)
    assert sum(not d.ran_model for d in decisions) >= 5, [d.reason for d in decisions]
    for d in decisions:
        assert abs(d.faces[0].box[0] - (40 + 2 * d.index)) <= W / 32 + 1  # within a thumbnail cell
    assert {d.track_ids for d in decisions} == {(1,)}


def test_face_entering_and_leaving_keeps_ids_stable():
    bg = background(3)
    positions = [((20, 40),)] * 4 + [((20, 40), (110, 40))] * 6 + [((110, 40),)] * 6
    decisions = run([frame(bg, faces=p) for p in positions], policy="motion-gated+tracking", max_reuse=30)
    entered, left = decisions[4], decisions[10]
    assert entered.ran_model and entered.reason in ("scene-change", "face-change")
    assert entered.track_ids == (1, 2)
    assert left.ran_model and left.track_ids == (2,)  # the first face left; the second keeps its id
    assert decisions[-1].track_ids == (2,)


def test_age_and_gender_are_smoothed_per_track():
    bg = background(4)
    frames = [frame(bg, faces=((40 + 10 * (i % 2), 40),)) for i in range(6)]  # detected age alternates 34 / 35
    decisions = run(frames, policy="motion-gated+tracking", region_threshold=0.0, face_threshold=0.0)
    ages = [d.faces[0].age for d in decisions]
    assert ages[0] == pytest.approx(34.0) and all(34.0 <= a <= 35.0 for a in ages)
    assert abs(ages[-1] - ages[-2]) < 1.0 * 0.3 + 1e-6  # one new observation moves it by the smoothing weight


def test_decisions_are_deterministic():
    bg = background(5)
    frames = [frame(bg, pan=i % 3, faces=((30 + i, 30),)) for i in range(15)]
    first = [d.trace() for d in run(frames)]
    assert first == [d.trace() for d in run(frames)]


def test_best_shift_finds_the_motion():
    rng = np.random.default_rng(0)
    previous = rng.random((16, 16)).astype(np.float32)
    current = np.roll(previous, (1, -2), axis=(0, 1))  # down 1, left 2
    dx, dy, residual = best_shift(previous, current, (5, 5, 10, 10), 2)
    assert (dx, dy) == (-2, 1) and residual == pytest.approx(0.0)


def test_unknown_policy_lists_the_valid_ones():
    with pytest.raises(ValueError, match="motion-gated"):
        ReuseConfig(policy="sometimes")
