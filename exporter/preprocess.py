"""Image to model input: letterbox to a square, resize, scale to [-1, 1]; and back to image coordinates.

This is the reference the Android and iOS apps port: pad the shorter side equally on both sides with
black, resize to `size` (area averaging when shrinking, bilinear when enlarging), then
(x / 127.5) - 1 in RGB order. A square of side at least 4 x size is first halved n times with 2x2
block means (rounded), n = floor(log2(side / (2 * size))): for that the square's side is a multiple of
2^n and the image sits at offsets that are multiples of 2^n, so only the image itself is averaged and
the small result padded. That keeps the area resize off the full-size square (`make bench`'s "pre"
column: 0.85 ms for a 910x1137 photo, 3.8 ms before), and the result is still an anti-aliased average.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

LETTERBOX_VERSION = 2  # bump when letterbox() gives other pixels: teacher pseudo-label caches key on it


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


def letterbox(image_rgb: np.ndarray, size: int = 128) -> tuple[np.ndarray, Letterbox]:
    """Pad an HxWx3 uint8 RGB image to a centred square and resize it to size x size (uint8)."""
    if image_rgb.ndim != 3 or image_rgb.shape[2] != 3:
        raise ValueError(f"expected an HxWx3 RGB image, got shape {image_rgb.shape}")
    h, w = image_rgb.shape[:2]
    halvings = max(int(np.floor(np.log2(max(h, w) / (2 * size)))), 0)
    block = 2**halvings
    side = -(-max(h, w) // block) * block
    left, top = (side - w) // 2 // block * block, (side - h) // 2 // block * block
    image = image_rgb
    if halvings:
        image = cv2.copyMakeBorder(image, 0, -h % block, 0, -w % block, cv2.BORDER_CONSTANT, value=0)
        for _ in range(halvings):  # an exact 2x2 block mean (OpenCV's area resize by 2), rounded
            image = cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2), interpolation=cv2.INTER_AREA)
    small, (y0, x0) = side // block, (top // block, left // block)
    square = cv2.copyMakeBorder(image, y0, small - y0 - image.shape[0], x0, small - x0 - image.shape[1],
                                cv2.BORDER_CONSTANT, value=0)
    interp = cv2.INTER_AREA if small > size else cv2.INTER_LINEAR
    resized = cv2.resize(square, (size, size), interpolation=interp)
    return resized, Letterbox(width=w, height=h, pad_x=float(left), pad_y=float(top), side=float(side))


def to_nchw(batch_nhwc: np.ndarray) -> np.ndarray:
    """(N, H, W, C) -> contiguous (N, C, H, W)."""
    return np.ascontiguousarray(batch_nhwc.transpose(0, 3, 1, 2))


def read_rgb(path) -> np.ndarray:
    """Read an image file as HxWx3 uint8 RGB; raise ValueError naming the file if it cannot be decoded."""
    data = np.fromfile(str(path), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise ValueError(f"cannot decode image {path}: not a readable JPEG/PNG/BMP/WebP file")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
