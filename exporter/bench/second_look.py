"""What the second look costs per video frame and what it gains at each face size, for `make bench`.

Both take any Detector (the bench passes its full-int8 TFLite one): the cost runs every frame of the clips with
the second look and times the first look apart, then runs the shipped frame-reuse policy, whose second look only
refreshes small tracks (new, or every refresh_every frames), and counts its looks; the gain scores UTKFace
report crops at each face size with the second look off and on.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from exporter.data.media import iter_frames
from exporter.data.utkface import UtkRecord
from exporter.detector import Detector
from exporter.eval.scores import score_utkface_looks
from exporter.eval.suite import CANVASES, face_size_key
from exporter.reuse import FrameReuseScheduler, ReuseConfig
from exporter.second_look import SecondLook, look_at


@dataclass(frozen=True)
class SecondLookCost:
    """Per-frame cost of the second look on one clip."""

    clip: str
    frames: int
    faces_per_frame: float
    extra_runs_per_frame: float  # model runs the second look added, per frame
    first_look_ms: float  # mean wall time of a frame without the second look
    with_second_look_ms: float  # mean wall time of the same frame with it
    tracked_looks_per_frame: float  # looks per frame of the shipped reuse policy, which looks at new or due tracks


def second_look_cost(detector: Detector, clips: list[Path], max_frames: int | None = None) -> list[SecondLookCost]:
    """For each clip: frames, faces, extra model runs and mean ms per frame without and with the second look."""
    look = detector.second_look or SecondLook()
    with_look = Detector(detector.runner, detector.spec, detector.decoder.config, second_look=look)
    rows = []
    for clip in clips:
        first_ms, second_ms, faces, extra, frames, tracked = [], [], 0, 0, 0, 0
        scheduler = tracking_scheduler(with_look)
        for _, frame in iter_frames(clip, max_frames=max_frames):
            t0 = time.perf_counter()
            with_look.first_look(frame)
            t1 = time.perf_counter()
            found, runs = with_look.with_extra_runs(frame)
            t2 = time.perf_counter()
            first_ms.append(1000 * (t1 - t0))
            second_ms.append(1000 * (t2 - t1))
            faces, extra, frames = faces + len(found), extra + runs, frames + 1
            tracked += len(scheduler.step(frame).looked)
        if frames:
            rows.append(SecondLookCost(clip.name, frames, faces / frames, extra / frames, float(np.mean(first_ms)),
                                       float(np.mean(second_ms)), tracked / frames))
    return rows


def tracking_scheduler(detector: Detector) -> FrameReuseScheduler:
    """The shipped reuse policy with the detector's second look (it looks at small tracks when new or due)."""
    look = detector.second_look or SecondLook()
    return FrameReuseScheduler(detector.first_look, ReuseConfig(), look,
                               lambda frame, face: look_at(frame, face, detector.first_look, detector.decoder.config, look))


def second_look_gain(detector: Detector, records: list[UtkRecord], canvases: tuple[int, ...] = CANVASES) -> dict:
    """Age MAE and gender accuracy at each face size with the second look off and on (and the difference)."""
    gains = {}
    for canvas in canvases:
        a, b = score_utkface_looks(detector, records, detector.second_look or SecondLook(), progress=False, canvas=canvas)
        gains[face_size_key(canvas)] = {
            "off": asdict(a), "on": asdict(b),
            "age_mae_gain": a.age_mae - b.age_mae, "gender_accuracy_gain": b.gender_accuracy - a.gender_accuracy,
        }
    return gains


def cost_summary(rows: list[SecondLookCost]) -> dict:
    """Pooled over clips (weighted by frames), plus the rows."""
    frames = sum(r.frames for r in rows)
    mean = lambda key: sum(getattr(r, key) * r.frames for r in rows) / max(frames, 1)  # noqa: E731
    return {
        "frames": frames,
        "extra_runs_per_frame": mean("extra_runs_per_frame"),
        "first_look_ms": mean("first_look_ms"),
        "with_second_look_ms": mean("with_second_look_ms"),
        "tracked_looks_per_frame": mean("tracked_looks_per_frame"),
        "clips": [asdict(r) for r in rows],
    }
