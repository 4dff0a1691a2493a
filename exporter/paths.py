"""Where FaceKit finds its data, caches and shipped weights (all overridable)."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = Path(__file__).resolve().parent
WEIGHTS_DIR = PACKAGE_DIR / "weights"
DEFAULT_CHECKPOINT = WEIGHTS_DIR / "facekit_default.pt"


def data_root() -> Path:
    """Dataset root: $FACEKIT_DATA, else ../shared/datasets beside the repo."""
    return Path(os.environ.get("FACEKIT_DATA", REPO_ROOT.parent / "shared" / "datasets"))


def cache_root() -> Path:
    """Cache for downloaded assets and pseudo-labels: $FACEKIT_CACHE, else ~/.cache/facekit."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "facekit"
    path = Path(os.environ.get("FACEKIT_CACHE", default))
    path.mkdir(parents=True, exist_ok=True)
    return path
