"""Frame reuse on synthetic sequences: static, panning, a cut, a face entering and leaving, weak and flickering faces.

The detector here is a real (tiny) one for these synthetic frames: it finds the bright squares that
stand in for faces, so the scheduler's decisions can be checked against known ground truth.
"""

from __future__ import annotations

import numpy as np
import pytest

from exporter.postprocess import Face
from exporter.reuse import (POLICIES, SAMPLES, FrameReuseScheduler, ReuseConfig, best_shift, cell_sums, global_shift,
                            integral, shifted_cells, thumbnail)

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


def find_squares(image: np.ndarray, score: float = 0.9) -> list[Face]:
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
        faces.append(Face(box, np.tile(box[:2], (6, 1)), score, age=30.0 + box[0] / 10, female=0.8))
    return faces


def run(frames: list[np.ndarray], detect=find_squares, **settings) -> list:
    scheduler = FrameReuseScheduler(detect, ReuseConfig(**settings))
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
    assert decisions[5].ran_model and decisions[5].reason == ("cut" if policy == "motion-gated+tracking" else "scene-change")
    assert decisions[5].faces[0].box[0] == 100 and not decisions[6].ran_model
    if policy == "motion-gated+tracking":  # after a cut the face is a new one, even where an old one was
        assert decisions[4].track_ids == (1,) and decisions[5].track_ids == (2,)


def test_panning_camera_keeps_motion_gating_running():
    bg = background(2)
    frames = [frame(bg, pan=4 * i, faces=((60, 50),)) for i in range(8)]
    decisions = run(frames, policy="motion-gated", max_reuse=30)
    assert sum(d.ran_model for d in decisions) >= 6  # the view changes: results must not go stale
    assert all(abs(d.faces[0].box[0] - 60) <= 1 for d in decisions)


def panned(bg: np.ndarray, pan: int, face_x: int) -> np.ndarray:
    """The background seen from `pan` with a square painted on the scene at scene x = face_x (it moves with it)."""
    return frame(bg, pan=pan, faces=((face_x - pan, 50),))


def test_tracking_compensates_a_panning_camera():
    bg = background(2)
    frames = [panned(bg, 5 * i, 100) for i in range(10)]  # a cell (5 px, 4 samples) a frame
    decisions = run(frames, max_reuse=30)
    assert [(d.index, d.reason) for d in decisions if d.ran_model] == [(0, "first"), (3, "edge"), (6, "edge"), (9, "edge")]
    assert [d.motion for d in decisions[:3]] == [(0, 0), (-4, 0), (-8, 0)]  # samples since the last run, leftwards
    for d in decisions:  # the boxes follow the scene between runs (without compensation every frame would run)
        assert d.faces[0].box[0] == 100 - 5 * d.index
    assert {d.track_ids for d in decisions} == {(1,)}


def test_face_entering_at_the_border_runs_the_model():
    bg = background(7)
    frames = [frame(bg, faces=((40, 40),))] * 4 + [frame(bg, faces=((40, 40), (-14, 60)))] * 3
    decisions = run(frames, max_reuse=30)
    assert decisions[4].ran_model and decisions[4].reason == "edge"
    assert decisions[4].track_ids == (1, 2) and not decisions[5].ran_model


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


def test_weak_faces_are_checked_again_sooner():
    frames = [frame(background(0), faces=((40, 40),))] * 12
    weak = run(frames, detect=lambda image: find_squares(image, 0.52), max_reuse=30)
    clear = run(frames, detect=lambda image: find_squares(image, 0.9), max_reuse=30)
    # 520 - 10 * age < 500 from the third reused frame: the weak face is re-detected every 3 frames
    assert [d.index for d in weak if d.ran_model] == [0, 3, 6, 9]
    assert {d.reason for d in weak[1:] if d.ran_model} == {"low-confidence"}
    assert [d.index for d in clear if d.ran_model] == [0]


def test_a_lost_face_is_looked_for_again_and_keeps_its_id():
    bg = background(8)
    frames = [frame(bg, faces=((40, 40),))] * 10
    answers = iter([True, False, True] + [True] * 10)  # the model misses the face once (a flicker)
    decisions = run(frames, detect=lambda image: find_squares(image) if next(answers) else [], max_reuse=2)
    assert [(d.index, d.reason) for d in decisions if d.ran_model][:3] == [(0, "first"), (3, "max-reuse"), (4, "recheck")]
    assert decisions[3].faces == () and decisions[3].track_ids == ()  # hidden while lost
    assert decisions[4].track_ids == (1,)


def test_a_small_change_with_no_face_in_view_runs_the_model():
    bg = background(9)
    empty, lit = frame(bg), frame(bg).copy()
    lit[50:70, 60:90] = np.minimum(lit[50:70, 60:90].astype(int) + 30, 254).astype(np.uint8)  # a small, faint change
    decisions = run([empty] * 3 + [lit] * 2, max_reuse=30)
    assert [(d.index, d.reason) for d in decisions if d.ran_model] == [(0, "first"), (3, "scene-change")]


def test_every_frame_computes_nothing_but_the_model(monkeypatch):
    monkeypatch.setattr("exporter.reuse.luma_samples", lambda *_: pytest.fail("every-frame computed a thumbnail"))
    decisions = run([frame(background(0), faces=((40, 40),))] * 3, policy="every-frame")
    assert [d.reason for d in decisions] == ["first", "every-frame", "every-frame"]


def test_best_shift_finds_the_motion():
    rng = np.random.default_rng(0)
    previous = rng.integers(0, 4000000, (16, 16))
    current = np.roll(previous, (1, -2), axis=(0, 1))  # down 1, left 2
    assert best_shift(previous, current, (5, 5, 10, 10), 2) == (-2, 1, 0)
    assert best_shift(previous, current, (5, 5, 10, 10), 1, centre=(-1, 0)) == (-2, 1, 0)  # searched around the centre


def test_global_shift_finds_the_camera_motion():
    rng = np.random.default_rng(1)
    reference = rng.integers(0, 255000 * 128, (2, 128)).astype(np.int32)
    current = np.stack([np.roll(reference[0], 5), np.roll(reference[1], -3)])  # right 5, up 3 (wrapped ends)
    assert global_shift(current, reference, 12) == (5, -3)
    assert global_shift(reference, reference, 12) == (0, 0)


@pytest.mark.parametrize(("dx", "dy"), [(0, 0), (3, -5), (-7, 2), (4, -4), (130, 0)])
def test_shifted_cells_are_the_moved_samples_summed(dx, dy):
    luma = np.random.default_rng(2).integers(0, 255001, (128, 128)).astype(np.float32)
    cells, compared = shifted_cells(integral(luma), dx, dy)
    moved, inside = np.zeros_like(luma), np.zeros(luma.shape, bool)
    if abs(dx) < 128 and abs(dy) < 128:
        moved[max(dy, 0):128 + min(dy, 0), max(dx, 0):128 + min(dx, 0)] = luma[max(-dy, 0):128 - max(dy, 0),
                                                                                  max(-dx, 0):128 - max(dx, 0)]
        inside[max(dy, 0):128 + min(dy, 0), max(dx, 0):128 + min(dx, 0)] = True
    np.testing.assert_array_equal(compared, inside.reshape(32, 4, 32, 4).all(axis=(1, 3)))
    np.testing.assert_array_equal(cells[compared], cell_sums(moved)[compared])


def test_unknown_policy_lists_the_valid_ones():
    with pytest.raises(ValueError, match="motion-gated"):
        ReuseConfig(policy="sometimes")
