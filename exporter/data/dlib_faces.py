"""dlib imglab XML: face boxes (top/left/width/height) with optional 68 iBUG-300W landmarks."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from exporter.data.media import image_size
from exporter.data.types import FaceLabel, LabelledImage, LoadReport, clip_box

# Our 6 keypoints as the mean of these iBUG-300W parts (ears approximated by the jaw-line ends 0 and 16).
IBUG_TO_KEYPOINTS = (tuple(range(36, 42)), tuple(range(42, 48)), (30,), (48, 54), (0,), (16,))


def load_dlib_faces(xml_path: Path) -> tuple[list[LabelledImage], LoadReport]:
    """Faces of a dlib imglab XML; image paths are relative to the XML's folder; ignored boxes skipped."""
    xml_path = Path(xml_path)
    report = LoadReport(source=f"dlib {xml_path}")
    try:
        dataset = ET.parse(xml_path).getroot()
    except ET.ParseError as error:
        raise ValueError(f"cannot parse dlib XML {xml_path}: {error}") from error
    images: list[LabelledImage] = []
    for node in dataset.iter("image"):
        path = xml_path.parent / (node.get("file") or "")
        try:
            width, height = _size(node, path)
        except (OSError, ValueError):
            report.skip("missing_image" if not path.is_file() else "unreadable_image")
            continue
        boxes = node.findall("box")
        faces = tuple(face for box in boxes if (face := _face(box, width, height, report)) is not None)
        if boxes and not faces:
            report.skip("image_without_usable_faces")
            continue
        images.append(LabelledImage(path, width, height, faces))
    report.loaded = len(images)
    return images, report


def ibug_keypoints(parts: dict[int, tuple[float, float]]) -> np.ndarray | None:
    """(6, 2) float32 keypoints from 68 iBUG parts, or None if any part they need is missing."""
    if not all(i in parts for group in IBUG_TO_KEYPOINTS for i in group):
        return None
    return np.array([np.mean([parts[i] for i in group], axis=0) for group in IBUG_TO_KEYPOINTS], dtype=np.float32)


def _size(node: ET.Element, path: Path) -> tuple[int, int]:
    """(width, height) from the XML attributes when given, else from the image file."""
    width, height = int(node.get("width", 0)), int(node.get("height", 0))
    if not path.is_file():
        raise FileNotFoundError(path)
    return (width, height) if width > 0 and height > 0 else image_size(path)


def _face(box: ET.Element, width: int, height: int, report: LoadReport) -> FaceLabel | None:
    """One face from a <box>, or None (counted) when ignored, malformed or degenerate."""
    if box.get("ignore") == "1":
        report.skip("ignored_box")
        return None
    try:
        left, top = float(box.get("left", "")), float(box.get("top", ""))
        right, bottom = left + float(box.get("width", "")), top + float(box.get("height", ""))
        clipped = clip_box(left, top, right, bottom, width, height)
        parts = {int(p.get("name", "")): (float(p.get("x", "")), float(p.get("y", ""))) for p in box.findall("part")}
    except ValueError:
        report.skip("bad_box")
        return None
    if clipped is None:
        report.skip("degenerate_box")
        return None
    keypoints = ibug_keypoints(parts) if parts else None
    mask = np.ones(6, dtype=bool) if keypoints is not None else None
    return FaceLabel(box=clipped, keypoints=keypoints, keypoint_mask=mask)
