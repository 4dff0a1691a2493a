"""dlib imglab XML loader: boxes, 68-part landmarks to our 6 keypoints, ignored and missing entries."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from exporter.data.dlib_faces import ibug_keypoints, load_dlib_faces
from exporter.paths import data_root


def _parts() -> dict[int, tuple[float, float]]:
    parts = {i: (float(i), 100.0 + i) for i in range(68)}
    parts[36], parts[39] = (10.0, 20.0), (20.0, 20.0)  # mean of 36-41 is shifted by these
    return parts


def test_ibug_keypoints_means_and_parts() -> None:
    parts = _parts()
    keypoints = ibug_keypoints(parts)
    right_eye = np.mean([parts[i] for i in range(36, 42)], axis=0)
    np.testing.assert_allclose(keypoints[0], right_eye, rtol=1e-6)
    np.testing.assert_allclose(keypoints[1], np.mean([parts[i] for i in range(42, 48)], axis=0), rtol=1e-6)
    np.testing.assert_allclose(keypoints[2:], [parts[30], [51.0, 151.0], parts[0], parts[16]])
    del parts[54]
    assert ibug_keypoints(parts) is None


def test_load_dlib_xml(tmp_path) -> None:
    (tmp_path / "imgs").mkdir()
    cv2.imwrite(str(tmp_path / "imgs" / "one.jpg"), np.zeros((50, 70, 3), dtype=np.uint8))
    cv2.imwrite(str(tmp_path / "two.png"), np.zeros((40, 30, 3), dtype=np.uint8))
    part_xml = "".join(f"<part name='{i:02d}' x='{x:g}' y='{y:g}'/>" for i, (x, y) in _parts().items())
    (tmp_path / "faces.xml").write_text(
        "<?xml version='1.0' encoding='ISO-8859-1'?><dataset><images>"
        "<image file='imgs/one.jpg' width='70' height='50'>"
        f"<box top='5' left='6' width='20' height='22'>{part_xml}</box>"
        "<box top='40' left='60' width='30' height='30'/>"
        "<box top='1' left='1' width='5' height='5' ignore='1'/></image>"
        "<image file='two.png'><box top='1' left='2' width='10' height='10'/></image>"
        "<image file='gone.jpg'><box top='1' left='2' width='10' height='10'/></image>"
        "<image file='imgs/one.jpg'><box top='x' left='2' width='10' height='10'/></image>"
        "<image file='two.png'/>"
        "</images></dataset>"
    )
    images, report = load_dlib_faces(tmp_path / "faces.xml")
    assert [(i.path.name, i.width, i.height, len(i.faces)) for i in images] == [
        ("one.jpg", 70, 50, 2), ("two.png", 30, 40, 1), ("two.png", 30, 40, 0)
    ]
    with_parts, clipped = images[0].faces
    np.testing.assert_array_equal(with_parts.box, [6, 5, 26, 27])
    np.testing.assert_array_equal(clipped.box, [60, 40, 70, 50])
    assert with_parts.keypoints.shape == (6, 2) and with_parts.keypoint_mask.all()
    assert clipped.keypoints is None and clipped.keypoint_mask is None
    assert report.skipped == {"ignored_box": 1, "missing_image": 1, "bad_box": 1, "image_without_usable_faces": 1}


def test_unparsable_xml_raises(tmp_path) -> None:
    (tmp_path / "bad.xml").write_text("<dataset><images>")
    with pytest.raises(ValueError, match="bad.xml"):
        load_dlib_faces(tmp_path / "bad.xml")


@pytest.mark.needs_data
def test_real_dlib_faces() -> None:
    folder = data_root() / "dlib_faces"
    if not folder.is_dir():
        pytest.skip(f"dlib example faces not found at {folder} (set FACEKIT_DATA)")
    images, report = load_dlib_faces(folder / "testing_with_face_landmarks.xml")
    faces = [face for image in images for face in image.faces]
    assert len(images) == 5 and len(faces) == 25 and not report.skipped
    for face in faces:
        x0, y0, x1, y1 = face.box
        right_eye, left_eye, nose, mouth = face.keypoints[:4]
        assert right_eye[0] < left_eye[0]  # subject's right eye is on the image left (frontal faces)
        assert max(right_eye[1], left_eye[1]) < nose[1] < mouth[1]
        assert x0 - 5 <= nose[0] <= x1 + 5 and y0 - 5 <= nose[1] <= y1 + 5
    plain, _ = load_dlib_faces(folder / "training.xml")
    assert sum(len(i.faces) for i in plain) == 18
    assert all(f.keypoints is None for i in plain for f in i.faces)
