"""Unlabelled media: find image and video files, read image sizes, iterate RGB frames."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np

from exporter.image_io import check_pixels, header_size, read_rgb

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v")
_MEDIA_SUFFIXES = IMAGE_SUFFIXES + VIDEO_SUFFIXES


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


class VideoCutShort(ValueError):
    """A video that ended before the frame count its header declares (a truncated or damaged file)."""

    def __init__(self, path: Path, read: int, declared: int):
        super().__init__(f"video {path} ended after {read} of the {declared} frames its header declares "
                         "(a truncated or damaged file?); copy it again")
        self.read, self.declared = read, declared


def iter_frames(path: Path, every: int = 1, max_frames: int | None = None,
                complete: bool = False) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (frame index, HxWx3 uint8 RGB) for every `every`-th video frame, or (0, image) for an image.

    complete=True: after the last frame, raise VideoCutShort when fewer frames were read than the header declares.
    """
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
        width, height = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        check_pixels(width, height, f"video {path}")
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
        declared = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        if complete and max_frames is None and index < declared:
            raise VideoCutShort(path, index, declared)
    finally:
        capture.release()


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) of an image as read_rgb would return it: from the header when safe, else by decoding."""
    with open(path, "rb") as handle:
        head = handle.read(1 << 16)
    size = header_size(head)
    if size is None or size[2]:  # EXIF orientation may swap width and height when decoded
        height, width = read_rgb(path).shape[:2]
        return width, height
    return size[0], size[1]
