"""`facekit bench` end to end: latency per backend, accuracy per variant, frame reuse on video, the report."""

from __future__ import annotations

import os
import platform
import sys
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import jsonschema
import numpy as np

from exporter import __version__
from exporter.assets import asset_path
from exporter.bench.accuracy import AccuracySets, score_backends
from exporter.bench.clips import clip_kind
from exporter.bench.qnnpack import qnnpack_backend, quantise_checked
from exporter.bench.latency import (
    Backend,
    detector_for,
    exported_backends,
    mediapipe_backend,
    pytorch_backend,
    time_backends,
)
from exporter.bench.report import SCHEMA_ID, targets
from exporter.bench.second_look import cost_summary, second_look_cost, second_look_gain
from exporter.bench.video_reuse import bench_videos
from exporter.checkpoint import load_model
from exporter.data.layout import load_splits
from exporter.data.media import is_video
from exporter.data.splits import evenly
from exporter.detector import Detector
from exporter.digest import sha256_of
from exporter.export.bundle import load_bundle
from exporter.export.images import MIN_CALIBRATION
from exporter.image_io import read_rgb
from exporter.second_look import SecondLook

LATENCY_PHOTO = "obama.jpg"  # a fetched sample photo (640x480 class), timed through the whole pipeline
VERSIONED = ("ai-edge-litert", "onnxruntime", "ncnn", "mnn", "executorch", "torch", "numpy", "opencv-python-headless")


@dataclass(frozen=True)
class BenchSettings:
    """How much the benchmark measures; MODES holds the default and the quick settings."""

    mode: str = "default"
    runs: int = 200  # timed runs per backend and thread count
    warmup: int = 20
    rounds: int = 5  # the runs are interleaved across backends in this many rounds
    threads: tuple[int, ...] = (1, 2)
    max_clips: int | None = None  # clips of each kind for frame reuse (None: all)
    max_frames: int | None = None  # frames per clip (None: all)
    utk_limit: int | None = None  # UTKFace validation crops for accuracy (None: all, as `facekit eval`)
    scenes_limit: int | None = None
    reuse_backend: str = "tflite-int8"
    reuse_threads: int = 1
    qnnpack_calibration: int | None = None  # calibration images of the QNNPACK int8 model (None: all the export's)
    time_limit_s: float = 600.0


MODES = {
    "default": BenchSettings(),
    "quick": BenchSettings(mode="quick", runs=50, warmup=10, max_clips=1, max_frames=90, utk_limit=150,
                           scenes_limit=30, qnnpack_calibration=MIN_CALIBRATION, time_limit_s=120.0),
}


def host_info() -> dict:
    """CPU, cores, OS, Python and runtime versions of this machine."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")]
        cpu = names[0] if names else cpu
    versions = {}
    for name in VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {"cpu": cpu, "cores": os.cpu_count() or 1, "system": platform.platform(), "python": platform.python_version(),
            "versions": versions}


def find_videos(paths: list[Path]) -> list[Path]:
    """Video files among the given files and folders (sorted within each folder)."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if is_video(p))
        elif is_video(path):
            found.append(path)
        else:
            raise ValueError(f"{path} is neither a video file nor a folder; give .mp4/.mov/.avi files or folders")
    return found


def clips_per_kind(videos: list[Path], count: int | None) -> list[Path]:
    """At most `count` clips of each kind (spread evenly over that kind's clips), in the given order."""
    chosen = set()
    for kind in {clip_kind(v) for v in videos}:
        chosen.update(evenly([v for v in videos if clip_kind(v) == kind], count))
    return [v for v in videos if v in chosen]


def run_bench(settings: BenchSettings, export_dir: Path, checkpoint: Path, data_root: Path | None,
              videos: list[Path], command: str, log=print) -> dict:
    """Measure everything and return the report (not yet written)."""
    start = time.time()
    manifest, artifacts = load_bundle(export_dir)
    model, _ = load_model(checkpoint, fold_batchnorm=True)
    photo = read_rgb(asset_path(LATENCY_PHOTO))
    log("quantising the model for PyTorch's QNNPACK engine (calibration histograms: about a minute per 500 images)...")
    quantised = quantise_checked(model, data_root, settings.qnnpack_calibration)
    parity = quantised.parity
    log(f"  QNNPACK int8 against float PyTorch on {parity.images} verification images: faces {parity.faces_matched:.3f}, "
        f"age difference {parity.mean_age_difference:.2f} years, gender agreement {parity.gender_agreement:.3f}"
        + ("" if parity.passed else f" (fails the int8 rules: {'; '.join(parity.failures)})"))
    backends: list[Backend] = []
    for n in settings.threads:
        backends += [pytorch_backend(model, checkpoint, n), qnnpack_backend(quantised, n),
                     *exported_backends(export_dir, artifacts, n), mediapipe_backend(n)]
    log(f"timing {len(backends)} backend/thread combinations on {LATENCY_PHOTO}...")
    latency = time_backends(backends, photo, settings.runs, settings.warmup, settings.rounds)
    one_thread = [b for b in backends if b.threads == min(settings.threads)]
    accuracy = []
    if data_root is not None:
        log(f"scoring {len(one_thread)} variants on the held-out sets...")
        accuracy = score_backends(one_thread, data_root, AccuracySets(settings.utk_limit, settings.scenes_limit))
    else:
        log("no datasets folder: accuracy is skipped (pass --data or set FACEKIT_DATA)")
    reuse = None
    clips = clips_per_kind(videos, settings.max_clips)
    if clips:
        detector = _reuse_detector(backends, settings, photo)
        log(f"frame reuse on {len(clips)} clips with {settings.reuse_backend}...")
        reuse = bench_videos(clips, detector, settings.max_frames)
    second_look = None
    if clips or data_root is not None:
        log(f"second look: its cost per frame on the clips and its gain per face size, with {settings.reuse_backend}...")
        second_look = measure_second_look(_reuse_detector(backends, settings, photo), clips, data_root, settings)
    report = {
        "schema": SCHEMA_ID, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"), "command": command,
        "mode": settings.mode, "host": host_info(),
        "export": {"folder": str(export_dir), "checkpoint_sha256": manifest["checkpoint"]["sha256"]},
        "settings": {"runs": settings.runs, "warmup": settings.warmup, "rounds": settings.rounds,
                     "threads": list(settings.threads), "image": f"{LATENCY_PHOTO} ({photo.shape[1]}x{photo.shape[0]})",
                     "reuse_backend": settings.reuse_backend, "reuse_threads": settings.reuse_threads,
                     "max_frames": settings.max_frames, "utk_limit": settings.utk_limit,
                     "scenes_limit": settings.scenes_limit},
        "latency": latency, "accuracy": accuracy, "qnnpack": quantised.summary(), "reuse": reuse,
        "second_look": second_look, "targets": [],
    }
    report["elapsed_s"] = round(time.time() - start, 1)
    report["targets"] = targets(report, settings.time_limit_s)
    return report


def measure_second_look(detector: Detector, clips: list[Path], data_root: Path | None, settings: BenchSettings) -> dict:
    """The second look's settings, extra model runs and time per frame on the clips, and age/gender per face size
    with it off and on (UTKFace report crops)."""
    look = SecondLook()
    with_look = Detector(detector.runner, detector.spec, detector.decoder.config, second_look=look)
    gain = None
    if data_root is not None:
        gain = second_look_gain(with_look, evenly(load_splits(data_root).utk_report, settings.utk_limit))
    cost = cost_summary(second_look_cost(with_look, clips, settings.max_frames)) if clips else None
    return {"settings": asdict(look), "cost": cost, "gain": gain}


def _reuse_detector(backends: list[Backend], settings: BenchSettings, photo: np.ndarray) -> Detector:
    """The detector the reuse policies call, warmed up."""
    chosen = next((b for b in backends if b.key == settings.reuse_backend and b.threads == settings.reuse_threads), None)
    if chosen is None:
        raise ValueError(f"reuse backend {settings.reuse_backend!r} at {settings.reuse_threads} thread(s) is not among "
                         f"the timed backends; choose one of: {', '.join(sorted({b.key for b in backends}))} "
                         f"and a thread count in {list(settings.threads)}")
    detector = detector_for(chosen)
    for _ in range(10):
        detector(photo)
    return detector


def checkpoint_matches(export_dir: Path, checkpoint: Path) -> bool:
    """Whether the export folder holds a bundle made from this checkpoint by this FaceKit version (another version's
    converters may have made other files)."""
    try:
        manifest, _ = load_bundle(export_dir)
    except (FileNotFoundError, ValueError, jsonschema.ValidationError):
        return False
    return manifest["checkpoint"]["sha256"] == sha256_of(checkpoint) and manifest["facekit_version"] == __version__


def command_line() -> str:
    """The command as typed (for the report)."""
    return " ".join(["facekit", *sys.argv[1:]]) if sys.argv and sys.argv[0].endswith("facekit") else "facekit bench"
