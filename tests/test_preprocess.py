"""Letterbox: the reference pre-processing the apps port (geometry, anti-aliased shrinking, exact small path)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from exporter.preprocess import letterbox


def smooth_image(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A smooth random RGB image (bilinear upsampling of a 12 x 12 grid: features far larger than a pixel)."""
    coarse = np.random.default_rng(seed).integers(0, 256, (12, 12, 3)).astype(np.uint8)
    return cv2.resize(coarse, (width, height), interpolation=cv2.INTER_LINEAR)


def single_area_resize(image: np.ndarray, size: int = 128) -> np.ndarray:
    """Pad to a centred square, then one area resize: what letterbox does below 4x the input side."""
    h, w = image.shape[:2]
    side = max(h, w)
    canvas = np.zeros((side, side, 3), np.uint8)
    canvas[(side - h) // 2:(side - h) // 2 + h, (side - w) // 2:(side - w) // 2 + w] = image
    return cv2.resize(canvas, (size, size), interpolation=cv2.INTER_AREA if side > size else cv2.INTER_LINEAR)


@pytest.mark.parametrize(("height", "width"), [(200, 200), (300, 451), (96, 64), (511, 300)])
def test_small_images_take_one_area_resize(height, width):
    image = smooth_image(height, width)
    square, box = letterbox(image)
    np.testing.assert_array_equal(square, single_area_resize(image))
    assert box.side == max(height, width)


@pytest.mark.parametrize(("height", "width"), [(1137, 910), (720, 1280), (2204, 970), (512, 512)])
def test_large_images_are_halved_first_and_stay_close_to_one_area_resize(height, width):
    image = smooth_image(height, width, seed=height)
    square, box = letterbox(image)
    block = 2 ** int(np.floor(np.log2(max(height, width) / 256)))
    assert box.side % block == 0 and box.pad_x % block == 0 and box.pad_y % block == 0
    assert max(height, width) <= box.side < max(height, width) + block
    assert np.abs(square.astype(int) - single_area_resize(image).astype(int)).mean() < 3.0


@pytest.mark.parametrize(("height", "width"), [(1137, 910), (300, 451), (720, 1280)])
def test_a_patch_lands_where_the_letterbox_geometry_says(height, width):
    image = np.zeros((height, width, 3), np.uint8)
    x0, y0, side = width // 3, height // 2, max(height, width) // 8
    image[y0:y0 + side, x0:x0 + side] = 255
    square, box = letterbox(image)
    ys, xs = np.nonzero(square[..., 0] > 127)
    centre = box.to_input(np.array([x0 + side / 2, y0 + side / 2])) * 128
    assert abs(xs.mean() + 0.5 - centre[0]) < 1.0 and abs(ys.mean() + 0.5 - centre[1]) < 1.0
    np.testing.assert_allclose(box.to_image(box.to_input(np.array([x0, y0]))), [x0, y0], atol=1e-3)
