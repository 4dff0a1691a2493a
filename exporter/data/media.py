"""Unlabelled media: find image and video files, read image sizes, iterate RGB frames."""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np

from exporter.preprocess import read_rgb

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v")
_MEDIA_SUFFIXES = IMAGE_SUFFIXES + VIDEO_SUFFIXES
# JPEG start-of-frame markers (SOF0-SOF15 less DHT, JPG and DAC), which carry the frame size.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def is_video(path: Path) -> bool:
    """True when the file name has a video suffix."""
    return path.suffix.lower() in VIDEO_SUFFIXES


def list_media(paths: Sequence[Path]) -> list[Path]:
    """Image and video files in the given files and folders (recursive), sorted and de-duplicated."""
    found: set[Path] = set()
    for path in map(Path, paths):
        if not path.exists():
            raise FileNotFoundError(f"no such file or folder: {path}")
        if path.is_file():
            if path.suffix.lower() not in _MEDIA_SUFFIXES:
                raise ValueError(f"{path} is not an image or video (expected one of {', '.join(_MEDIA_SUFFIXES)})")
            found.add(path)
            continue
        inside = {p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in _MEDIA_SUFFIXES}
        if not inside:
            raise FileNotFoundError(f"{path} holds no image or video files ({', '.join(_MEDIA_SUFFIXES)})")
        found |= inside
    return sorted(found)


def iter_frames(path: Path, every: int = 1, max_frames: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (frame index, HxWx3 uint8 RGB) for every `every`-th video frame, or (0, image) for an image."""
    if every < 1:
        raise ValueError(f"every must be at least 1, got {every}")
    if max_frames is not None and max_frames < 1:
        raise ValueError(f"max_frames must be at least 1 or None, got {max_frames}")
    path = Path(path)
    if not is_video(path):
        yield 0, read_rgb(path)
        return
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise ValueError(f"cannot open video {path}: missing, unreadable or an unsupported codec")
        index = yielded = 0
        while max_frames is None or yielded < max_frames:
            if not capture.grab():
                break
            if index % every == 0:
                ok, frame = capture.retrieve()
                if not ok:
                    raise ValueError(f"cannot decode frame {index} of video {path}")
                yield index, cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
                yielded += 1
            index += 1
        if index == 0:
            raise ValueError(f"video {path} opened but no frame could be read")
    finally:
        capture.release()


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) of an image as read_rgb would return it: from the header when safe, else by decoding."""
    with open(path, "rb") as handle:
        head = handle.read(1 << 16)
    size = _png_size(head) or _jpeg_size(head)
    if size is None:
        height, width = read_rgb(path).shape[:2]
        return width, height
    return size


def _png_size(head: bytes) -> tuple[int, int] | None:
    """Size from a PNG IHDR chunk, or None if this is not a PNG."""
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def _jpeg_size(head: bytes) -> tuple[int, int] | None:
    """Size from a JPEG start-of-frame; None if not a JPEG, not found, or EXIF may rotate it."""
    if head[:2] != b"\xff\xd8":
        return None
    pos = 2
    while pos + 9 <= len(head):
        if head[pos] != 0xFF:
            return None
        marker = head[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        length = struct.unpack(">H", head[pos + 2 : pos + 4])[0]
        if marker == 0xE1 and head[pos + 4 : pos + 10] == b"Exif\x00\x00":
            return None  # an orientation tag may swap width and height when decoded
        if marker in _JPEG_SOF:
            height, width = struct.unpack(">HH", head[pos + 5 : pos + 9])
            return width, height
        pos += 2 + length
    return None
