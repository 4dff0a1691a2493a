"""Letterbox: the reference pre-processing the apps port (geometry, anti-aliased shrinking, exact small path)."""

from __future__ import annotations

from fractions import Fraction

import cv2
import numpy as np
import pytest

from exporter.preprocess import area_resize, halve, halvings, letterbox


def smooth_image(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A smooth random RGB image (bilinear upsampling of a 12 x 12 grid: features far larger than a pixel)."""
    coarse = np.random.default_rng(seed).integers(0, 256, (12, 12, 3)).astype(np.uint8)
    return cv2.resize(coarse, (width, height), interpolation=cv2.INTER_LINEAR)


def exact_area_mean(square: np.ndarray, size: int) -> np.ndarray:
    """The letterbox's area rule computed the slow, obvious way: overlap weights as fractions, mean rounded half up."""
    n = square.shape[0]
    weights = np.zeros((size, n), dtype=object)
    for o in range(size):
        lo, hi = Fraction(o * n, size), Fraction((o + 1) * n, size)
        for i in range(n):
            overlap = min(hi, i + 1) - max(lo, i)
            weights[o, i] = max(overlap, Fraction(0))
    total = np.einsum("yi,xj,ijc->yxc", weights, weights, square.astype(object))
    return np.vectorize(lambda v: int(v * size * size / Fraction(n * n) + Fraction(1, 2)))(total).astype(np.uint8)


@pytest.mark.parametrize(("n", "size"), [(7, 5), (5, 7), (13, 4), (16, 8), (30, 12), (9, 9), (3, 11)])
def test_area_resize_is_the_exact_rounded_area_mean(n, size):
    square = np.random.default_rng(n * size).integers(0, 256, (n, n, 3)).astype(np.uint8)
    np.testing.assert_array_equal(area_resize(square, size), exact_area_mean(square, size))


def test_area_resize_keeps_extremes_at_the_largest_square():
    for value in (0, 1, 254, 255):
        assert (area_resize(np.full((512, 512, 3), value, np.uint8), 128) == value).all()


def test_halving_is_the_rounded_block_mean():
    image = np.random.default_rng(3).integers(0, 256, (64, 48, 3)).astype(np.uint8)
    blocks = image.astype(int)
    expected = (blocks[0::2, 0::2] + blocks[1::2, 0::2] + blocks[0::2, 1::2] + blocks[1::2, 1::2] + 2) // 4
    np.testing.assert_array_equal(halve(image), expected)


@pytest.mark.parametrize(("longest", "halvings_expected"), [(100, 0), (511, 0), (512, 1), (1023, 1), (1024, 2), (4096, 4)])
def test_halvings_start_at_four_times_the_input_side(longest, halvings_expected):
    assert halvings(longest, 128) == halvings_expected


@pytest.mark.parametrize(("height", "width"), [(200, 200), (300, 451), (96, 64), (511, 300)])
def test_small_images_are_padded_then_area_resized(height, width):
    image = smooth_image(height, width)
    square, box = letterbox(image)
    side = max(height, width)
    canvas = np.zeros((side, side, 3), np.uint8)
    canvas[(side - height) // 2:(side - height) // 2 + height, (side - width) // 2:(side - width) // 2 + width] = image
    np.testing.assert_array_equal(square, area_resize(canvas, 128))
    assert box.side == side
    assert np.abs(square.astype(int) - cv2.resize(canvas, (128, 128), interpolation=cv2.INTER_AREA)).max() <= 1


def single_area_resize(image: np.ndarray, size: int = 128) -> np.ndarray:
    """Pad to a centred square, then one area resize (no halving)."""
    h, w = image.shape[:2]
    side = max(h, w)
    canvas = np.zeros((side, side, 3), np.uint8)
    canvas[(side - h) // 2:(side - h) // 2 + h, (side - w) // 2:(side - w) // 2 + w] = image
    return cv2.resize(canvas, (size, size), interpolation=cv2.INTER_AREA)


@pytest.mark.parametrize(("height", "width"), [(1137, 910), (720, 1280), (2204, 970), (512, 512)])
def test_large_images_are_halved_first_and_stay_close_to_one_area_resize(height, width):
    image = smooth_image(height, width, seed=height)
    square, box = letterbox(image)
    block = 2 ** halvings(max(height, width), 128)
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
    centre = (np.array([x0 + side / 2, y0 + side / 2]) + [box.pad_x, box.pad_y]) / box.side * 128
    assert abs(xs.mean() + 0.5 - centre[0]) < 1.0 and abs(ys.mean() + 0.5 - centre[1]) < 1.0
    np.testing.assert_allclose(box.to_image((np.array([x0, y0]) + [box.pad_x, box.pad_y]) / box.side), [x0, y0],
                               atol=1e-3)
