"""Tests for exporter.postprocess: the NumPy decoding reference the Java and Swift ports follow.

Expected values are computed by hand or with plain-Python formulas (math, float64) rather than
by calling back into the code under test wherever that is practical.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exporter.postprocess import (
    FRONT_ANCHORS,
    FULL_RANGE_ANCHORS,
    NUM_KEYPOINTS,
    NUM_REGRESSORS,
    DecodeConfig,
    Face,
    anchor_scales,
    decode_faces,
    decode_regressors,
    encode_targets,
    generate_anchors,
    iou_one_to_many,
    sigmoid,
    weighted_nms_clusters,
)
from exporter.preprocess import Letterbox

SETTINGS = settings(max_examples=75, deadline=None)

FRONT = generate_anchors(FRONT_ANCHORS)
FULL = generate_anchors(FULL_RANGE_ANCHORS)


def py_sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def py_iou(a, b) -> float:
    """Plain-Python IoU of two [xmin, ymin, xmax, ymax] boxes (0 for an empty union)."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    area_a = max(0.0, a[2] - a[0]) * max(0.0, a[3] - a[1])
    area_b = max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])
    union = area_a + area_b - inter
    return inter / union if union > 0 else 0.0


# --------------------------------------------------------------------------------------------
# Anchors
# --------------------------------------------------------------------------------------------


def test_constants():
    assert NUM_KEYPOINTS == 6
    assert NUM_REGRESSORS == 16


def test_front_anchor_count_and_shape():
    assert FRONT.shape == (896, 4)
    assert 16 * 16 * 2 + 8 * 8 * 6 == 896


def test_front_anchors_fixed_size_and_centres_inside_unit_square():
    np.testing.assert_array_equal(FRONT[:, 2:], 1.0)
    assert np.all(FRONT[:, :2] > 0) and np.all(FRONT[:, :2] < 1)


def test_front_anchor_specific_centres():
    np.testing.assert_allclose(FRONT[0, :2], [1 / 32, 1 / 32], atol=1e-7)
    np.testing.assert_allclose(FRONT[1, :2], [1 / 32, 1 / 32], atol=1e-7)  # second scale, same cell
    np.testing.assert_allclose(FRONT[2, :2], [3 / 32, 1 / 32], atol=1e-7)  # next x first
    np.testing.assert_allclose(FRONT[32, :2], [1 / 32, 3 / 32], atol=1e-7)  # then next row
    np.testing.assert_allclose(FRONT[511, :2], [31 / 32, 31 / 32], atol=1e-7)
    np.testing.assert_allclose(FRONT[512, :2], [1 / 16, 1 / 16], atol=1e-7)
    np.testing.assert_allclose(FRONT[517, :2], [1 / 16, 1 / 16], atol=1e-7)
    np.testing.assert_allclose(FRONT[518, :2], [3 / 16, 1 / 16], atol=1e-7)
    np.testing.assert_allclose(FRONT[512 + 8 * 6, :2], [1 / 16, 3 / 16], atol=1e-7)
    np.testing.assert_allclose(FRONT[895, :2], [15 / 16, 15 / 16], atol=1e-7)


def test_front_anchor_order_is_row_major_cells_then_scales():
    expected = []
    for cells, per_cell in ((16, 2), (8, 6)):
        for y in range(cells):
            for x in range(cells):
                expected += [((x + 0.5) / cells, (y + 0.5) / cells)] * per_cell
    np.testing.assert_allclose(FRONT[:, :2], np.array(expected), atol=1e-7)


def test_front_anchor_scales_nominal_values():
    scales = anchor_scales(FRONT_ANCHORS)
    assert scales.shape == (896,)
    lo, hi, n = 0.1484375, 0.75, 4
    s = [lo + (hi - lo) * i / (n - 1) for i in range(n)]
    assert s[1] == pytest.approx(0.3489583333, abs=1e-9)
    first = [s[0], math.sqrt(s[0] * s[1])]
    second = [s[1], math.sqrt(s[1] * s[2]), s[2], math.sqrt(s[2] * s[3]), s[3], math.sqrt(s[3] * 1.0)]
    np.testing.assert_allclose(scales[0:2], first, rtol=1e-6)
    np.testing.assert_allclose(scales[2:4], first, rtol=1e-6)
    np.testing.assert_allclose(scales[510:512], first, rtol=1e-6)
    np.testing.assert_allclose(scales[512:518], second, rtol=1e-6)
    np.testing.assert_allclose(scales[890:896], second, rtol=1e-6)
    assert scales[0] == pytest.approx(0.1484375, abs=1e-9)
    assert scales[1] == pytest.approx(math.sqrt(0.1484375 * 0.3489583333333333), rel=1e-6)
    assert scales[-1] == pytest.approx(math.sqrt(0.75 * 1.0), rel=1e-6)
    np.testing.assert_allclose(scales[:512], np.tile(first, 256), rtol=1e-6)
    np.testing.assert_allclose(scales[512:], np.tile(second, 64), rtol=1e-6)


def test_full_range_anchors():
    assert FULL.shape == (48 * 48, 4)
    np.testing.assert_array_equal(FULL[:, 2:], 1.0)
    np.testing.assert_allclose(FULL[0, :2], [0.5 / 48, 0.5 / 48], atol=1e-7)
    np.testing.assert_allclose(FULL[1, :2], [1.5 / 48, 0.5 / 48], atol=1e-7)
    np.testing.assert_allclose(FULL[48, :2], [0.5 / 48, 1.5 / 48], atol=1e-7)
    np.testing.assert_allclose(FULL[-1, :2], [47.5 / 48, 47.5 / 48], atol=1e-7)
    scales = anchor_scales(FULL_RANGE_ANCHORS)
    assert scales.shape == (2304,)
    # A single stride layer uses the midpoint of min and max scale; no interpolated anchors.
    np.testing.assert_allclose(scales, (0.1484375 + 0.75) / 2, rtol=1e-6)


def test_anchor_dtypes():
    assert FRONT.dtype == np.float32
    assert anchor_scales().dtype == np.float32


# --------------------------------------------------------------------------------------------
# Box / keypoint decoding
# --------------------------------------------------------------------------------------------


def test_decode_regressors_by_hand():
    anchors = np.array([[0.25, 0.5, 1.0, 1.0]], np.float32)
    raw = np.zeros((1, 16), np.float32)
    raw[0, :4] = [12.8, -6.4, 25.6, 51.2]  # dx, dy, w, h in pixels of a 128 input
    raw[0, 4:] = np.arange(1, 13) * 1.28  # keypoints (x0, y0, x1, y1, ...)
    out = decode_regressors(raw, anchors, 128)
    assert out.shape == (1, 16)
    cx, cy, w, h = 0.25 + 0.1, 0.5 - 0.05, 0.2, 0.4
    np.testing.assert_allclose(out[0, :4], [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], atol=1e-6)
    kp = [(0.25 + 0.01 * (2 * k + 1), 0.5 + 0.01 * (2 * k + 2)) for k in range(6)]
    np.testing.assert_allclose(out[0, 4:], np.array(kp).reshape(-1), atol=1e-6)


def test_decode_regressors_scales_with_anchor_size():
    anchors = np.array([[0.5, 0.5, 2.0, 0.5]], np.float32)
    raw = np.zeros((1, 16), np.float32)
    raw[0, :4] = [10.0, 10.0, 20.0, 20.0]
    raw[0, 4:6] = [10.0, 10.0]
    out = decode_regressors(raw, anchors, 100)
    cx, cy, w, h = 0.5 + 0.2, 0.5 + 0.05, 0.4, 0.1
    np.testing.assert_allclose(out[0, :4], [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], atol=1e-6)
    np.testing.assert_allclose(out[0, 4:6], [0.7, 0.55], atol=1e-6)


finite = dict(allow_nan=False, allow_infinity=False)


def draw_anchors(draw, n: int) -> np.ndarray:
    """n anchors (cx, cy, w, h): centres in the unit square, sizes 0.5-2."""
    centres = [[draw(st.floats(0.0, 1.0, **finite)) for _ in range(2)] for _ in range(n)]
    sizes = [[draw(st.floats(0.5, 2.0, **finite)) for _ in range(2)] for _ in range(n)]
    return np.array([c + z for c, z in zip(centres, sizes)], np.float32)


@st.composite
def anchors_and_raw(draw):
    n = draw(st.integers(1, 8))
    anchors = draw_anchors(draw, n)
    raw = np.array(
        [[draw(st.floats(-64.0, 64.0, **finite)) for _ in range(16)] for _ in range(n)], np.float32
    )
    raw[:, 2:4] = np.abs(raw[:, 2:4])
    size = draw(st.sampled_from([128, 192]))
    return anchors, raw, size


@SETTINGS
@given(anchors_and_raw())
def test_encode_decode_round_trip_from_raw(case):
    anchors, raw, size = case
    back = encode_targets(decode_regressors(raw, anchors, size), anchors, size)
    assert back.shape == raw.shape
    np.testing.assert_allclose(back, raw, atol=1e-4, rtol=0)


@st.composite
def anchors_and_decoded(draw):
    n = draw(st.integers(1, 8))
    anchors = draw_anchors(draw, n)
    rows = []
    for _ in range(n):
        x0, x1 = sorted(draw(st.floats(-0.2, 1.2, **finite)) for _ in range(2))
        y0, y1 = sorted(draw(st.floats(-0.2, 1.2, **finite)) for _ in range(2))
        kps = [draw(st.floats(-0.2, 1.2, **finite)) for _ in range(12)]
        rows.append([x0, y0, x1, y1, *kps])
    size = draw(st.sampled_from([128, 192]))
    return anchors, np.array(rows, np.float32), size


@SETTINGS
@given(anchors_and_decoded())
def test_decode_encode_round_trip_from_decoded(case):
    anchors, decoded, size = case
    back = decode_regressors(encode_targets(decoded, anchors, size), anchors, size)
    assert back.shape == decoded.shape
    np.testing.assert_allclose(back, decoded, atol=1e-4, rtol=0)


@SETTINGS
@given(
    index=st.integers(0, 895),
    w=st.floats(0.0, 128.0, **finite),
    h=st.floats(0.0, 128.0, **finite),
    dx=st.floats(-64.0, 64.0, **finite),
    dy=st.floats(-64.0, 64.0, **finite),
)
def test_decoded_box_size_is_raw_size_over_input(index, w, h, dx, dy):
    raw = np.zeros((1, 16), np.float32)
    raw[0, :4] = [dx, dy, w, h]
    out = decode_regressors(raw, FRONT[index : index + 1], 128)
    assert out[0, 2] - out[0, 0] == pytest.approx(w / 128, abs=1e-5)
    assert out[0, 3] - out[0, 1] == pytest.approx(h / 128, abs=1e-5)
    # Box centre is the anchor centre shifted by dx/dy pixels.
    assert (out[0, 0] + out[0, 2]) / 2 == pytest.approx(FRONT[index, 0] + dx / 128, abs=1e-5)
    assert (out[0, 1] + out[0, 3]) / 2 == pytest.approx(FRONT[index, 1] + dy / 128, abs=1e-5)


# --------------------------------------------------------------------------------------------
# Sigmoid
# --------------------------------------------------------------------------------------------


@SETTINGS
@given(st.lists(st.floats(-1e6, 1e6, **finite), min_size=1, max_size=50))
def test_sigmoid_range_and_monotonic(xs):
    x = np.sort(np.array(xs, np.float32))
    y = sigmoid(x)
    assert y.shape == x.shape
    assert np.all(y >= 0) and np.all(y <= 1)
    assert np.all(np.diff(y) >= 0)
    for xi, yi in zip(x, y):
        assert float(yi) == pytest.approx(py_sigmoid(max(min(float(xi), 100.0), -100.0)), abs=1e-6)


def test_sigmoid_known_values():
    np.testing.assert_allclose(sigmoid(np.array([0.0, 2.0, -2.0])), [0.5, py_sigmoid(2), py_sigmoid(-2)], rtol=1e-6)


def test_sigmoid_extremes_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = sigmoid(np.array([1e6, -1e6, 100.0, -100.0, 89.0, -89.0], np.float32))
    np.testing.assert_allclose(y, [1, 0, 1, 0, 1, 0], atol=1e-30)


# --------------------------------------------------------------------------------------------
# IoU
# --------------------------------------------------------------------------------------------


def test_iou_by_hand():
    a = np.array([0.0, 0.0, 2.0, 2.0])
    boxes = np.array([[1.0, 1.0, 3.0, 3.0], [0.0, 0.0, 2.0, 2.0], [2.0, 0.0, 4.0, 2.0], [0.0, 0.0, 1.0, 2.0]])
    np.testing.assert_allclose(iou_one_to_many(a, boxes), [1 / 7, 1.0, 0.0, 0.5], rtol=1e-6)


@st.composite
def box(draw, allow_degenerate=True):
    lo = 0.0 if allow_degenerate else 0.01
    x0 = draw(st.floats(0.0, 1.0, **finite))
    y0 = draw(st.floats(0.0, 1.0, **finite))
    w = draw(st.floats(lo, 0.6, **finite))
    h = draw(st.floats(lo, 0.6, **finite))
    return np.array([x0, y0, x0 + w, y0 + h], np.float64)


@SETTINGS
@given(box(), st.lists(box(), min_size=1, max_size=10))
def test_iou_symmetric_bounded_and_matches_reference(a, others):
    boxes = np.stack(others)
    forward = iou_one_to_many(a, boxes)
    assert forward.shape == (len(others),)
    assert not np.any(np.isnan(forward))
    assert np.all(forward >= 0) and np.all(forward <= 1 + 1e-6)
    for b, f in zip(others, forward):
        backward = iou_one_to_many(b, a[None])[0]
        assert f == pytest.approx(backward, abs=1e-6)
        assert f == pytest.approx(py_iou(a, b), abs=1e-5)


@SETTINGS
@given(box(allow_degenerate=False))
def test_iou_identical_positive_area_is_one(a):
    assert iou_one_to_many(a, a[None])[0] == pytest.approx(1.0, abs=1e-6)


def test_iou_zero_area_is_zero_not_nan():
    point = np.array([0.5, 0.5, 0.5, 0.5])
    line = np.array([0.2, 0.5, 0.8, 0.5])
    normal = np.array([0.0, 0.0, 1.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = iou_one_to_many(point, np.stack([point, line, normal]))
        out2 = iou_one_to_many(line, np.stack([line, point]))
        out3 = iou_one_to_many(normal, point[None])
    np.testing.assert_array_equal(out, [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(out2, [0.0, 0.0])
    np.testing.assert_array_equal(out3, [0.0])


# --------------------------------------------------------------------------------------------
# Weighted NMS clustering
# --------------------------------------------------------------------------------------------


@st.composite
def detections(draw, max_n=25):
    n = draw(st.integers(1, max_n))
    # Coarse grid so that overlaps (and therefore non-trivial clusters) are common.
    coord = st.integers(0, 10).map(lambda v: v / 10)
    size = st.integers(1, 5).map(lambda v: v / 10)
    boxes = []
    for _ in range(n):
        x0, y0 = draw(coord), draw(coord)
        boxes.append([x0, y0, x0 + draw(size), y0 + draw(size)])
    # Distinct scores (exactly representable differences in float32) so the order is total.
    scores = draw(st.lists(st.integers(0, 1000), min_size=n, max_size=n, unique=True))
    threshold = draw(st.sampled_from([0.0, 0.1, 0.3, 0.5, 0.7, 0.95]))
    return np.array(boxes, np.float32), np.array(scores, np.float32) / 1000, threshold


@SETTINGS
@given(detections())
def test_nms_clusters_properties(case):
    boxes, scores, thr = case
    clusters = weighted_nms_clusters(boxes, scores, thr)
    flat = [int(i) for c in clusters for i in c]
    # Partition: every index exactly once.
    assert sorted(flat) == list(range(len(boxes)))
    assert all(len(c) >= 1 for c in clusters)
    tops = [int(c[0]) for c in clusters]
    for c in clusters:
        top = int(c[0])
        # Top has the highest score of its cluster.
        assert scores[top] == max(scores[int(i)] for i in c)
        # Every other member overlaps the top above the threshold.
        for i in c[1:]:
            assert py_iou(boxes[top].astype(float), boxes[int(i)].astype(float)) > thr - 1e-6
    # Tops in descending score order.
    top_scores = [float(scores[t]) for t in tops]
    assert top_scores == sorted(top_scores, reverse=True)
    # Tops do not overlap each other above the threshold.
    for a in range(len(tops)):
        for b in range(a + 1, len(tops)):
            assert py_iou(boxes[tops[a]].astype(float), boxes[tops[b]].astype(float)) <= thr + 1e-6
    # The top of the first cluster is the global best.
    assert tops[0] == int(np.argmax(scores))


@SETTINGS
@given(detections())
def test_nms_clusters_are_greedy_maximal(case):
    """A detection joins the first (highest) cluster whose top it overlaps above the threshold."""
    boxes, scores, thr = case
    clusters = weighted_nms_clusters(boxes, scores, thr)
    for k, c in enumerate(clusters):
        for i in c[1:]:
            for earlier in clusters[:k]:
                iou = py_iou(boxes[int(earlier[0])].astype(float), boxes[int(i)].astype(float))
                assert iou <= thr + 1e-6


@SETTINGS
@given(detections(), st.data())
def test_nms_deterministic_and_permutation_invariant(case, data):
    boxes, scores, thr = case
    first = [list(map(int, c)) for c in weighted_nms_clusters(boxes, scores, thr)]
    again = [list(map(int, c)) for c in weighted_nms_clusters(boxes, scores, thr)]
    assert first == again
    perm = np.array(data.draw(st.permutations(range(len(boxes)))))
    permuted = weighted_nms_clusters(boxes[perm], scores[perm], thr)
    mapped = [[int(perm[i]) for i in c] for c in permuted]
    assert mapped == first
    # Also compare as sets of original boxes (independent of index bookkeeping).
    as_boxes = lambda bs, cs: sorted(sorted(tuple(bs[int(i)].tolist()) for i in c) for c in cs)  # noqa: E731
    assert as_boxes(boxes[perm], permuted) == as_boxes(boxes, first)


def test_nms_single_box():
    clusters = weighted_nms_clusters(np.array([[0.1, 0.1, 0.3, 0.3]], np.float32), np.array([0.9]), 0.3)
    assert len(clusters) == 1
    assert list(clusters[0]) == [0]


def test_nms_by_hand():
    boxes = np.array(
        [
            [0.0, 0.0, 0.2, 0.2],  # 0: overlaps 1 strongly
            [0.0, 0.0, 0.2, 0.22],  # 1
            [0.5, 0.5, 0.7, 0.7],  # 2: alone
            [0.1, 0.0, 0.3, 0.2],  # 3: IoU 1/3 with 0
        ],
        np.float32,
    )
    scores = np.array([0.8, 0.9, 0.95, 0.7], np.float32)
    clusters = [list(map(int, c)) for c in weighted_nms_clusters(boxes, scores, 0.3)]
    # 3 vs top 1: inter 0.1*0.2=0.02, union 0.044+0.04-0.02=0.064 -> 0.3125 > 0.3
    assert clusters == [[2], [1, 0, 3]]
    clusters = [list(map(int, c)) for c in weighted_nms_clusters(boxes, scores, 0.32)]
    assert clusters == [[2], [1, 0], [3]]


def test_nms_iou_equal_to_threshold_is_not_merged():
    # IoU of these two boxes is exactly 0.5 (inter 0.5, union 1.0, all exact in binary).
    boxes = np.array([[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 0.5, 1.0]], np.float32)
    scores = np.array([0.9, 0.8], np.float32)
    assert iou_one_to_many(boxes[0], boxes[1:])[0] == 0.5
    assert [list(map(int, c)) for c in weighted_nms_clusters(boxes, scores, 0.5)] == [[0], [1]]
    assert [list(map(int, c)) for c in weighted_nms_clusters(boxes, scores, 0.4999)] == [[0, 1]]


def test_nms_many_ties_are_ordered_by_index():
    # 8x8 grid of disjoint boxes, scores from only three values: every box is its own cluster
    # and clusters come in (descending score, ascending index) order.
    boxes = np.array([[x / 8, y / 8, x / 8 + 0.1, y / 8 + 0.1] for y in range(8) for x in range(8)], np.float32)
    scores = np.array([(0.6, 0.9, 0.7)[(i * 7) % 3] for i in range(64)], np.float32)
    clusters = weighted_nms_clusters(boxes, scores, 0.3)
    assert all(len(c) == 1 for c in clusters)
    expected = sorted(range(64), key=lambda i: (-scores[i], i))
    assert [int(c[0]) for c in clusters] == expected


def test_nms_ties_keep_lower_index_first():
    boxes = np.array([[0.0, 0.0, 0.2, 0.2], [0.0, 0.0, 0.2, 0.2]], np.float32)
    clusters = weighted_nms_clusters(boxes, np.array([0.9, 0.9]), 0.3)
    assert [list(map(int, c)) for c in clusters] == [[0, 1]]


# --------------------------------------------------------------------------------------------
# decode_faces
# --------------------------------------------------------------------------------------------

BACKGROUND = -10.0  # sigmoid(-10) ~ 4.5e-5


def empty_outputs(anchors=FRONT):
    n = len(anchors)
    return (
        np.zeros((n, 16), np.float32),
        np.full(n, BACKGROUND, np.float32),
        np.zeros(n, np.float32),
        np.zeros(n, np.float32),
    )


def test_decode_faces_nothing_above_threshold():
    reg, logits, age, gender = empty_outputs()
    logits[:] = np.linspace(-30.0, -0.01, len(logits))  # sigmoid(-0.01) < 0.5
    assert decode_faces(reg, logits, FRONT, 128, age_raw=age, gender_logits=gender) == []
    assert decode_faces(reg, logits, FRONT, 128) == []


def test_decode_faces_threshold_is_inclusive():
    reg, logits, _, _ = empty_outputs()
    reg[100, 2:4] = 20.0
    logits[100] = 0.0  # sigmoid(0) == 0.5 exactly == threshold
    faces = decode_faces(reg, logits, FRONT, 128)
    assert len(faces) == 1
    assert faces[0].score == 0.5


def test_decode_faces_iou_equal_to_threshold_keeps_two_faces():
    reg, logits, _, _ = empty_outputs()
    # Anchors 0 and 1 share the centre (1/32, 1/32). Boxes 32x32 px and 16x32 px, both centred
    # there: IoU = 0.5 exactly, so with iou_threshold=0.5 they are not blended.
    reg[0, :4] = [0.0, 0.0, 32.0, 32.0]
    reg[1, :4] = [0.0, 0.0, 16.0, 32.0]
    logits[0], logits[1] = 2.0, 1.0
    faces = decode_faces(reg, logits, FRONT, 128, DecodeConfig(iou_threshold=0.5))
    assert len(faces) == 2
    faces = decode_faces(reg, logits, FRONT, 128, DecodeConfig(iou_threshold=0.49))
    assert len(faces) == 1


def test_decode_faces_single_anchor():
    reg, logits, age, gender = empty_outputs()
    i = 600  # in the 8x8 group: cell (x=(600-512)//6 % 8, y=...)
    cell = (i - 512) // 6
    ax, ay = (cell % 8 + 0.5) / 8, (cell // 8 + 0.5) / 8
    reg[i, :4] = [6.4, -3.2, 32.0, 38.4]
    reg[i, 4:] = np.arange(12, dtype=np.float32) - 6
    logits[i] = 1.7
    age[i] = 0.31
    gender[i] = -0.4
    cfg = DecodeConfig(age_scale=80.0)
    faces = decode_faces(reg, logits, FRONT, 128, cfg, age_raw=age, gender_logits=gender)
    assert len(faces) == 1
    f = faces[0]
    cx, cy, w, h = ax + 0.05, ay - 0.025, 0.25, 0.3
    np.testing.assert_allclose(f.box, [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], atol=1e-6)
    kp = (np.arange(12) - 6).reshape(6, 2) / 128 + [ax, ay]
    assert f.keypoints.shape == (6, 2)
    np.testing.assert_allclose(f.keypoints, kp, atol=1e-6)
    assert f.score == pytest.approx(py_sigmoid(1.7), abs=1e-6)
    assert f.age == pytest.approx(80.0 * 0.31, abs=1e-4)
    assert f.female == pytest.approx(py_sigmoid(-0.4), abs=1e-6)


def test_decode_faces_without_age_or_gender():
    reg, logits, _, _ = empty_outputs()
    reg[5, 2:4] = 16.0
    logits[5] = 3.0
    faces = decode_faces(reg, logits, FRONT, 128)
    assert len(faces) == 1
    assert faces[0].age is None and faces[0].female is None
    assert "age" not in faces[0].to_dict() and "female" not in faces[0].to_dict()


def test_decode_faces_blends_two_anchors_of_the_same_box():
    reg, logits, age, gender = empty_outputs()
    # Target box centred at (0.1, 0.1), side 0.2, i.e. 25.6 px of a 128 input.
    # Anchor 0 centre (1/32, 1/32) -> dx = dy = (0.1 - 1/32) * 128 = 8.8
    # Anchor 2 centre (3/32, 1/32) -> dx = (0.1 - 3/32) * 128 = 0.8, dy = 8.8
    reg[0, :4] = [8.8, 8.8, 25.6, 25.6]
    reg[2, :4] = [0.8, 8.8, 25.6, 25.6]
    # Keypoint 0 at (0.1, 0.1) for both too.
    reg[0, 4:6] = [8.8, 8.8]
    reg[2, 4:6] = [0.8, 8.8]
    logits[0], logits[2] = 2.0, 0.5
    age[0], age[2] = 0.20, 0.50
    gender[0], gender[2] = 3.0, -1.0
    faces = decode_faces(reg, logits, FRONT, 128, age_raw=age, gender_logits=gender)
    assert len(faces) == 1
    f = faces[0]
    np.testing.assert_allclose(f.box, [0.0, 0.0, 0.2, 0.2], atol=1e-5)
    np.testing.assert_allclose(f.keypoints[0], [0.1, 0.1], atol=1e-5)
    s0, s2 = py_sigmoid(2.0), py_sigmoid(0.5)
    assert f.score == pytest.approx(s0, abs=1e-6)  # the top score, not a mean
    expected_age = 100.0 * (s0 * 0.20 + s2 * 0.50) / (s0 + s2)
    assert f.age == pytest.approx(expected_age, abs=1e-4)
    assert f.age != pytest.approx(35.0, abs=0.5)  # not the unweighted mean
    expected_female = (s0 * py_sigmoid(3.0) + s2 * py_sigmoid(-1.0)) / (s0 + s2)
    assert f.female == pytest.approx(expected_female, abs=1e-6)


def test_blended_p_female_never_exceeds_one():
    """Six score logits whose float32 weights sum past 1 (found by hypothesis): P(female) 1 blends to 1, not above."""
    reg, logits, age, gender = empty_outputs()
    cell = list(range(512, 518))  # the 8x8 map's first cell: six anchors with the same centre, so one cluster
    reg[cell, 2:4] = 40.0
    logits[cell] = [3.8546833992004395, 0.6020992994308472, 1.9288495779037476, 3.5788633823394775,
                    1.6908676624298096, 2.3580081462860107]
    gender[cell] = 50.0  # sigmoid is exactly 1 in float32
    faces = decode_faces(reg, logits, FRONT, 128, age_raw=age, gender_logits=gender)
    assert len(faces) == 1 and faces[0].female == 1.0


def test_decode_faces_blends_box_coordinates_by_score():
    reg, logits, _, _ = empty_outputs()
    # Two boxes on anchor 0 (centre 1/32): widths 25.6 and 28.8 px, same centre -> IoU 0.79.
    reg[0, :4] = [0.0, 0.0, 25.6, 25.6]
    reg[1, :4] = [0.0, 0.0, 28.8, 28.8]
    logits[0], logits[1] = 1.0, 2.0
    faces = decode_faces(reg, logits, FRONT, 128)
    assert len(faces) == 1
    s0, s1 = py_sigmoid(1.0), py_sigmoid(2.0)
    side = (s0 * 0.2 + s1 * 0.225) / (s0 + s1)
    c = 1 / 32
    np.testing.assert_allclose(faces[0].box, [c - side / 2, c - side / 2, c + side / 2, c + side / 2], atol=1e-6)
    assert faces[0].score == pytest.approx(s1, abs=1e-6)


def test_decode_faces_far_apart_kept_separate_and_sorted():
    reg, logits, age, _ = empty_outputs()
    for i, logit, a in ((10, 1.0, 0.1), (300, 4.0, 0.2), (800, 2.5, 0.3)):
        reg[i, 2:4] = 12.8  # 0.1-wide boxes at anchor centres far apart
        logits[i] = logit
        age[i] = a
    faces = decode_faces(reg, logits, FRONT, 128, age_raw=age)
    assert len(faces) == 3
    assert [f.score for f in faces] == pytest.approx([py_sigmoid(4.0), py_sigmoid(2.5), py_sigmoid(1.0)], abs=1e-6)
    assert [f.age for f in faces] == pytest.approx([20.0, 30.0, 10.0], abs=1e-4)
    for f, i in zip(faces, (300, 800, 10)):
        np.testing.assert_allclose((f.box[:2] + f.box[2:]) / 2, FRONT[i, :2], atol=1e-6)


def test_decode_faces_full_range_anchors():
    reg, logits, _, _ = empty_outputs(FULL)
    i = 48 * 10 + 20
    reg[i, :4] = [19.2, 0.0, 38.4, 19.2]
    logits[i] = 5.0
    faces = decode_faces(reg, logits, FULL, 192)
    assert len(faces) == 1
    cx, cy = 20.5 / 48 + 0.1, 10.5 / 48
    np.testing.assert_allclose(faces[0].box, [cx - 0.1, cy - 0.05, cx + 0.1, cy + 0.05], atol=1e-6)


def test_decode_faces_accepts_batched_shapes():
    reg, logits, age, gender = empty_outputs()
    reg[7, 2:4] = 20.0
    logits[7] = 2.0
    a = decode_faces(reg, logits, FRONT, 128, age_raw=age, gender_logits=gender)
    b = decode_faces(reg[None], logits[None, :, None], FRONT, 128, age_raw=age[None, :, None], gender_logits=gender[None])
    assert len(a) == len(b) == 1
    np.testing.assert_array_equal(a[0].box, b[0].box)
    assert a[0].score == b[0].score and a[0].age == b[0].age and a[0].female == b[0].female


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.sampled_from([0.3, 0.5, 0.8]), st.sampled_from([0.1, 0.3, 0.6]))
def test_decode_faces_random_outputs(seed, score_threshold, iou_threshold):
    rng = np.random.default_rng(seed)
    n = len(FRONT)
    reg = np.zeros((n, 16), np.float32)
    reg[:, :2] = rng.uniform(-8, 8, (n, 2))
    reg[:, 2:4] = rng.uniform(4, 40, (n, 2))
    reg[:, 4:] = rng.uniform(-20, 20, (n, 12))
    logits = rng.normal(-3.0, 2.5, n).astype(np.float32)
    age = rng.uniform(0, 1, n).astype(np.float32)
    gender = rng.normal(0, 2, n).astype(np.float32)
    cfg = DecodeConfig(score_threshold=score_threshold, iou_threshold=iou_threshold)
    faces = decode_faces(reg, logits, FRONT, 128, cfg, age_raw=age, gender_logits=gender)
    probs = np.array([py_sigmoid(float(v)) for v in logits])
    n_kept = int(np.sum(probs >= score_threshold))
    assert (len(faces) == 0) == (n_kept == 0)
    assert len(faces) <= n_kept
    scores = [f.score for f in faces]
    assert all(s >= score_threshold for s in scores)
    assert scores == sorted(scores, reverse=True)
    if faces:
        assert scores[0] == pytest.approx(probs.max(), abs=1e-6)
    for f in faces:
        assert f.box.shape == (4,) and f.keypoints.shape == (6, 2)
        assert f.box[0] <= f.box[2] and f.box[1] <= f.box[3]
        assert 0.0 <= f.age <= 100.0 + 1e-3
        assert 0.0 <= f.female <= 1.0
    # Face boxes (blended) are far enough apart: no two tops overlap above the threshold,
    # so at least the blended faces should not be identical.
    for a in range(len(faces)):
        for b in range(a + 1, len(faces)):
            assert not np.allclose(faces[a].box, faces[b].box)


# --------------------------------------------------------------------------------------------
# Face helpers
# --------------------------------------------------------------------------------------------


def test_face_to_dict_json_and_rounding():
    face = Face(
        box=np.array([0.1234567891, 0.2, 0.3, 0.4], np.float64),
        keypoints=np.full((6, 2), 0.98765432, np.float64),
        score=np.float32(0.87654321),
        age=np.float32(23.456789),
        female=0.3333333333,
    )
    d = face.to_dict()
    text = json.dumps(d)
    assert json.loads(text) == d
    assert d["box"] == [0.123457, 0.2, 0.3, 0.4]
    assert d["keypoints"] == [[0.987654, 0.987654]] * 6
    assert d["score"] == pytest.approx(0.876543, abs=1e-12)
    assert d["age"] == pytest.approx(23.4568, abs=1e-12)
    assert d["female"] == 0.333333
    assert set(d) == {"box", "keypoints", "score", "age", "female"}


def test_face_from_dict_inverts_to_dict():
    d = {"box": [1.5, 2.0, 11.5, 12.0], "keypoints": [[float(i), float(i + 1)] for i in range(6)], "score": 0.9,
         "age": 31.25, "female": 0.8}
    face = Face.from_dict(json.loads(json.dumps(d)))
    assert face.box.dtype == np.float32 and face.keypoints.shape == (6, 2) and face.keypoints.dtype == np.float32
    assert face.to_dict() == d
    bare = Face.from_dict({k: d[k] for k in ("box", "keypoints", "score")})
    assert bare.age is None and bare.female is None and "age" not in bare.to_dict()


def test_face_from_decode_to_dict_is_json_serialisable():
    reg, logits, age, gender = empty_outputs()
    reg[50, 2:4] = 20.0
    reg[50, 4:] = 3.0
    logits[50] = 2.0
    age[50] = 0.4
    gender[50] = 0.7
    faces = decode_faces(reg, logits, FRONT, 128, age_raw=age, gender_logits=gender)
    d = faces[0].to_dict()
    json.dumps(d)
    assert all(type(v) is float for v in d["box"])
    assert all(type(v) is float for xy in d["keypoints"] for v in xy)
    assert type(d["score"]) is float and type(d["age"]) is float and type(d["female"]) is float
    assert len(d["keypoints"]) == 6


def test_face_to_image_letterbox():
    lb = Letterbox(width=200, height=100, pad_x=0, pad_y=50, side=200)
    face = Face(
        box=np.array([0.5, 0.5, 0.5, 0.5], np.float32),
        keypoints=np.full((6, 2), 0.5, np.float32),
        score=0.9,
        age=30.0,
        female=0.2,
    )
    out = face.to_image(lb)
    np.testing.assert_allclose(out.box, [100, 50, 100, 50], atol=1e-4)
    np.testing.assert_allclose(out.keypoints, np.tile([100.0, 50.0], (6, 1)), atol=1e-4)
    assert out.score == 0.9 and out.age == 30.0 and out.female == 0.2
    # The original face is untouched.
    np.testing.assert_array_equal(face.box, [0.5, 0.5, 0.5, 0.5])
    np.testing.assert_array_equal(face.keypoints, np.full((6, 2), 0.5))


def test_face_to_image_box_corners():
    lb = Letterbox(width=200, height=100, pad_x=0, pad_y=50, side=200)
    kp = np.array([[0.0, 0.25], [1.0, 0.75], [0.25, 0.5], [0.75, 0.5], [0.5, 0.3], [0.5, 0.7]], np.float32)
    face = Face(box=np.array([0.0, 0.25, 1.0, 0.75], np.float32), keypoints=kp, score=0.7)
    out = face.to_image(lb)
    np.testing.assert_allclose(out.box, [0, 0, 200, 100], atol=1e-4)
    expected_kp = kp * 200 - [0, 50]
    np.testing.assert_allclose(out.keypoints, expected_kp, atol=1e-4)
    assert out.box.shape == (4,) and out.keypoints.shape == (6, 2)
    # pad_x is applied to x only.
    lb2 = Letterbox(width=100, height=200, pad_x=50, pad_y=0, side=200)
    out2 = face.to_image(lb2)
    np.testing.assert_allclose(out2.box, [-50, 50, 150, 150], atol=1e-4)
