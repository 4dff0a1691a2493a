"""Evaluation metrics in pure NumPy: box IoU, VOC-style detection AP, agreement with a reference, age, gender.

Conventions: boxes are float arrays (N, 4) of xmin, ymin, xmax, ymax in any consistent unit; a box
with xmax <= xmin or ymax <= ymin has zero area and IoU 0 with everything. Any ratio whose
denominator is zero (AP with no ground truth, precision with no predictions, recall with no
reference boxes, MAE or accuracy of no samples) is defined as 0.0, so no metric returns NaN.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from exporter.postprocess import box_iou

TP, FP, DROPPED = 1, 0, -1  # per-prediction outcomes of greedy matching


def _as_boxes(boxes: np.ndarray | Sequence) -> np.ndarray:
    """Coerce to a float64 (N, 4) array; an empty input becomes (0, 4)."""
    arr = np.asarray(boxes, dtype=np.float64)
    if arr.size == 0:
        return arr.reshape(0, 4)
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(f"expected boxes of shape (N, 4), got {arr.shape}")
    return arr


def _as_vector(values: np.ndarray | Sequence, n: int, name: str, dtype: type) -> np.ndarray:
    """Coerce to a 1-D array of length n, or raise naming the argument."""
    arr = np.asarray(values, dtype=dtype).reshape(-1)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {arr.shape}")
    return arr


def _ratio(num: float, den: float) -> float:
    """num / den, or 0.0 when den is zero."""
    return float(num) / float(den) if den > 0 else 0.0


@dataclass(frozen=True, eq=False)
class ImageMatch:
    """Greedy matching of one image: per-prediction outcome (TP=1, FP=0, DROPPED=-1) and matched GT."""

    outcome: np.ndarray  # (N,) int8, in the order the predictions were given
    gt_matched: np.ndarray  # (M,) bool
    gt_index: np.ndarray  # (N,) int: the GT each prediction matched, -1 if none


def greedy_match(
    pred_boxes: np.ndarray,
    pred_scores: np.ndarray | None,
    gt_boxes: np.ndarray,
    gt_ignore: np.ndarray | None = None,
    iou_threshold: float = 0.5,
) -> ImageMatch:
    """PASCAL VOC greedy matching of one image, predictions by descending score (given order if None).

    A prediction takes the unmatched non-ignored GT of highest IoU >= threshold (TP); failing that,
    if it overlaps an ignored GT by >= threshold it is DROPPED (neither TP nor FP); otherwise FP.
    """
    pred_boxes, gt_boxes = _as_boxes(pred_boxes), _as_boxes(gt_boxes)
    n, m = len(pred_boxes), len(gt_boxes)
    ignore = np.zeros(m, bool) if gt_ignore is None else _as_vector(gt_ignore, m, "gt_ignore", bool)
    order = np.arange(n)
    if pred_scores is not None:
        scores = _as_vector(pred_scores, n, "pred_scores", np.float64)
        order = np.argsort(-scores, kind="stable")
    iou = box_iou(pred_boxes, gt_boxes)
    outcome = np.full(n, FP, dtype=np.int8)
    matched = np.zeros(m, bool)
    gt_index = np.full(n, -1, dtype=np.int64)
    for i in order:
        hit = iou[i] >= iou_threshold
        candidates = np.where(hit & ~ignore & ~matched, iou[i], -1.0)
        if m and candidates.max() >= 0:
            j = int(np.argmax(candidates))
            matched[j] = True
            outcome[i] = TP
            gt_index[i] = j
        elif np.any(hit & ignore):
            outcome[i] = DROPPED
    return ImageMatch(outcome=outcome, gt_matched=matched, gt_index=gt_index)


@dataclass(frozen=True, eq=False)
class DetectionSet:
    """Predictions (boxes, scores) and ground truth (boxes, ignore mask) for a list of images."""

    pred_boxes: tuple[np.ndarray, ...]
    pred_scores: tuple[np.ndarray, ...]
    gt_boxes: tuple[np.ndarray, ...]
    gt_ignore: tuple[np.ndarray, ...]

    def __post_init__(self) -> None:
        """Check that every image has predictions, scores, GT and ignore masks of matching sizes."""
        images = (self.pred_boxes, self.pred_scores, self.gt_boxes, self.gt_ignore)
        if len({len(part) for part in images}) != 1:
            raise ValueError("pred_boxes, pred_scores, gt_boxes and gt_ignore must cover the same images")
        for boxes, scores, gt, ignore in zip(*images):
            if scores.shape != (len(boxes),) or ignore.shape != (len(gt),):
                raise ValueError("each image needs a score per predicted box and an ignore flag per GT box")


@dataclass(frozen=True)
class APResult:
    """Average precision at one IoU threshold; num_pred counts scored (non-dropped) predictions."""

    ap: float
    num_gt: int  # non-ignored ground-truth boxes
    num_pred: int  # TP + FP (predictions matched to ignored GT are excluded)
    max_recall: float


@dataclass(frozen=True)
class ImageMatches:
    """One image's scored predictions after matching: outcomes (TP or FP; dropped ones left out), their scores and
    the image's count of non-ignored ground-truth boxes. AP pools these over images (resampled in eval.paired)."""

    outcome: np.ndarray
    scores: np.ndarray
    num_gt: int


def image_matches(dets: DetectionSet, iou_threshold: float = 0.5) -> list[ImageMatches]:
    """Greedy matching of every image of the set, for `ap_of_matches`."""
    matches = []
    for boxes, sc, gt, ignore in zip(dets.pred_boxes, dets.pred_scores, dets.gt_boxes, dets.gt_ignore):
        match = greedy_match(boxes, sc, gt, ignore, iou_threshold)
        keep = match.outcome != DROPPED
        matches.append(ImageMatches(match.outcome[keep], sc[keep], int(np.count_nonzero(~ignore))))
    return matches


def average_precision(dets: DetectionSet, iou_threshold: float = 0.5) -> APResult:
    """All-point interpolated AP (VOC2010+) over all images; 0.0 when there is no non-ignored GT."""
    return ap_of_matches(image_matches(dets, iou_threshold))


def ap_of_matches(matches: Sequence[ImageMatches]) -> APResult:
    """AP of matched images pooled together (the same image may appear more than once, as in a bootstrap sample)."""
    num_gt = sum(m.num_gt for m in matches)
    outcome = np.concatenate([m.outcome for m in matches]) if matches else np.zeros(0, np.int8)
    score = np.concatenate([m.scores for m in matches]) if matches else np.zeros(0)
    tp = np.cumsum(outcome[np.argsort(-score, kind="stable")] == TP)
    if num_gt == 0 or len(tp) == 0:
        return APResult(ap=0.0, num_gt=num_gt, num_pred=len(outcome), max_recall=0.0)
    recall = tp / num_gt
    precision = tp / np.arange(1, len(tp) + 1)
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    steps = np.diff(np.concatenate([[0.0], recall]))
    return APResult(
        ap=float(np.sum(steps * envelope)),
        num_gt=num_gt,
        num_pred=len(outcome),
        max_recall=float(recall[-1]),
    )


@dataclass
class DetectionAccumulator:
    """Collects detections and ground truth image by image, then scores them."""

    _pred_boxes: list[np.ndarray] = field(default_factory=list, init=False)
    _pred_scores: list[np.ndarray] = field(default_factory=list, init=False)
    _gt_boxes: list[np.ndarray] = field(default_factory=list, init=False)
    _gt_ignore: list[np.ndarray] = field(default_factory=list, init=False)

    def add(
        self,
        pred_boxes: np.ndarray,
        pred_scores: np.ndarray,
        gt_boxes: np.ndarray,
        gt_ignore: np.ndarray | None = None,
    ) -> None:
        """Record one image: predicted boxes (N,4) with scores (N,), GT boxes (M,4), optional ignore (M,)."""
        boxes, gt = _as_boxes(pred_boxes), _as_boxes(gt_boxes)
        self._pred_boxes.append(boxes)
        self._pred_scores.append(_as_vector(pred_scores, len(boxes), "pred_scores", np.float64))
        self._gt_boxes.append(gt)
        ignore = np.zeros(len(gt), bool) if gt_ignore is None else gt_ignore
        self._gt_ignore.append(_as_vector(ignore, len(gt), "gt_ignore", bool))

    def detection_set(self) -> DetectionSet:
        """Everything added so far as an immutable DetectionSet."""
        return DetectionSet(
            pred_boxes=tuple(self._pred_boxes),
            pred_scores=tuple(self._pred_scores),
            gt_boxes=tuple(self._gt_boxes),
            gt_ignore=tuple(self._gt_ignore),
        )

    def average_precision(self, iou_threshold: float = 0.5) -> APResult:
        """AP of everything added so far (see `average_precision`)."""
        return average_precision(self.detection_set(), iou_threshold)


def filter_by_min_size(gt_boxes: np.ndarray, image_side: float, min_fraction: float) -> np.ndarray:
    """Ignore mask (M,): GT boxes with max(width, height) < min_fraction * image_side (longer image side)."""
    gt = _as_boxes(gt_boxes)
    extent = np.maximum(gt[:, 2] - gt[:, 0], gt[:, 3] - gt[:, 1])
    return extent < min_fraction * image_side


@dataclass(frozen=True)
class PRCounts:
    """Precision and recall of thresholded predictions against reference boxes, with the counts."""

    precision: float
    recall: float
    tp: int
    fp: int
    fn: int


def precision_recall_at(pred: Sequence[np.ndarray], ref: Sequence[np.ndarray], iou: float = 0.5) -> PRCounts:
    """Greedy-match per-image predicted boxes (most confident first) to reference boxes; pool the counts."""
    if len(pred) != len(ref):
        raise ValueError(f"pred covers {len(pred)} images but ref covers {len(ref)}")
    tp = fp = fn = 0
    for boxes, ref_boxes in zip(pred, ref):
        match = greedy_match(boxes, None, ref_boxes, None, iou)
        tp += int(np.count_nonzero(match.outcome == TP))
        fp += int(np.count_nonzero(match.outcome == FP))
        fn += int(np.count_nonzero(~match.gt_matched))
    return PRCounts(precision=_ratio(tp, tp + fp), recall=_ratio(tp, tp + fn), tp=tp, fp=fp, fn=fn)


def age_mae(pred: np.ndarray, true: np.ndarray) -> float:
    """Mean absolute error between predicted and true ages; 0.0 for no samples."""
    true_arr = np.asarray(true, dtype=np.float64).reshape(-1)
    pred_arr = _as_vector(pred, len(true_arr), "pred", np.float64)
    return _ratio(np.abs(pred_arr - true_arr).sum(), len(true_arr))


def gender_correct(pred_female_prob: np.ndarray, true_gender: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Per sample, whether (prob >= threshold) equals the true gender (1 female, 0 male)."""
    true_arr = np.asarray(true_gender).reshape(-1).astype(bool)
    prob = _as_vector(pred_female_prob, len(true_arr), "pred_female_prob", np.float64)
    return (prob >= threshold) == true_arr


def gender_accuracy(pred_female_prob: np.ndarray, true_gender: np.ndarray, threshold: float = 0.5) -> float:
    """Fraction of samples whose gender is right (see gender_correct); 0.0 for none."""
    correct = gender_correct(pred_female_prob, true_gender, threshold)
    return _ratio(np.count_nonzero(correct), len(correct))
