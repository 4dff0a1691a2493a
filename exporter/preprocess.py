"""Image to model input: letterbox to a square of the model's side; and back to image coordinates.

This is the reference the Android and iOS apps port, bit for bit on uint8 (tests/golden holds the proof).
For an H x W x 3 uint8 RGB image and a model side S (all integer arithmetic, "//" is floor division):

1. Halvings: n = the largest n >= 0 with 2 * S * 2^n <= max(H, W) (so none below 4 S), block B = 2^n.
2. Square: side = ceil(max(H, W) / B) * B; the image sits at left = ((side - W) // 2) // B * B,
   top = ((side - H) // 2) // B * B; everything else is black (0).
3. Halving (n times, only when n > 0): the image is padded with black on the right and bottom to multiples
   of B, then each 2x2 block becomes (a + b + c + d + 2) // 4.
4. Area resize of the N x N square (N = side / B, the image at (left / B, top / B)) to S x S: output pixel
   (x, y) is the exact mean of the square over [x N / S, (x + 1) N / S) x [y N / S, (y + 1) N / S), pixels
   being constant unit squares, rounded half up. Exactly: with the integral image I ((N+1) x (N+1), I[i][j] =
   sum of the pixels in rows < i and columns < j) and, for a grid line k = 0..S, q_k = k N // S and
   r_k = k N % S, let R_k(j) = (S - r_k) I[q_k][j] + r_k I[min(q_k + 1, N)][j] and
   G(k, l) = (S - r_l) R_k(q_l) + r_l R_k(min(q_l + 1, N)) (= S^2 times the integral up to that corner);
   A = G(y+1, x+1) - G(y, x+1) - G(y+1, x) + G(y, x), and the pixel is (2 A + N^2) // (2 N^2), in 64-bit integers.
   The same rule enlarges an image smaller than S.

The model input is then (pixel - mean) / std in float32 (exporter/spec.py InputSpec; exact), and
Letterbox maps model-input coordinates back to image pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

LETTERBOX_VERSION = 3  # bump when letterbox() gives other pixels: teacher pseudo-label caches key on it


@dataclass(frozen=True)
class Letterbox:
    """How an image of (height, width) was padded to a square of side `side` before resizing."""

    width: int
    height: int
    pad_x: float  # pixels added on the left (and right), in image pixels
    pad_y: float  # pixels added on the top (and bottom)
    side: float  # side of the padded square, in image pixels

    def to_image(self, xy: np.ndarray) -> np.ndarray:
        """Map normalised [0,1] coordinates of the model input (..., 2) to image pixels."""
        xy = np.asarray(xy, dtype=np.float32)
        out = xy * self.side
        out[..., 0] -= self.pad_x
        out[..., 1] -= self.pad_y
        return out

    def to_input(self, xy: np.ndarray) -> np.ndarray:
        """Map image pixel coordinates (..., 2) to normalised [0,1] model-input coordinates."""
        xy = np.array(xy, dtype=np.float32, copy=True)
        xy[..., 0] += self.pad_x
        xy[..., 1] += self.pad_y
        return xy / self.side


def halvings(longest_side: int, size: int) -> int:
    """How many 2x2 halvings come before the area resize: the largest n with 2 * size * 2^n <= longest_side."""
    n = 0
    while 2 * size * 2 ** (n + 1) <= longest_side:
        n += 1
    return n


def halve(image: np.ndarray) -> np.ndarray:
    """Exact 2x2 block means of an even-sized uint8 image, rounded half up: (a + b + c + d + 2) // 4."""
    return cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2), interpolation=cv2.INTER_AREA)


def area_resize(square: np.ndarray, size: int) -> np.ndarray:
    """Exact area average of an N x N x 3 uint8 square onto size x size, rounded half up.

    Integer arithmetic carried in float64: every value is an integer below 2^53 (N <= 4 size), so it is exact.
    """
    n = square.shape[0]
    integral = cv2.integral(square, sdepth=cv2.CV_64F)  # (N+1, N+1, 3)
    lines = np.arange(size + 1) * n
    q, r = lines // size, (lines % size).astype(np.float64)
    q1 = np.minimum(q + 1, n)
    rows = (size - r)[:, None, None] * integral[q] + r[:, None, None] * integral[q1]  # (S+1, N+1, 3)
    grid = (size - r)[None, :, None] * rows[:, q] + r[None, :, None] * rows[:, q1]  # (S+1, S+1, 3)
    area = grid[1:, 1:] - grid[:-1, 1:] - grid[1:, :-1] + grid[:-1, :-1]
    return np.floor((2 * area + n * n) / (2 * n * n)).astype(np.uint8)


def letterbox(image_rgb: np.ndarray, size: int = 128) -> tuple[np.ndarray, Letterbox]:
    """Pad an HxWx3 uint8 RGB image to a centred square and resize it to size x size (uint8), as the docstring says."""
    if image_rgb.ndim != 3 or image_rgb.shape[2] != 3 or image_rgb.dtype != np.uint8:
        raise ValueError(f"expected an HxWx3 uint8 RGB image, got {image_rgb.dtype} {image_rgb.shape}")
    h, w = image_rgb.shape[:2]
    block = 2 ** halvings(max(h, w), size)
    side = -(-max(h, w) // block) * block
    left, top = (side - w) // 2 // block * block, (side - h) // 2 // block * block
    image = image_rgb
    if block > 1:
        image = cv2.copyMakeBorder(image, 0, -h % block, 0, -w % block, cv2.BORDER_CONSTANT, value=0)
        while image.shape[0] > -(-h // block):
            image = halve(image)
    small, (y0, x0) = side // block, (top // block, left // block)
    square = cv2.copyMakeBorder(image, y0, small - y0 - image.shape[0], x0, small - x0 - image.shape[1],
                                cv2.BORDER_CONSTANT, value=0)
    resized = square if small == size else area_resize(square, size)
    return resized, Letterbox(width=w, height=h, pad_x=float(left), pad_y=float(top), side=float(side))


def to_nchw(batch_nhwc: np.ndarray) -> np.ndarray:
    """(N, H, W, C) -> contiguous (N, C, H, W)."""
    return np.ascontiguousarray(batch_nhwc.transpose(0, 3, 1, 2))
