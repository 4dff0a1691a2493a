"""Parity of an exported artifact with PyTorch: raw outputs and decoded faces, with the thresholds per precision."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

from exporter.detector import Decoder
from exporter.metrics import greedy_match
from exporter.postprocess import Face
from exporter.runner import Runner
from exporter.spec import FACEKIT, OUTPUT_NAMES


@dataclass(frozen=True)
class Thresholds:
    """What an artifact must meet to be called verified."""

    max_abs_error: float | None = None  # on every raw output
    max_error_over_range: float | None = None  # max abs error / (max - min of the PyTorch output), per output
    min_faces_matched: float | None = None  # share of PyTorch faces found again at IoU >= match_iou
    max_mean_age_difference: float | None = None  # years, over matched faces
    min_gender_agreement: float | None = None  # over matched faces PyTorch calls male or female with a margin
    gender_margin: float = 0.05  # faces with PyTorch P(female) within this of 0.5 are coin flips: left out
    match_iou: float = 0.9


THRESHOLDS = {
    # fp32: float rounding only. The regressors are in input pixels (up to ~130, where one float32 ulp is
    # 1.5e-5), so the limit is relative to each output's range, with an absolute cap.
    "fp32": Thresholds(max_abs_error=5e-4, max_error_over_range=1e-5),
    "fp16": Thresholds(max_error_over_range=5e-3),
    "int8-dynamic": Thresholds(min_faces_matched=0.98, max_mean_age_difference=1.5, min_gender_agreement=0.97),
    "int8": Thresholds(min_faces_matched=0.98, max_mean_age_difference=1.5, min_gender_agreement=0.97),
}


LATENCY_RUNS, LATENCY_WARMUP = 30, 5  # the export table's host latency: median of 30 runs after 5 warm-up runs


@dataclass(frozen=True)
class Parity:
    """Measured agreement of one artifact with PyTorch on the verification images."""

    images: int
    max_abs_error: dict[str, float]
    max_error_over_range: dict[str, float]
    reference_faces: int
    faces_matched: float
    mean_age_difference: float
    gender_agreement: float
    passed: bool
    failures: list[str]

    def to_dict(self) -> dict:
        """JSON-friendly form."""
        return asdict(self)


def match_faces(reference: list[list[Face]], candidate: list[list[Face]], iou: float) -> tuple[int, list[tuple[Face, Face]]]:
    """Greedy one-to-one matching per image (reference faces in score order); returns (reference count, pairs)."""
    total, pairs = 0, []
    for ref, cand in zip(reference, candidate):
        total += len(ref)
        match = greedy_match([f.box for f in ref], [f.score for f in ref], [f.box for f in cand], iou_threshold=iou)
        pairs += [(ref[i], cand[j]) for i, j in enumerate(match.gt_index) if j >= 0]
    return total, pairs


def compare(reference: list[np.ndarray], candidate: list[np.ndarray], precision: str) -> Parity:
    """Raw and decoded agreement, judged by the thresholds of the precision."""
    t = THRESHOLDS[precision]
    abs_err, rel_err = {}, {}
    for name, ref, out in zip(OUTPUT_NAMES, reference, candidate):
        if ref.shape != out.shape:
            raise ValueError(f"output {name}: shape {out.shape}, PyTorch gives {ref.shape}")
        abs_err[name] = float(np.abs(ref - out).max())
        rel_err[name] = abs_err[name] / max(float(ref.max() - ref.min()), 1e-12)
    decoder = Decoder(FACEKIT)
    ref_faces, cand_faces = decoder.decode_batch(reference), decoder.decode_batch(candidate)
    total, pairs = match_faces(ref_faces, cand_faces, t.match_iou)
    matched = len(pairs) / total if total else 1.0
    age = float(np.mean([abs(a.age - b.age) for a, b in pairs])) if pairs else 0.0
    decided = [(a, b) for a, b in pairs if abs(a.female - 0.5) >= t.gender_margin]
    gender = float(np.mean([(a.female >= 0.5) == (b.female >= 0.5) for a, b in decided])) if decided else 1.0
    failures = []
    if t.max_abs_error is not None and max(abs_err.values()) > t.max_abs_error:
        failures.append(f"max abs error {max(abs_err.values()):.2e} > {t.max_abs_error:.0e}")
    if t.max_error_over_range is not None and max(rel_err.values()) > t.max_error_over_range:
        failures.append(f"max error / range {max(rel_err.values()):.2e} > {t.max_error_over_range:.0e}")
    if t.min_faces_matched is not None and matched < t.min_faces_matched:
        failures.append(f"faces matched at IoU {t.match_iou} {matched:.3f} < {t.min_faces_matched}")
    if t.max_mean_age_difference is not None and age > t.max_mean_age_difference:
        failures.append(f"mean age difference {age:.2f} > {t.max_mean_age_difference} years")
    if t.min_gender_agreement is not None and gender < t.min_gender_agreement:
        failures.append(f"gender agreement {gender:.3f} < {t.min_gender_agreement}")
    if total == 0:
        failures.append("PyTorch finds no face in the verification images: parity of decoded faces is untested")
    return Parity(len(reference[0]), abs_err, rel_err, total, matched, age, gender, not failures, failures)


def median_latency_ms(runner: Runner, square: np.ndarray, runs: int = LATENCY_RUNS,
                      warmup: int = LATENCY_WARMUP) -> float:
    """Median wall time of one single-image inference (after warm-up), in milliseconds."""
    for _ in range(warmup):
        runner(square[None])
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        runner(square[None])
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))
