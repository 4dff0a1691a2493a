"""Which host runner runs an exported artifact: the format table names the runtime, exporter.runner builds it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from exporter.export.artifacts import Artifact
from exporter.export.formats import FORMATS
from exporter.runner import (
    Runner,
    executorch_runner,
    litert_runner,
    mnn_runner,
    ncnn_runner,
    onnx_runner,
    opencv_runner,
)

RUNTIMES: dict[str, Callable[[Path, Artifact, int], Runner]] = {
    "onnxruntime": lambda path, _artifact, threads: onnx_runner(path, threads),
    "litert": lambda path, _artifact, threads: litert_runner(path, threads),
    "ncnn": lambda path, artifact, threads: ncnn_runner(path, path.parent / artifact.files[1], artifact.io, threads),
    "opencv": lambda path, _artifact, threads: opencv_runner(path, threads),
    "mnn": lambda path, artifact, threads: mnn_runner(path, artifact.io, threads),
    "executorch": lambda path, _artifact, threads: executorch_runner(path, threads),
}


def runner_for(artifact: Artifact, folder: Path, threads: int = 1) -> Runner | None:
    """A host runner for an exported artifact (by its format's runtime), or None when the host cannot run it."""
    runtime = FORMATS[artifact.format].runtime
    return None if runtime is None else RUNTIMES[runtime](Path(folder) / artifact.path, artifact, threads)
