"""WIDER FACE loaders: bbx_gt blocks (dummy line, invalid boxes, bad lines) and RetinaFace landmarks."""

from __future__ import annotations

import cv2
import numpy as np

from exporter.data.types import KEYPOINT_NAMES
from exporter.data.wider import load_wider_bbx, load_wider_landmarks, retinaface_keypoints


def _images(root, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), np.zeros((60, 80, 3), dtype=np.uint8))


def test_bbx_gt_blocks(tmp_path) -> None:
    names = ("0--Parade/a.jpg", "0--Parade/empty.jpg", "1--Handshaking/b.jpg", "1--Handshaking/c.jpg")
    _images(tmp_path / "images", *names)
    (tmp_path / "gt.txt").write_text(
        "0--Parade/a.jpg\n3\n"
        "10 10 20 25 0 0 0 0 0 0\n"
        "70 50 20 20 1 0 0 0 1 0\n"  # leaves the image: clipped
        "5 5 10 10 0 0 0 1 0 0\n"  # invalid
        "0--Parade/empty.jpg\n0\n0 0 0 0 0 0 0 0 0 0\n"
        "1--Handshaking/b.jpg\n2\n"
        "1 1 0 9 0 0 0 0 0 0\n"  # zero width
        "1 1 oops 9 0 0 0 0 0 0\n"  # bad line
        "1--Handshaking/missing.jpg\n1\n1 1 5 5 0 0 0 0 0 0\n"
        "1--Handshaking/c.jpg\nmany\n"
        "1 1 5 5 0 0 0 0 0 0\n"  # orphan line after a bad count
    )
    images, report = load_wider_bbx(tmp_path / "gt.txt", tmp_path / "images")
    by_name = {image.path.name: image for image in images}
    assert set(by_name) == {"a.jpg", "empty.jpg"}
    a = by_name["a.jpg"]
    assert (a.width, a.height) == (80, 60)
    np.testing.assert_array_equal(np.stack([f.box for f in a.faces]), [[10, 10, 30, 35], [70, 50, 80, 60]])
    assert all(f.keypoints is None for f in a.faces)
    assert by_name["empty.jpg"].faces == ()  # labelled with no faces: kept, dummy line not counted
    assert report.loaded == 2
    assert report.skipped == {
        "invalid_box": 1, "degenerate_box": 1, "bad_line": 2, "image_without_usable_faces": 1,
        "missing_image": 1, "bad_count_line": 1,
    }


def test_retinaface_landmark_mapping() -> None:
    # image-left eye, image-right eye, nose, image-left mouth corner, image-right mouth corner
    values = [10, 20, 0.0, 30, 21, 0.0, 20, 30, 0.0, 12, 40, 0.0, 28, 42, 0.0]
    keypoints, mask = retinaface_keypoints(values)
    names = dict(zip(KEYPOINT_NAMES, keypoints.tolist()))
    assert names["right_eye"] == [10, 20] and names["left_eye"] == [30, 21]  # subject's right is image-left
    assert names["nose_tip"] == [20, 30] and names["mouth_centre"] == [20, 41]
    assert mask.tolist() == [True, True, True, True, False, False]
    missing_corner = values[:9] + [-1, -1, -1] + values[12:]
    assert retinaface_keypoints(missing_corner)[1].tolist() == [True, True, True, False, False, False]
    assert retinaface_keypoints([-1.0] * 15) is None


def test_label_txt(tmp_path) -> None:
    _images(tmp_path / "images", "0--Parade/a.jpg", "0--Parade/b.jpg")
    (tmp_path / "label.txt").write_text(
        "# 0--Parade/a.jpg\n"
        "10 10 30 30 15.5 20.0 0.0 30.5 20.5 0.0 22.0 28.0 0.0 16.0 34.0 0.0 28.0 36.0 0.0 0.9\n"
        "50 5 10 10 -1.0 -1.0 -1.0 -1.0 -1.0 -1.0 -1.0 -1.0 -1.0 -1.0 -1.0 -1.0 -1.0 -1.0 -1.0 -1.0\n"
        "50 5 10 nan?\n"
        "# 0--Parade/b.jpg\n"
        "1 2 3 4\n"
        "# 0--Parade/gone.jpg\n"
        "1 2 3 4\n"
    )
    images, report = load_wider_landmarks(tmp_path / "label.txt", tmp_path / "images")
    assert [image.path.name for image in images] == ["a.jpg", "b.jpg"]
    first, second = images[0].faces
    np.testing.assert_allclose(first.box, [10, 10, 40, 40])
    np.testing.assert_allclose(first.keypoints[:4], [[15.5, 20.0], [30.5, 20.5], [22.0, 28.0], [22.0, 35.0]])
    assert first.keypoint_mask.tolist() == [True, True, True, True, False, False]
    assert first.keypoints.dtype == np.float32
    assert second.keypoints is None and second.keypoint_mask is None
    assert images[1].faces[0].keypoints is None
    assert report.skipped == {"bad_line": 1, "missing_image": 1}
