"""Shared fixtures: the datasets folder (skip with a reason when absent) and the fetched assets."""

from __future__ import annotations

from pathlib import Path

import pytest

from exporter.assets import ensure_assets
from exporter.paths import data_root


@pytest.fixture(scope="session")
def datasets() -> Path:
    """The datasets folder; tests that need it skip when it is absent."""
    root = data_root()
    if not (root / "utkface").is_dir() or not (root / "negatives").is_dir():
        pytest.skip(f"datasets not found at {root} (utkface/ and negatives/ needed): set FACEKIT_DATA")
    return root


@pytest.fixture(scope="session")
def assets() -> dict[str, Path]:
    """Teacher models and sample photos (fetched once into the cache)."""
    return ensure_assets(progress=False)


@pytest.fixture(scope="session")
def exported(tmp_path_factory, assets):
    """(bundle folder, rows, app root) of one `export("all")` of the shipped checkpoint with the built-in image set
    (a fresh clone's path, so it runs without datasets too; shared: about a minute)."""
    from exporter.export.pipeline import export
    from exporter.paths import DEFAULT_CHECKPOINT

    root = tmp_path_factory.mktemp("export")
    folder, rows = export("all", DEFAULT_CHECKPOINT, None, root / "exports", app_root=root / "apps", log=print)
    return folder, rows, root / "apps"


@pytest.fixture(scope="session")
def shipped_onnx(tmp_path_factory) -> tuple[Path, Path]:
    """(checkpoint, export folder holding facekit.onnx) of the shipped checkpoint: the source of the ONNX-based formats."""
    from exporter.export import to_onnx
    from exporter.paths import DEFAULT_CHECKPOINT

    out = tmp_path_factory.mktemp("shipped-onnx")
    assert to_onnx.main(["--checkpoint", str(DEFAULT_CHECKPOINT), "--onnx", str(out / "facekit.onnx"), "--out", str(out),
                         "--precisions", "fp32"]) == 0
    return DEFAULT_CHECKPOINT, out
