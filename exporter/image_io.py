"""Reading image files safely: a pixel limit checked from the header before decoding, truncated JPEGs refused."""

from __future__ import annotations

import cv2
import numpy as np

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
