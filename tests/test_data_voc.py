"""Pascal VOC face loader: mask classes, clipping, degenerate boxes, bad files counted, md5 splits."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest

from exporter.data.voc import load_voc, mask_flag, split_voc
from exporter.paths import data_root


def _annotation(filename: str, objects: list[tuple[str, tuple[int, int, int, int]]], size=(40, 30)) -> str:
    items = "".join(
        f"<object><name>{name}</name><bndbox><xmin>{b[0]}</xmin><ymin>{b[1]}</ymin>"
        f"<xmax>{b[2]}</xmax><ymax>{b[3]}</ymax></bndbox></object>"
        for name, b in objects
    )
    size_xml = f"<size><width>{size[0]}</width><height>{size[1]}</height></size>"
    return f"<annotation><filename>{filename}</filename>{size_xml}{items}</annotation>"


@pytest.fixture
def voc_root(tmp_path):
    (tmp_path / "annotations").mkdir()
    (tmp_path / "images").mkdir()
    image = np.zeros((30, 40, 3), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / "images" / "a.jpg"), image)
    cv2.imwrite(str(tmp_path / "images" / "b.jpg"), image + 50)
    shutil.copy(tmp_path / "images" / "b.jpg", tmp_path / "images" / "b_copy.jpg")
    cv2.imwrite(str(tmp_path / "images" / "all_bad.jpg"), image)
    notes = {
        # <filename> names .png but the file on disk is .jpg: matched by stem.
        "a": _annotation("a.png", [("con_mascarilla", (1, 2, 10, 12)), ("sin_mascarilla", (30, 20, 60, 50)),
                                   ("mascarilla_mal_puesta", (5, 5, 5, 9)), ("with_mask", (-4, 0, 3, 3)),
                                   ("person", (0, 0, 8, 8))]),
        "b": _annotation("b.jpg", [("without_mask", (2, 2, 12, 12))]),
        "b_copy": _annotation("b_copy.jpg", [("mask_weared_incorrect", (2, 2, 12, 12))]),
        "all_bad": _annotation("all_bad.jpg", [("face", (45, 0, 50, 5))]),
        "no_image": _annotation("no_image.jpg", [("face", (1, 1, 5, 5))]),
    }
    for stem, text in notes.items():
        (tmp_path / "annotations" / f"{stem}.xml").write_text(text)
    (tmp_path / "annotations" / "broken.xml").write_text("<annotation><filename>a.jpg</filename>")
    return tmp_path


def test_mask_flag_spanish_english_and_unknown() -> None:
    assert mask_flag("con_mascarilla") and mask_flag("mascarilla_mal_puesta") and mask_flag("with_mask")
    assert mask_flag("sin_mascarilla") is False and mask_flag("without_mask") is False and mask_flag("face") is False
    assert mask_flag("mask_weared_incorrect") is True
    assert mask_flag("person") is None


def test_load_voc_clips_drops_and_counts(voc_root) -> None:
    images, report = load_voc(voc_root)
    by_name = {image.path.name: image for image in images}
    assert set(by_name) == {"a.jpg", "b.jpg", "b_copy.jpg"}
    a = by_name["a.jpg"]
    assert (a.width, a.height) == (40, 30)
    boxes = np.stack([face.box for face in a.faces])
    np.testing.assert_array_equal(boxes, [[1, 2, 10, 12], [30, 20, 40, 30], [0, 0, 3, 3], [0, 0, 8, 8]])
    assert boxes.dtype == np.float32
    assert [face.masked for face in a.faces] == [True, False, True, None]
    assert by_name["b.jpg"].faces[0].masked is False and by_name["b_copy.jpg"].faces[0].masked is True
    assert report.loaded == 3
    assert report.skipped == {
        "degenerate_box": 2, "image_without_usable_faces": 1, "missing_image": 1, "unreadable_xml": 1
    }


def test_split_voc_keeps_duplicate_images_together(voc_root) -> None:
    images, _ = load_voc(voc_root)
    for report, select in ((0.1, 0.1), (0.3, 0.2), (0.5, 0.5), (0.7, 0.0), (0.1, 0.8)):
        parts = split_voc(images, report, select)
        assert len(parts.train) + len(parts.select) + len(parts.report) == len(images)
        sides = {side for side in ("train", "select", "report") for image in getattr(parts, side)
                 if image.path.stem.startswith("b")}
        assert len(sides) == 1


def test_missing_annotations_folder_raises(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="annotations"):
        load_voc(tmp_path)


@pytest.mark.needs_data
def test_real_facemask() -> None:
    root = data_root() / "facemask"
    if not root.is_dir():
        pytest.skip(f"face-mask set not found at {root} (set FACEKIT_DATA)")
    images, report = load_voc(root)
    faces = [face for image in images for face in image.faces]
    assert len(images) == 765 and report.loaded == 765
    assert len(faces) > 3000
    masked = sum(face.masked is True for face in faces) / len(faces)
    assert 0.75 < masked < 0.85
    assert all(face.masked is not None for face in faces)
    for image in images:
        for face in image.faces:
            x0, y0, x1, y1 = face.box
            assert 0 <= x0 < x1 <= image.width and 0 <= y0 < y1 <= image.height
    parts = split_voc(images)
    assert 0.15 < len(parts.report) / len(images) < 0.25 and 0.06 < len(parts.select) / len(images) < 0.14
