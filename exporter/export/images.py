"""Real face images for int8 calibration (training split) and for verification (held-out split)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from exporter.data.splits import evenly
from exporter.data.types import LabelledImage
from exporter.data.utkface import UtkRecord
from exporter.preprocess import letterbox, read_rgb
from exporter.data.layout import load_splits


class ExportDataError(FileNotFoundError):
    """The datasets needed for calibration or verification are missing."""


def _squares(paths: list[Path], size: int) -> tuple[np.ndarray, list[str]]:
    """Letterboxed uint8 squares of the readable images, and their file names."""
    squares, names = [], []
    for path in paths:
        try:
            squares.append(letterbox(read_rgb(path), size)[0])
            names.append(Path(path).name)
        except ValueError:
            continue  # an unreadable image is skipped; the caller checks the count
    return np.stack(squares), names


def _paths(crops: list[UtkRecord], scenes: list[LabelledImage], crop_count: int, scene_count: int) -> list[Path]:
    return [r.path for r in evenly(crops, crop_count)] + [s.path for s in evenly(scenes, scene_count)]


def _splits(data_root: Path):
    try:
        return load_splits(data_root)
    except FileNotFoundError as error:
        raise ExportDataError(
            f"export needs real face images for int8 calibration and verification: {error}"
        ) from None


def calibration_images(data_root: Path, count: int = 1000, size: int = 128) -> np.ndarray:
    """UTKFace training crops and face-mask training scenes (3:1), letterboxed: uint8 (N, size, size, 3)."""
    splits = _splits(data_root)
    scenes = count // 4 if splits.scenes_train else 0
    return _squares(_paths(splits.utk_train, splits.scenes_train, count - scenes, scenes), size)[0]


def verification_images(data_root: Path, count: int = 64, size: int = 128) -> tuple[np.ndarray, list[str]]:
    """Held-out UTKFace crops and face-mask scenes (3:1), letterboxed, never seen in training or calibration."""
    splits = _splits(data_root)
    scenes = count // 4 if splits.scenes_val else 0
    return _squares(_paths(splits.utk_val, splits.scenes_val, count - scenes, scenes), size)
