"""Latency per backend: pre-processing, inference and post-processing timed separately, MediaPipe alongside.

Every backend runs the same photo through the same reference pre- and post-processing. The timing is
interleaved: each round runs a block of iterations of every backend in turn, so slow spells of a noisy
machine fall on all backends alike and the ratios to MediaPipe stay fair; a short pause before each block
lets the previous runtime's worker threads go idle.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from exporter.assets import asset_path
from exporter.detector import Detector
from exporter.export.artifacts import Artifact
from exporter.export.bundle import size_of
from exporter.export.formats import FORMATS
from exporter.export.runners import runner_for
from exporter.runner import Runner, litert_runner, torch_runner
from exporter.second_look import SecondLook
from exporter.spec import BLAZEFACE_SHORT, FACEKIT, ModelSpec

MEDIAPIPE = "mediapipe-short"
MEDIAPIPE_FILE = "blazeface_short_range.tflite"
STAGES = ("pre", "infer", "post", "total")
# Pause before each block: onnxruntime's and OpenMP's (ncnn) worker threads spin-wait after a run and would
# steal a core from the next backend on a 2-core machine (measured: tflite-fp32 at 2 threads timed at 4x).
COOL_DOWN_S = 0.05


@dataclass(frozen=True)
class Backend:
    """One thing to time: a model file on a runtime at a thread count."""

    key: str  # e.g. tflite-int8, pytorch-fp32, mediapipe-short
    format: str
    precision: str
    runtime: str
    threads: int
    size_bytes: int | None
    make_runner: Callable[[], Runner]
    spec: ModelSpec = FACEKIT


def backend_key(fmt: str, precision: str) -> str:
    """The name a backend has in reports (phone reports use the same)."""
    return f"{fmt}-{precision}"


def exported_backends(folder: Path, artifacts: list[Artifact], threads: int) -> list[Backend]:
    """A backend per exported artifact the host can run."""
    backends = []
    for artifact in artifacts:
        runtime = FORMATS[artifact.format].runtime
        if runtime is None:
            continue
        backends.append(Backend(backend_key(artifact.format, artifact.precision), artifact.format, artifact.precision,
                                runtime, threads, sum(size_of(folder / f) for f in artifact.files),
                                lambda a=artifact: runner_for(a, folder, threads)))
    return backends


def pytorch_backend(model: torch.nn.Module, checkpoint: Path, threads: int) -> Backend:
    """The PyTorch model (BatchNorm folded, as exported)."""
    return Backend("pytorch-fp32", "pytorch", "fp32", "pytorch", threads, Path(checkpoint).stat().st_size,
                   lambda: torch_runner(model))


def mediapipe_backend(threads: int) -> Backend:
    """MediaPipe's BlazeFace short-range file on the same LiteRT interpreter."""
    path = asset_path(MEDIAPIPE_FILE)
    return Backend(MEDIAPIPE, "tflite", "fp16-weights", "litert", threads, path.stat().st_size,
                   lambda: litert_runner(path, threads, BLAZEFACE_SHORT.output_names, BLAZEFACE_SHORT.input),
                   BLAZEFACE_SHORT)


def detector_for(backend: Backend, second_look: SecondLook | None = None) -> Detector:
    """The reference Detector on a backend's runner, with the backend's model spec; by default without the second
    look (the bench times and scores the model alone; the second look's cost and gain are measured on their own)."""
    return Detector(backend.make_runner(), backend.spec, second_look=second_look)


def _summary(seconds: list[float]) -> dict:
    ms = 1000 * np.asarray(seconds)
    return {"median": round(float(np.median(ms)), 4), "p90": round(float(np.percentile(ms, 90)), 4)}


def time_backends(backends: list[Backend], image: np.ndarray, runs: int, warmup: int, rounds: int = 5,
                  progress: bool = True, on_progress: Callable[[float], None] | None = None) -> list[dict]:
    """Latency rows (pre/infer/post/total median and p90 in ms), with ratios to MediaPipe at the same threads.

    on_progress, when given, receives the share of runs done (0 to 1) after each block (the preview's bar).
    """
    detectors = [(b, detector_for(b)) for b in backends]
    samples: list[dict[str, list[float]]] = [{stage: [] for stage in STAGES} for _ in backends]
    block = max(1, runs // rounds)
    total = len(detectors) * (warmup + block * rounds)
    bar = tqdm(total=total, desc="latency", unit="run", disable=not progress)

    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        bar.update(n)
        if on_progress is not None:
            on_progress(done / total)

    for backend, detector in detectors:
        with_threads(backend, lambda: [detector.timed(image) for _ in range(warmup)])
        advance(warmup)
    for _ in range(rounds):
        for (backend, detector), backend_samples in zip(detectors, samples):
            detector.runner.ready()  # untimed: ExecuTorch resizes its shared thread pool and reloads here
            time.sleep(COOL_DOWN_S)
            for _faces, t in with_threads(backend, lambda: [detector.timed(image) for _ in range(block)]):
                for stage in STAGES:
                    backend_samples[stage].append(getattr(t, stage))
            advance(block)
    bar.close()
    rows = [{"backend": b.key, "format": b.format, "precision": b.precision, "runtime": b.runtime,
             "threads": b.threads, "size_bytes": b.size_bytes, "runs": block * rounds,
             **{f"{stage}_ms": _summary(s[stage]) for stage in STAGES}} for b, s in zip(backends, samples)]
    reference = {r["threads"]: r for r in rows if r["backend"] == MEDIAPIPE}
    for r in rows:
        mp = reference.get(r["threads"])
        r["ratio_to_mediapipe"] = round(r["infer_ms"]["median"] / mp["infer_ms"]["median"], 4) if mp else None
        r["total_ratio_to_mediapipe"] = round(r["total_ms"]["median"] / mp["total_ms"]["median"], 4) if mp else None
    return rows


def with_threads(backend: Backend, work: Callable[[], list]) -> list:
    """Run `work` with PyTorch's thread count set for a PyTorch backend, float or QNNPACK (the other runtimes own theirs)."""
    if backend.format != "pytorch":
        return work()
    before = torch.get_num_threads()
    torch.set_num_threads(backend.threads)
    try:
        return work()
    finally:
        torch.set_num_threads(before)
