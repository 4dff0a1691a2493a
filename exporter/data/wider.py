"""WIDER FACE labels: the official `*_bbx_gt.txt` boxes and RetinaFace's `label.txt` with 5 landmarks."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from exporter.data.media import IMAGE_SUFFIXES, image_size
from exporter.data.types import FaceLabel, LabelledImage, LoadReport, clip_box

# Column of the `invalid` flag in a bbx_gt line: x y w h blur expression illumination invalid occlusion pose.
_INVALID_COLUMN = 7


@dataclass(frozen=True)
class _Entry:
    """One image's face lines as read from a label file, before its size is known."""

    relative: str
    lines: list[list[float]] = field(default_factory=list)


def load_wider_bbx(gt_txt: Path, images_root: Path) -> tuple[list[LabelledImage], LoadReport]:
    """Faces from `wider_face_*_bbx_gt.txt`, skipping invalid and empty boxes; images under images_root."""
    report = LoadReport(source=f"wider bbx {gt_txt}")
    lines = [line.strip() for line in Path(gt_txt).read_text(encoding="utf-8").splitlines()]
    entries: list[_Entry] = []
    pos = 0
    while pos < len(lines):
        name = lines[pos]
        pos += 1
        if not name:
            continue
        if not _is_image_name(name):
            report.skip("bad_line")
            continue
        try:
            count = int(lines[pos]) if pos < len(lines) else -1
        except ValueError:
            count = -1
        if count < 0:
            report.skip("bad_count_line")
            if pos < len(lines) and not _is_image_name(lines[pos]):
                pos += 1
            continue
        pos += 1
        entry = _Entry(name)
        for line in lines[pos : pos + max(count, 1)]:
            if _is_image_name(line):
                break  # a short block: the next image starts here
            pos += 1
            numbers = _numbers(line)
            if numbers is None or len(numbers) < 4:
                report.skip("bad_line")
            elif count == 0 and not any(numbers):
                continue  # the dummy line that follows a count of 0
            elif len(numbers) > _INVALID_COLUMN and numbers[_INVALID_COLUMN] == 1:
                report.skip("invalid_box")
            else:
                entry.lines.append(numbers)
        entries.append(entry)
    return _to_images(entries, Path(images_root), report, landmarks=False)


def load_wider_landmarks(label_txt: Path, images_root: Path) -> tuple[list[LabelledImage], LoadReport]:
    """Faces and 5 landmarks from RetinaFace's `label.txt` (`# path` headers, -1 for missing landmarks)."""
    report = LoadReport(source=f"wider landmarks {label_txt}")
    entries: list[_Entry] = []
    for line in Path(label_txt).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            entries.append(_Entry(line[1:].strip()))
            continue
        numbers = _numbers(line)
        if not entries or numbers is None or len(numbers) < 4:
            report.skip("bad_line")
        else:
            entries[-1].lines.append(numbers)
    return _to_images(entries, Path(images_root), report, landmarks=True)


def retinaface_keypoints(values: list[float]) -> tuple[np.ndarray, np.ndarray] | None:
    """Our 6 keypoints and mask from RetinaFace's 15 values (x y v per landmark); None when none is known."""
    points = np.array(values[:15], dtype=np.float32).reshape(5, 3)[:, :2]
    known = (points >= 0).all(axis=1)
    if not known.any():
        return None
    keypoints = np.zeros((6, 2), dtype=np.float32)
    mask = np.zeros(6, dtype=bool)
    # RetinaFace order: image-left eye, image-right eye, nose, image-left mouth corner, image-right mouth corner.
    # The image-left eye is the subject's right eye (index 0 in our order).
    for ours, theirs in ((0, 0), (1, 1), (2, 2)):
        keypoints[ours], mask[ours] = points[theirs], known[theirs]
    if known[3] and known[4]:
        keypoints[3], mask[3] = (points[3] + points[4]) / 2.0, True
    return keypoints, mask


def _to_images(
    entries: list[_Entry], images_root: Path, report: LoadReport, landmarks: bool
) -> tuple[list[LabelledImage], LoadReport]:
    """Build LabelledImages: read sizes, clip boxes, drop empty ones, count missing images."""
    images: list[LabelledImage] = []
    for entry in entries:
        path = images_root / entry.relative
        try:
            width, height = image_size(path)
        except (OSError, ValueError):
            report.skip("missing_image" if not path.is_file() else "unreadable_image")
            continue
        faces: list[FaceLabel] = []
        for numbers in entry.lines:
            x, y, w, h = numbers[:4]
            box = clip_box(x, y, x + w, y + h, width, height) if w > 0 and h > 0 else None
            if box is None:
                report.skip("degenerate_box")
                continue
            points = retinaface_keypoints(numbers[4:19]) if landmarks and len(numbers) >= 19 else None
            keypoints, mask = points if points is not None else (None, None)
            faces.append(FaceLabel(box=box, keypoints=keypoints, keypoint_mask=mask))
        if entry.lines and not faces:
            report.skip("image_without_usable_faces")
            continue
        images.append(LabelledImage(path, width, height, tuple(faces)))
    report.loaded = len(images)
    return images, report


def _numbers(line: str) -> list[float] | None:
    """The whitespace-separated numbers of a line, or None if any is not a number."""
    try:
        return [float(token) for token in line.split()]
    except ValueError:
        return None


def _is_image_name(line: str) -> bool:
    """True for a line naming an image file (a WIDER bbx_gt header line)."""
    return line.lower().endswith(IMAGE_SUFFIXES)
