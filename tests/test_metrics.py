"""Tests for exporter.metrics: hand-computed cases plus hypothesis properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exporter.metrics import (
    DROPPED,
    FP,
    TP,
    APResult,
    DetectionAccumulator,
    DetectionSet,
    PRCounts,
    age_mae,
    box_iou,
    filter_by_min_size,
    gender_accuracy,
    greedy_match,
    precision_recall_at,
)

A = [0.0, 0.0, 10.0, 10.0]
B = [20.0, 20.0, 30.0, 30.0]
FAR = [50.0, 50.0, 60.0, 60.0]
FAST = settings(max_examples=60, deadline=None)


def _ap(*images: tuple[list, list, list, list | None]) -> APResult:
    """AP@0.5 of images given as (pred_boxes, pred_scores, gt_boxes, gt_ignore)."""
    acc = DetectionAccumulator()
    for pred, scores, gt, ignore in images:
        acc.add(np.array(pred), np.array(scores), np.array(gt), None if ignore is None else np.array(ignore))
    return acc.average_precision(0.5)


# --- box_iou -------------------------------------------------------------------------------------


def test_box_iou_hand_values() -> None:
    a = np.array([[0, 0, 2, 2], [0, 0, 2, 2]], dtype=float)
    b = np.array([[1, 1, 3, 3], [2, 0, 4, 2], [0, 0, 2, 2]], dtype=float)
    expected = np.array([[1 / 7, 0.0, 1.0], [1 / 7, 0.0, 1.0]])
    np.testing.assert_allclose(box_iou(a, b), expected)


def test_box_iou_zero_area_is_zero_not_nan() -> None:
    point = np.array([[1.0, 1.0, 1.0, 1.0]])
    line = np.array([[0.0, 1.0, 2.0, 1.0]])
    out = box_iou(np.vstack([point, line]), np.vstack([point, line, [A]]))
    assert not np.isnan(out).any()
    np.testing.assert_array_equal(out, np.zeros((2, 3)))


def test_box_iou_empty_shapes() -> None:
    assert box_iou(np.zeros((0, 4)), np.array([A])).shape == (0, 1)
    assert box_iou([], []).shape == (0, 0)


def test_box_iou_rejects_bad_shape() -> None:
    with pytest.raises(ValueError):
        box_iou(np.zeros((2, 3)), np.zeros((1, 4)))


coord = st.integers(min_value=0, max_value=12)
box = st.tuples(coord, coord, coord, coord).map(lambda t: [t[0], t[1], t[0] + t[2], t[1] + t[3]])
positive_box = st.tuples(coord, coord, coord.map(lambda v: v + 1), coord.map(lambda v: v + 1)).map(
    lambda t: [t[0], t[1], t[0] + t[2], t[1] + t[3]]
)


@FAST
@given(st.lists(box, max_size=6), st.lists(box, max_size=6))
def test_box_iou_symmetric_and_bounded(a: list, b: list) -> None:
    ab, ba = box_iou(np.array(a), np.array(b)), box_iou(np.array(b), np.array(a))
    assert ab.shape == (len(a), len(b))
    np.testing.assert_array_equal(ab, ba.T)
    assert np.all((ab >= 0) & (ab <= 1))


@FAST
@given(st.lists(positive_box, min_size=1, max_size=6))
def test_box_iou_self_is_one(a: list) -> None:
    np.testing.assert_array_equal(np.diag(box_iou(np.array(a), np.array(a))), np.ones(len(a)))


# --- matching and AP: hand-computed cases ----------------------------------------------------------


def test_perfect_detector_has_ap_one() -> None:
    result = _ap(([A, B], [0.9, 0.8], [A, B], None), ([FAR], [0.7], [FAR], None))
    assert result == APResult(ap=1.0, num_gt=3, num_pred=3, max_recall=1.0)


def test_false_positive_ranked_above_single_true_positive() -> None:
    # ranks: FP (P=0/1), TP (P=1/2, R=1) -> AP = 1 * 0.5
    assert _ap(([FAR, A], [0.9, 0.8], [A], None)).ap == pytest.approx(0.5)


def test_false_positive_above_two_true_positives_uses_interpolated_precision() -> None:
    # ranks: FP, TP (R=.5, P=1/2), TP (R=1, P=2/3); envelope at R=.5 is 2/3 -> AP = 2/3
    result = _ap(([FAR, A, B], [0.9, 0.8, 0.7], [A, B], None))
    assert result.ap == pytest.approx(2 / 3)
    assert result.num_pred == 3 and result.max_recall == 1.0


def test_duplicate_detection_is_a_false_positive() -> None:
    dup = [0.5, 0.0, 10.5, 10.0]  # IoU with A = 9.5 / 10.5
    match = greedy_match(np.array([A, dup, B]), np.array([0.9, 0.8, 0.7]), np.array([A, B]))
    np.testing.assert_array_equal(match.outcome, [TP, FP, TP])
    # ranks: TP (R=.5, P=1), FP (P=1/2), TP (R=1, P=2/3) -> AP = .5 * 1 + .5 * 2/3 = 5/6
    assert _ap(([A, dup, B], [0.9, 0.8, 0.7], [A, B], None)).ap == pytest.approx(5 / 6)


def test_matching_follows_score_order_not_input_order() -> None:
    near = [1.0, 0.0, 11.0, 10.0]
    match = greedy_match(np.array([near, A]), np.array([0.2, 0.9]), np.array([A]))
    np.testing.assert_array_equal(match.outcome, [FP, TP])


def test_below_threshold_overlap_is_false_positive() -> None:
    half = [5.0, 0.0, 15.0, 10.0]  # IoU with A = 50 / 150
    assert _ap(([half], [0.9], [A], None)) == APResult(ap=0.0, num_gt=1, num_pred=1, max_recall=0.0)


def test_ignored_gt_missed_does_not_hurt() -> None:
    expected = APResult(ap=1.0, num_gt=1, num_pred=1, max_recall=1.0)
    assert _ap(([A], [0.9], [A, B], [False, True])) == expected
    assert _ap(([A], [0.9], [A, B], None)).ap == pytest.approx(0.5)  # same, without the ignore flag


def test_ignored_gt_detected_is_not_a_false_positive() -> None:
    with_ignore = _ap(([B, A], [0.95, 0.9], [A, B], [False, True]))
    assert with_ignore == APResult(ap=1.0, num_gt=1, num_pred=1, max_recall=1.0)
    assert _ap(([B, A], [0.95, 0.9], [A], None)).ap == pytest.approx(0.5)  # B is an FP without the GT


def test_ignored_gt_does_not_help() -> None:
    # Detecting only the ignored face earns nothing; the required face is still missed.
    assert _ap(([B], [0.9], [A, B], [False, True])) == APResult(ap=0.0, num_gt=1, num_pred=0, max_recall=0.0)


def test_several_detections_of_an_ignored_gt_are_all_dropped() -> None:
    match = greedy_match(np.array([B, B]), np.array([0.9, 0.8]), np.array([B]), np.array([True]))
    np.testing.assert_array_equal(match.outcome, [DROPPED, DROPPED])
    np.testing.assert_array_equal(match.gt_matched, [False])


def test_unmatched_required_gt_wins_over_better_overlapping_ignored_gt() -> None:
    required = [1.0, 0.0, 11.0, 10.0]  # IoU with A = 9 / 11, with the ignored A itself = 1
    match = greedy_match(np.array([A]), np.array([0.9]), np.array([A, required]), np.array([True, False]))
    np.testing.assert_array_equal(match.outcome, [TP])
    np.testing.assert_array_equal(match.gt_matched, [False, True])


def test_empty_inputs_give_zero_ap() -> None:
    assert DetectionAccumulator().average_precision() == APResult(0.0, num_gt=0, num_pred=0, max_recall=0.0)
    assert _ap(([], [], [], None)) == APResult(ap=0.0, num_gt=0, num_pred=0, max_recall=0.0)
    assert _ap(([], [], [A], None)) == APResult(ap=0.0, num_gt=1, num_pred=0, max_recall=0.0)
    assert _ap(([A], [0.9], [], None)) == APResult(ap=0.0, num_gt=0, num_pred=1, max_recall=0.0)
    assert _ap(([A], [0.9], [A], [True])) == APResult(ap=0.0, num_gt=0, num_pred=0, max_recall=0.0)


def test_accumulator_rejects_mismatched_lengths() -> None:
    acc = DetectionAccumulator()
    with pytest.raises(ValueError):
        acc.add(np.array([A, B]), np.array([0.9]), np.array([A]))
    with pytest.raises(ValueError):
        acc.add(np.array([A]), np.array([0.9]), np.array([A]), np.array([True, False]))


def test_detection_set_rejects_mismatched_images() -> None:
    boxes, scores = np.array([A]), np.array([0.9])
    with pytest.raises(ValueError):
        DetectionSet((boxes,), (scores,), (), ())
    with pytest.raises(ValueError):
        DetectionSet((boxes,), (np.array([0.9, 0.8]),), (boxes,), (np.array([False]),))


# --- AP: properties --------------------------------------------------------------------------------

image = st.tuples(st.lists(box, max_size=5), st.lists(box, max_size=4), st.lists(st.booleans(), max_size=4))


@st.composite
def scenes(draw: st.DrawFn) -> list[tuple[list, np.ndarray, list, list]]:
    """Images of (pred boxes, distinct pred scores, GT boxes, GT ignore flags)."""
    images = draw(st.lists(image, max_size=4))
    ranks = draw(st.permutations(range(sum(len(p) for p, _, _ in images))))
    out, start = [], 0
    for pred, gt, flags in images:
        scores = (np.array(ranks[start : start + len(pred)], dtype=float) + 1) / (len(ranks) + 1)
        start += len(pred)
        out.append((pred, scores, gt, (flags + [False] * len(gt))[: len(gt)]))
    return out


def _ap_of(images: list) -> APResult:
    """AP@0.5 of images from the `scenes` strategy."""
    return _ap(*[(p, s, g, i) for p, s, g, i in images])


@FAST
@given(scenes())
def test_ap_in_unit_interval(images: list) -> None:
    result = _ap_of(images)
    assert 0.0 <= result.ap <= 1.0
    assert 0.0 <= result.max_recall <= 1.0
    assert result.ap <= result.max_recall + 1e-12


@FAST
@given(scenes(), st.data())
def test_adding_top_scored_hit_for_missed_gt_never_lowers_ap(images: list, data: st.DataObject) -> None:
    missed = []
    for k, (pred, scores, gt, ignore) in enumerate(images):
        match = greedy_match(np.array(pred), scores, np.array(gt), np.array(ignore, dtype=bool))
        positive = [g[2] > g[0] and g[3] > g[1] for g in gt]  # a zero-area GT can never be matched
        missed += [(k, j) for j in range(len(gt)) if positive[j] and not (match.gt_matched[j] or ignore[j])]
    if not missed:
        return
    k, j = data.draw(st.sampled_from(missed))
    pred, scores, gt, ignore = images[k]
    improved = list(images)
    improved[k] = (pred + [gt[j]], np.append(scores, 2.0), gt, ignore)
    assert _ap_of(improved).ap >= _ap_of(images).ap - 1e-12
    assert _ap_of(improved).max_recall > _ap_of(images).max_recall


@FAST
@given(scenes(), st.randoms(use_true_random=False))
def test_ap_invariant_to_prediction_order(images: list, rng) -> None:
    shuffled = []
    for pred, scores, gt, ignore in images:
        order = list(range(len(pred)))
        rng.shuffle(order)
        shuffled.append(([pred[i] for i in order], scores[order], gt, ignore))
    rng.shuffle(shuffled)
    before, after = _ap_of(images), _ap_of(shuffled)
    assert after.ap == pytest.approx(before.ap)
    assert (after.num_gt, after.num_pred) == (before.num_gt, before.num_pred)
    assert after.max_recall == before.max_recall


# --- size filter -----------------------------------------------------------------------------------


def test_filter_by_min_size_uses_longer_box_side() -> None:
    gt = np.array([[0, 0, 9, 20], [0, 0, 9, 9], [5, 5, 15, 15], [0, 0, 9.99, 9.99]])
    np.testing.assert_array_equal(filter_by_min_size(gt, 100, 0.1), [False, True, False, True])
    assert filter_by_min_size(np.zeros((0, 4)), 100, 0.1).shape == (0,)


def test_filter_by_min_size_feeds_ap() -> None:
    small = [0.0, 0.0, 5.0, 5.0]
    ignore = filter_by_min_size(np.array([A, small]), 100, 0.1)
    assert _ap(([A], [0.9], [A, small], ignore)) == APResult(ap=1.0, num_gt=1, num_pred=1, max_recall=1.0)


# --- agreement with a reference --------------------------------------------------------------------


def test_precision_recall_at_counts() -> None:
    dup = [0.5, 0.0, 10.5, 10.0]
    result = precision_recall_at([np.array([A, dup, FAR]), np.array([B])], [np.array([A, B]), np.array([B])])
    # image 1: A -> TP, dup -> FP, FAR -> FP, B missed; image 2: B -> TP
    assert result == PRCounts(precision=0.5, recall=2 / 3, tp=2, fp=2, fn=1)


def test_precision_recall_at_empty() -> None:
    assert precision_recall_at([], []) == PRCounts(precision=0.0, recall=0.0, tp=0, fp=0, fn=0)
    assert precision_recall_at([np.zeros((0, 4))], [np.array([A])]) == PRCounts(0.0, 0.0, 0, 0, 1)
    assert precision_recall_at([np.array([A])], [np.zeros((0, 4))]) == PRCounts(0.0, 0.0, 0, 1, 0)


def test_precision_recall_at_rejects_image_count_mismatch() -> None:
    with pytest.raises(ValueError):
        precision_recall_at([np.array([A])], [])


# --- age and gender --------------------------------------------------------------------------------


def test_age_mae() -> None:
    assert age_mae(np.array([20.0, 30.0]), np.array([25.0, 28.0])) == pytest.approx(3.5)
    assert age_mae(np.array([]), np.array([])) == 0.0
    with pytest.raises(ValueError):
        age_mae(np.array([1.0, 2.0]), np.array([1.0]))


def test_gender_accuracy() -> None:
    # predicted female: [1, 1 (at threshold), 0, 0] vs true [1, 1, 1, 0] -> 3 of 4
    assert gender_accuracy(np.array([0.9, 0.5, 0.2, 0.4]), np.array([1, 1, 1, 0])) == pytest.approx(0.75)
    assert gender_accuracy(np.array([0.6, 0.6]), np.array([1, 0]), threshold=0.7) == pytest.approx(0.5)
    assert gender_accuracy(np.array([]), np.array([])) == 0.0
    with pytest.raises(ValueError):
        gender_accuracy(np.array([0.5]), np.array([1, 0]))
