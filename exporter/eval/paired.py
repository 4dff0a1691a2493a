"""Two checkpoints scored on the same report images, each figure's difference with a 95% paired bootstrap interval.

Whether a change of half a year or one AP point is real depends on the sets' size; resampling the same images for
both models (crops for age and gender, photos for AP) turns "within noise" into a computed interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from exporter.data.layout import dlib_images, load_splits
from exporter.data.utkface import UtkRecord
from exporter.detector import Detector
from exporter.eval.scores import SceneDetections, scene_detections, utkface_look_predictions
from exporter.eval.suite import CANVASES, crops_at, face_size_key
from exporter.metrics import ImageMatches, ap_of_matches, gender_correct, image_matches
from exporter.second_look import SecondLook
from exporter.data.splits import evenly

RESAMPLES = 2000
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Difference:
    """One figure of both models and the interval of (candidate - reference) over resamples of the same items."""

    figure: str
    items: int
    candidate: float
    reference: float
    low: float
    high: float
    lower_is_better: bool

    @property
    def verdict(self) -> str:
        """'better' or 'worse' for the candidate when the interval excludes 0, else 'within noise'."""
        if self.low <= 0 <= self.high:
            return "within noise"
        return "better" if (self.high < 0) == self.lower_is_better else "worse"


def resample_indices(items: int, resamples: int = RESAMPLES, seed: int = 0) -> np.ndarray:
    """(resamples, items) indices drawn with replacement, the same for every figure of one comparison."""
    return np.random.default_rng(seed).integers(0, items, (resamples, items))


def interval(samples: np.ndarray) -> tuple[float, float]:
    """The central CONFIDENCE interval of bootstrap samples."""
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(samples, [tail, 100 - tail])
    return float(low), float(high)


def mean_difference(figure: str, candidate: np.ndarray, reference: np.ndarray, lower_is_better: bool,
                    resamples: int = RESAMPLES) -> Difference:
    """A per-item mean (absolute age error, gender correct) of both models, with the paired interval."""
    if candidate.shape != reference.shape or candidate.ndim != 1 or not len(candidate):
        raise ValueError(f"{figure}: both models need one value per item, got {candidate.shape} and {reference.shape}")
    per_item = candidate - reference
    samples = per_item[resample_indices(len(per_item), resamples)].mean(axis=1)
    return Difference(figure, len(per_item), float(candidate.mean()), float(reference.mean()), *interval(samples),
                      lower_is_better)


def ap_difference(figure: str, candidate: list[ImageMatches], reference: list[ImageMatches],
                  resamples: int = RESAMPLES) -> Difference:
    """AP@0.5 of both models on the same photos, with the interval over resampled photos."""
    if len(candidate) != len(reference) or not candidate:
        raise ValueError(f"{figure}: both models need the same photos, got {len(candidate)} and {len(reference)}")

    def ap(matches: list[ImageMatches], picks: np.ndarray) -> float:
        return ap_of_matches([matches[i] for i in picks]).ap

    samples = np.array([ap(candidate, picks) - ap(reference, picks)
                        for picks in resample_indices(len(candidate), resamples)])
    return Difference(figure, len(candidate), ap_of_matches(candidate).ap, ap_of_matches(reference).ap,
                      *interval(samples), lower_is_better=False)


def attribute_differences(candidate: Detector, reference: Detector, crops: list[UtkRecord], canvas: int,
                          look: SecondLook, progress: bool = True, resamples: int = RESAMPLES) -> list[Difference]:
    """Age MAE and gender accuracy at one face size, model alone and with the second look."""
    a, b = (utkface_look_predictions(d, crops, look, progress, canvas) for d in (candidate, reference))
    if not np.array_equal(a.true_age, b.true_age):
        raise ValueError("the two models were scored on different crops (a file changed during the comparison?)")
    size = face_size_key(canvas)
    rows = []
    looks = (("model alone", (a.alone_age, b.alone_age), (a.alone_female, b.alone_female)),
             ("second look", (a.again_age, b.again_age), (a.again_female, b.again_female)))
    for how, ages, females in looks:
        errors = [np.abs(age - a.true_age) for age in ages]
        correct = [gender_correct(female, a.true_gender).astype(np.float64) for female in females]
        rows.append(mean_difference(f"age MAE (years), {size}, {how}", *errors, True, resamples))
        rows.append(mean_difference(f"gender accuracy, {size}, {how}", *correct, False, resamples))
    return rows


def detection_differences(name: str, candidate: SceneDetections, reference: SceneDetections,
                          which: tuple[str, ...], resamples: int = RESAMPLES) -> list[Difference]:
    """AP@0.5 on the chosen sets of one scene collection ('all', 'unmasked', 'large')."""
    return [ap_difference(f"AP@0.5 {part}, {name}", image_matches(getattr(candidate, part)),
                          image_matches(getattr(reference, part)), resamples) for part in which]


def compare(candidate: Detector, reference: Detector, data_root: Path, utk_limit: int | None = None,
            progress: bool = True, resamples: int = RESAMPLES) -> list[Difference]:
    """Every report figure of `facekit eval` for both models (UTKFace at each face size, face-mask and dlib AP)."""
    splits = load_splits(data_root)
    look = SecondLook()
    utk = evenly(splits.utk_report, utk_limit)
    rows: list[Difference] = []
    for canvas in CANVASES:
        rows += attribute_differences(candidate, reference, crops_at(utk, canvas), canvas, look, progress, resamples)
    scenes: tuple[tuple[str, list, tuple[str, ...]], ...] = (
        ("face-mask report split", splits.scenes_report, ("unmasked", "large")),
        ("dlib faces", dlib_images(data_root), ("all",)))
    for name, images, which in scenes:
        if images:
            found: list[SceneDetections] = [scene_detections(d, images, progress) for d in (candidate, reference)]
            rows += detection_differences(name, *found, which, resamples)
    return rows


def render_markdown(rows: list[Difference], candidate: str, reference: str) -> str:
    """The comparison as a table: both figures, the difference, its interval and the verdict."""
    lines = [f"Candidate `{candidate}` against reference `{reference}`, on the same report images; interval: "
             f"{CONFIDENCE:.0%} paired bootstrap over items ({RESAMPLES} resamples).", "",
             f"| figure | items | candidate | reference | difference | {CONFIDENCE:.0%} interval | verdict |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r.figure} | {r.items} | {r.candidate:.3f} | {r.reference:.3f} | "
                     f"{r.candidate - r.reference:+.3f} | {r.low:+.3f} to {r.high:+.3f} | {r.verdict} |")
    return "\n".join(lines) + "\n"


