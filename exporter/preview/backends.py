"""The backends the preview runs: the bench's own (PyTorch, every exported file the host runs, MediaPipe)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import torch

from exporter.assets import AssetError, asset_path
from exporter.bench.latency import MEDIAPIPE_FILE, Backend, exported_backends, mediapipe_backend, pytorch_backend
from exporter.checkpoint import load_model
from exporter.export.artifacts import Artifact
from exporter.digest import sha256_of
from exporter.export.bundle import load_bundle
from exporter.runner import Runner


@dataclass(frozen=True)
class Bundle:
    """An export bundle as the preview sees it: manifest, artifacts, the folder and the checkpoint's model."""

    folder: Path
    manifest: dict
    artifacts: list[Artifact]
    model: torch.nn.Module
    checkpoint: Path

    @property
    def stamp(self) -> str:
        """Identifies this export (folder and creation time): cached runners are keyed on it."""
        return f"{self.folder.resolve()}@{self.manifest['created_unix']}"

    @property
    def checkpoint_matches(self) -> bool:
        """Whether the bundle was made from the checkpoint the PyTorch backend runs."""
        return self.manifest["checkpoint"]["sha256"] == sha256_of(self.checkpoint)


def open_bundle(folder: Path, checkpoint: Path) -> Bundle:
    """Read a bundle and its checkpoint (BatchNorm folded, as exported); FileNotFoundError says how to make one."""
    manifest, artifacts = load_bundle(folder)
    model, _ = load_model(checkpoint, fold_batchnorm=True)
    return Bundle(Path(folder), manifest, artifacts, model, Path(checkpoint))


def mediapipe_available() -> bool:
    """Whether MediaPipe's BlazeFace file has been fetched (`make assets`)."""
    try:
        asset_path(MEDIAPIPE_FILE)
    except AssetError:
        return False
    return True


def host_backends(bundle: Bundle, threads: int) -> list[Backend]:
    """PyTorch, every exported file the host can run, and MediaPipe's BlazeFace when fetched, at a thread count."""
    backends = [pytorch_backend(bundle.model, bundle.checkpoint, threads),
                *exported_backends(bundle.folder, bundle.artifacts, threads)]
    return backends + [mediapipe_backend(threads)] if mediapipe_available() else backends


def with_runner(backend: Backend, runner: Runner) -> Backend:
    """The backend with an already built runner (the preview caches runners; the bench builds its own)."""
    return replace(backend, make_runner=lambda: runner)

