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


def to_float_input(square_rgb: np.ndarray) -> np.ndarray:
    """uint8 (..., H, W, 3) RGB -> float32 in [-1, 1], same layout (NHWC)."""
    return square_rgb.astype(np.float32) / 127.5 - 1.0


def to_nchw(batch_nhwc: np.ndarray) -> np.ndarray:
    """(N, H, W, C) -> contiguous (N, C, H, W)."""
    return np.ascontiguousarray(batch_nhwc.transpose(0, 3, 1, 2))


def prepare(image_rgb: np.ndarray, size: int = 128) -> tuple[np.ndarray, Letterbox]:
    """One image -> a (1, 3, size, size) float32 NCHW input in [-1, 1] and its letterbox."""
    square, box = letterbox(image_rgb, size)
    return to_nchw(to_float_input(square[None])), box


MAX_PIXELS = 100_000_000  # 100 megapixels (300 MB decoded); larger images and video frames are refused, not decoded
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # start-of-frame markers, which carry the size
_JPEG_EOI, _JPEG_SOS = b"\xff\xd9", 0xDA


def check_pixels(width: int, height: int, source: object) -> None:
    """Raise ValueError when an image or frame of width x height is over MAX_PIXELS."""
    if width * height > MAX_PIXELS:
        raise ValueError(f"{source} is {width}x{height} pixels ({width * height / 1e6:.0f} megapixels), over FaceKit's "
                         f"limit of {MAX_PIXELS / 1e6:.0f} megapixels; shrink it first (e.g. to 4000 pixels a side)")


def _jpeg_segments(head: bytes):
    """(marker, position) of each JPEG header segment up to the first start-of-scan (APP data is skipped whole)."""
    pos = 2
    while pos + 4 <= len(head):
        if head[pos] != 0xFF:
            return
        marker = head[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        yield marker, pos
        if marker == _JPEG_SOS:
            return
        pos += 2 + int.from_bytes(head[pos + 2 : pos + 4], "big")


def header_size(head: bytes) -> tuple[int, int, bool] | None:
    """(width, height, EXIF may rotate it) from a PNG or JPEG header; None for other or unreadable headers."""
    if len(head) >= 24 and head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
        return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big"), False
    if head[:2] != b"\xff\xd8":
        return None
    exif = False
    for marker, pos in _jpeg_segments(head):
        exif |= marker == 0xE1 and head[pos + 4 : pos + 10] == b"Exif\x00\x00"  # an orientation tag may swap the sides
        if marker in _JPEG_SOF and pos + 9 <= len(head):
            return int.from_bytes(head[pos + 7 : pos + 9], "big"), int.from_bytes(head[pos + 5 : pos + 7], "big"), exif
    return None


def jpeg_truncated(data: bytes) -> bool:
    """True for a JPEG whose image data has no end marker (a cut file; OpenCV would fill the rest with grey)."""
    if data[:2] != b"\xff\xd8":
        return False
    scan = next((pos for marker, pos in _jpeg_segments(data) if marker == _JPEG_SOS), None)
    return scan is None or data.find(_JPEG_EOI, scan) < 0  # coded data never holds FF D9: the first after SOS is the end


def read_rgb(path) -> np.ndarray:
    """Read an image file as HxWx3 uint8 RGB; ValueError naming the file if it is unreadable, cut short or too large."""
    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError as e:
        raise ValueError(f"cannot read image {path}: {e.strerror or e}") from None
    size = header_size(data[: 1 << 16].tobytes())
    if size is not None:
        check_pixels(size[0], size[1], f"image {path}")
    if jpeg_truncated(data.tobytes()):
        raise ValueError(f"image {path} is truncated (the JPEG data ends before its end marker); copy it again")
    try:
        image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    except cv2.error as e:  # e.g. OpenCV's own pixel limit for formats whose size is not checked above
        raise ValueError(f"cannot decode image {path}: {e.err or e}") from None
    if image is None:
        raise ValueError(f"cannot decode image {path}: not a readable JPEG/PNG/BMP/WebP file (or a truncated one)")
    check_pixels(image.shape[1], image.shape[0], f"image {path}")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
