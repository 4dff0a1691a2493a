"""Unlabelled media: listing files and folders, image sizes from headers, frame iteration."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from exporter.data.media import image_size, iter_frames, list_media
from exporter.paths import data_root


def _video(path, frames: int = 5) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (32, 24))
    assert writer.isOpened()
    for i in range(frames):
        frame = np.zeros((24, 32, 3), dtype=np.uint8)
        frame[..., 2] = 40 * i  # red in BGR grows with the frame index
        writer.write(frame)
    writer.release()


def test_list_media_recursive_sorted_and_errors(tmp_path) -> None:
    (tmp_path / "sub").mkdir()
    for name in ("b.jpg", "sub/a.PNG", "sub/c.mp4"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("x")
    found = list_media([tmp_path, tmp_path / "b.jpg"])
    assert found == sorted([tmp_path / "b.jpg", tmp_path / "sub" / "a.PNG", tmp_path / "sub" / "c.mp4"])
    with pytest.raises(FileNotFoundError, match="nowhere"):
        list_media([tmp_path / "nowhere"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="empty"):
        list_media([tmp_path / "empty"])
    with pytest.raises(ValueError, match="notes.txt"):
        list_media([tmp_path / "notes.txt"])


def test_iter_frames_video_every_and_max(tmp_path) -> None:
    path = tmp_path / "clip.avi"
    _video(path)
    frames = list(iter_frames(path))
    assert [i for i, _ in frames] == [0, 1, 2, 3, 4]
    assert all(f.shape == (24, 32, 3) and f.dtype == np.uint8 for _, f in frames)
    reds = [int(f[..., 0].mean()) for _, f in frames]  # RGB order: red is channel 0
    assert all(abs(r - 40 * i) <= 6 for i, r in enumerate(reds))
    assert all(int(f[..., 2].mean()) <= 6 for _, f in frames)
    assert [i for i, _ in iter_frames(path, every=2)] == [0, 2, 4]
    assert [i for i, _ in iter_frames(path, every=2, max_frames=2)] == [0, 2]


def test_iter_frames_image_and_errors(tmp_path) -> None:
    image = np.zeros((6, 9, 3), dtype=np.uint8)
    image[..., 0] = 255  # blue in BGR
    cv2.imwrite(str(tmp_path / "blue.png"), image)
    [(index, rgb)] = list(iter_frames(tmp_path / "blue.png"))
    assert index == 0 and rgb.shape == (6, 9, 3) and rgb[0, 0].tolist() == [0, 0, 255]
    (tmp_path / "broken.mp4").write_bytes(b"not a video")
    with pytest.raises(ValueError, match="broken.mp4"):
        list(iter_frames(tmp_path / "broken.mp4"))
    with pytest.raises(ValueError, match="every"):
        list(iter_frames(tmp_path / "blue.png", every=0))


def test_image_size_from_headers_and_fallback(tmp_path) -> None:
    for name in ("a.jpg", "a.png", "a.bmp"):
        cv2.imwrite(str(tmp_path / name), np.zeros((13, 21, 3), dtype=np.uint8))
        assert image_size(tmp_path / name) == (21, 13)
    (tmp_path / "bad.jpg").write_bytes(b"\xff\xd8garbage")
    with pytest.raises(ValueError, match="bad.jpg"):
        image_size(tmp_path / "bad.jpg")


@pytest.mark.needs_data
def test_real_videos_decode() -> None:
    folder = data_root() / "videos"
    if not folder.is_dir():
        pytest.skip(f"videos not found at {folder} (set FACEKIT_DATA)")
    videos = list_media([folder])
    assert len(videos) == 18
    index, frame = next(iter_frames(videos[0], every=5, max_frames=1))
    assert index == 0 and frame.ndim == 3 and frame.shape[2] == 3
