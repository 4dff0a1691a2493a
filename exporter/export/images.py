"""Real face images for int8 calibration and verification: the datasets folder's splits, or the built-in set.

With a datasets folder, calibration uses the training split and verification the held-out split (UTKFace crops
and face-mask scenes, 3:1). Without one (a fresh clone), both come from the built-in set of registry sample photos
(exporter/export/builtin_images.py). Either way the counts are checked before any conversion starts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from exporter.data.layout import load_splits
from exporter.data.splits import evenly
from exporter.data.types import LabelledImage
from exporter.data.utkface import UtkRecord
from exporter.export.builtin_images import ImageSet, builtin_squares
from exporter.image_io import read_rgb
from exporter.preprocess import letterbox

# 1000 calibration images: with 500 built-in windows the full-int8 age difference was 1.69 years (gate 1.5), with 1000 1.20
CALIBRATION_COUNT, MIN_CALIBRATION = 1000, 200  # the full-int8 converters refuse fewer than MIN_CALIBRATION
VERIFICATION_COUNT, MIN_VERIFICATION = 64, 50  # the manifest schema asks for at least MIN_VERIFICATION


class ExportDataError(FileNotFoundError):
    """The datasets folder cannot give the calibration or verification images."""


def _squares(paths: list[Path], size: int) -> np.ndarray:
    """Letterboxed uint8 squares of the readable images (unreadable ones are skipped; the caller checks the count)."""
    squares = []
    for path in paths:
        try:
            squares.append(letterbox(read_rgb(path), size)[0])
        except ValueError:
            continue
    return np.stack(squares) if squares else np.zeros((0, size, size, 3), np.uint8)


def _paths(crops: list[UtkRecord], scenes: list[LabelledImage], count: int) -> list[Path]:
    """UTKFace crops and scenes 3:1 (all crops when there are no scenes)."""
    scene_count = count // 4 if scenes else 0
    return [r.path for r in evenly(crops, count - scene_count)] + [s.path for s in evenly(scenes, scene_count)]


def _checked(squares: np.ndarray, minimum: int, what: str, data_root: Path) -> np.ndarray:
    if len(squares) < minimum:
        raise ExportDataError(
            f"{data_root} gives only {len(squares)} readable {what} images, at least {minimum} are needed; "
            "fix or replace the unreadable images, or leave out --data to use the built-in set")
    return squares


def _splits(data_root: Path):
    try:
        return load_splits(data_root)
    except FileNotFoundError as error:
        raise ExportDataError(f"--data {data_root} cannot be used for calibration and verification: {error}; "
                              "leave out --data to use the built-in set") from None


def export_images(data_root: Path | None, calibrate: bool, size: int = 128) -> tuple[ImageSet | None, ImageSet]:
    """(calibration set or None when no int8 is made, verification set), from the datasets folder or built in."""
    if data_root is None:
        calibration = builtin_squares("calibration", CALIBRATION_COUNT, size) if calibrate else None
        return calibration, builtin_squares("verification", VERIFICATION_COUNT, size)
    splits = _splits(data_root)
    calibration = None
    if calibrate:
        squares = _squares(_paths(splits.utk_train, splits.scenes_train, CALIBRATION_COUNT), size)
        calibration = ImageSet(_checked(squares, MIN_CALIBRATION, "calibration", data_root),
                               f"datasets folder: {len(squares)} training-split UTKFace crops and face-mask scenes")
    squares = _squares(_paths(splits.utk_report, splits.scenes_report, VERIFICATION_COUNT), size)
    verification = ImageSet(_checked(squares, MIN_VERIFICATION, "verification", data_root),
                            f"datasets folder: {len(squares)} held-out UTKFace crops and face-mask scenes")
    return calibration, verification


def load_calibration(path: Path | None) -> np.ndarray:
    """The squares of a converter's --calibration file (full int8); exits saying why when it is missing or unfit."""
    if path is None:
        raise SystemExit(f"full int8 needs --calibration: a .npy of at least {MIN_CALIBRATION} uint8 NHWC face images")
    squares = np.load(path)
    if squares.ndim != 4 or squares.dtype != np.uint8 or squares.shape[-1] != 3 or len(squares) < MIN_CALIBRATION:
        raise SystemExit(f"{path}: need uint8 (N, S, S, 3) with N >= {MIN_CALIBRATION}, got {squares.dtype} {squares.shape}")
    return squares
