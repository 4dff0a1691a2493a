"""Pascal VOC face boxes (annotations/*.xml + images/), as in the Kaggle face-mask set."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from exporter.data.media import IMAGE_SUFFIXES, image_size
from exporter.data.splits import ThreeWay, file_md5, split_by_key
from exporter.data.types import FaceLabel, LabelledImage, LoadReport, clip_box

MASKED_CLASSES = frozenset({"con_mascarilla", "mascarilla_mal_puesta", "with_mask", "mask_weared_incorrect"})
UNMASKED_CLASSES = frozenset({"sin_mascarilla", "without_mask", "face"})


def mask_flag(class_name: str) -> bool | None:
    """Whether a face of this class wears a mask (incorrectly worn counts); None for unknown classes."""
    name = class_name.strip().lower()
    if name in MASKED_CLASSES:
        return True
    if name in UNMASKED_CLASSES:
        return False
    return None


def load_voc(root: Path) -> tuple[list[LabelledImage], LoadReport]:
    """Every object in root/annotations/*.xml as a face, matched to root/images/ by file stem."""
    root = Path(root)
    annotations = root / "annotations"
    if not annotations.is_dir():
        raise FileNotFoundError(f"no {annotations}: expected a VOC folder with annotations/*.xml and images/")
    images_dir = root / "images"
    files = sorted(images_dir.iterdir()) if images_dir.is_dir() else []
    by_stem = {p.stem: p for p in files if p.suffix.lower() in IMAGE_SUFFIXES}
    report = LoadReport(source=f"voc {root}")
    images: list[LabelledImage] = []
    for xml_path in sorted(annotations.glob("*.xml")):
        try:
            tree = ET.parse(xml_path).getroot()
        except ET.ParseError:
            report.skip("unreadable_xml")
            continue
        stem = Path(tree.findtext("filename") or xml_path.name).stem
        image_path = by_stem.get(stem) or by_stem.get(xml_path.stem)
        if image_path is None:
            report.skip("missing_image")
            continue
        try:
            width, height = _size(tree, image_path)
        except ValueError:
            report.skip("unreadable_image")
            continue
        faces = _faces(tree, width, height, report)
        if faces is None:
            continue
        images.append(LabelledImage(image_path, width, height, faces))
    report.loaded = len(images)
    return images, report


VOC_REPORT_FRACTION = 0.2  # the same photos as the former two-way validation split
VOC_SELECT_FRACTION = 0.1


def split_voc(
    images: list[LabelledImage], report_fraction: float = VOC_REPORT_FRACTION, select_fraction: float = VOC_SELECT_FRACTION
) -> ThreeWay[LabelledImage]:
    """Train / select / report grouped by image file md5, so duplicate photos never straddle the split."""
    return split_by_key(images, lambda image: file_md5(image.path), report_fraction, select_fraction, salt="facekit-voc")


def _size(tree: ET.Element, image_path: Path) -> tuple[int, int]:
    """(width, height) from <size>, or from the image file when <size> is absent or zero."""
    try:
        width, height = int(tree.findtext("size/width") or 0), int(tree.findtext("size/height") or 0)
    except ValueError:
        width = height = 0
    return (width, height) if width > 0 and height > 0 else image_size(image_path)


def _faces(tree: ET.Element, width: int, height: int, report: LoadReport) -> tuple[FaceLabel, ...] | None:
    """Clipped faces of one annotation; None (and counted) when it had objects but none usable."""
    objects = tree.findall("object")
    faces: list[FaceLabel] = []
    for obj in objects:
        try:
            coords = [float(obj.findtext(f"bndbox/{k}") or "") for k in ("xmin", "ymin", "xmax", "ymax")]
        except ValueError:
            report.skip("bad_box")
            continue
        box = clip_box(*coords, width, height)
        if box is None:
            report.skip("degenerate_box")
            continue
        faces.append(FaceLabel(box=box, masked=mask_flag(obj.findtext("name") or "")))
    if objects and not faces:
        report.skip("image_without_usable_faces")
        return None
    return tuple(faces)
