"""What every preview page shares in Streamlit: the bundle (or how to make it), cached runners, one model lock."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

import jsonschema
import numpy as np
import streamlit as st

from exporter.bench.latency import Backend, detector_for
from exporter.detector import Detector
from exporter.export.formats import formats_for
from exporter.export.images import ExportDataError
from exporter.export.pipeline import ExportFailed, export
from exporter.preview.backends import Bundle, host_backends, open_bundle, with_runner
from exporter.preview.settings import PreviewPaths
from exporter.runner import Runner

# One model run at a time: runners are shared by every browser tab, and timings stay honest.
MODEL_LOCK = threading.Lock()
WARMUP_RUNS = 3  # per runner when it is built, so the first timed photo does not pay the first-call costs


def paths() -> PreviewPaths:
    """Where this preview reads from."""
    return PreviewPaths.from_env()


@st.cache_resource(show_spinner="Reading the export bundle...")
def _bundle(folder: Path, checkpoint: Path, manifest_mtime: float) -> Bundle:
    """The bundle, read again when its manifest changes."""
    return open_bundle(folder, checkpoint)


def bundle_or_stop() -> Bundle:
    """The export bundle; without one, say which command makes it (or make it here) and stop the page."""
    where = paths()
    manifest = where.exports / "manifest.json"
    try:
        return _bundle(where.exports, where.checkpoint, manifest.stat().st_mtime if manifest.is_file() else 0.0)
    except FileNotFoundError:
        st.warning(f"No export bundle at `{where.exports}`. Make one with `make export TARGET=all` "
                   "(about a minute and a half), or here:")
        if where.exports.name == "all" and st.button("Export every format now"):
            _export_here(where)
    except (jsonschema.ValidationError, ValueError) as error:  # CheckpointError is a ValueError
        st.error(f"The export bundle at `{where.exports}` cannot be used: {str(error).splitlines()[0]}. "
                 "Make it again with `make export TARGET=all`.")
    st.stop()


def _export_here(where: PreviewPaths) -> None:
    """`make export TARGET=all` with a progress bar (one step per converter, then verification)."""
    steps = len(formats_for("all")) + 1
    bar = st.progress(0.0, text="exporting...")
    done = 0

    def log(message: str) -> None:
        nonlocal done
        if message.startswith(("converting", "verifying")):
            done += 1
            bar.progress(min(done / steps, 1.0), text=message)

    try:
        export("all", where.checkpoint, where.data, where.exports.parent, app_root=None, log=log)
    except (ExportDataError, ExportFailed, ValueError) as error:  # ValueError: a bad checkpoint or option
        st.error(f"The export failed: {error}")
        return
    _bundle.clear()
    st.rerun()


@st.cache_resource(show_spinner="Loading the model...")
def _runner(stamp: str, key: str, threads: int, _backend: Backend) -> Runner:
    """One runner per model file and thread count (a rerun reuses it), warmed up."""
    runner = _backend.make_runner()
    detector = detector_for(with_runner(_backend, runner))
    blank = np.zeros((detector.spec.input.size, detector.spec.input.size, 3), np.uint8)
    with MODEL_LOCK:
        for _ in range(WARMUP_RUNS):
            detector(blank)
    return runner


def cached_backends(bundle: Bundle, threads: int, keys: Iterable[str] | None = None) -> list[Backend]:
    """The host backends (all, or those named) with cached runners."""
    wanted = None if keys is None else set(keys)
    return [with_runner(b, _runner(bundle.stamp, b.key, threads, b)) for b in host_backends(bundle, threads)
            if wanted is None or b.key in wanted]


def detector(bundle: Bundle, key: str, threads: int) -> Detector:
    """The reference detector of one backend on its cached runner."""
    return detector_for(cached_backends(bundle, threads, [key])[0])


def backend_keys(bundle: Bundle) -> list[str]:
    """Every backend the host can run, in the bench's order."""
    return [b.key for b in host_backends(bundle, 1)]


def exported_keys(bundle: Bundle) -> list[str]:
    """The exported files the host runs (FaceKit's outputs, so frame-reuse fidelity can compare age and gender)."""
    return [b.key for b in host_backends(bundle, 1) if b.runtime != "pytorch" and b.spec.has_attributes]


def sidebar(bundle: Bundle) -> None:
    """The bundle this preview reads, in the sidebar."""
    manifest = bundle.manifest
    st.sidebar.caption(f"Bundle `{bundle.folder}` (target {manifest['target']}, FaceKit {manifest['facekit_version']}), "
                       f"{len(bundle.artifacts)} model files.")
    if not bundle.checkpoint_matches:
        st.sidebar.warning("The bundle was made from another checkpoint than the shipped one: "
                           "run `make export TARGET=all` again.")
