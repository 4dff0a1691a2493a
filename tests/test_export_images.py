"""Calibration and verification images: the built-in set on a fresh clone, the datasets folder when given."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from exporter.export.builtin_images import CALIBRATION_FACES, VERIFICATION_FACES, builtin_squares
from exporter.export.images import MIN_VERIFICATION, ExportDataError, export_images


def test_builtin_set_is_deterministic_real_and_held_apart(assets):
    first, again = builtin_squares("verification", 12), builtin_squares("verification", 12)
    np.testing.assert_array_equal(first.squares, again.squares)
    assert first.squares.shape == (12, 128, 128, 3) and first.squares.dtype == np.uint8
    assert first.squares.std() > 20  # photos, not blank squares
    assert not set(CALIBRATION_FACES) & set(VERIFICATION_FACES)
    assert "built-in set (verification)" in first.source and "obama2.jpg" in first.source


def test_no_data_folder_means_the_builtin_set(assets):
    calibration, verification = export_images(None, calibrate=False)
    assert calibration is None
    assert len(verification.squares) >= MIN_VERIFICATION and verification.source.startswith("built-in set")


def test_a_data_folder_with_too_few_readable_images_is_refused_up_front(tmp_path):
    (tmp_path / "negatives").mkdir()
    cv2.imwrite(str(tmp_path / "negatives" / "wall.png"), np.full((40, 40, 3), 90, np.uint8))
    faces = tmp_path / "utkface"
    faces.mkdir()
    for i in range(5):
        cv2.imwrite(str(faces / f"{20 + i}_0_0_2017011617452512{i}.jpg"), np.full((40, 40, 3), 50 * i, np.uint8))
    with pytest.raises(ExportDataError, match="at least 50 are needed"):
        export_images(tmp_path, calibrate=False)


def test_a_missing_data_folder_names_the_fix(tmp_path):
    with pytest.raises(ExportDataError, match="leave out --data to use the built-in set"):
        export_images(tmp_path / "nowhere", calibrate=True)


@pytest.mark.needs_data
def test_datasets_give_training_calibration_and_held_out_verification(datasets):
    calibration, verification = export_images(datasets, calibrate=True)
    assert len(calibration.squares) >= 900 and calibration.source.startswith("datasets folder")
    assert len(verification.squares) == 64 and "held-out" in verification.source
