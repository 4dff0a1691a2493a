"""The datasets folder: its expected layout, and every source split deterministically (duplicate-safe).

Layout expected under the data root (any part may be missing except utkface/ and negatives/):
  utkface/      UTKFace crops named age_gender_race_date.jpg(.chip.jpg)
  negatives/    face-free images (any sub-folders)
  facemask/     Pascal VOC face boxes (annotations/ + images/)
  videos/       short face videos
  dlib_faces/   dlib's example faces (test data only)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from exporter.data.dlib_faces import load_dlib_faces
from exporter.data.media import list_media
from exporter.data.splits import split_of
from exporter.data.types import LabelledImage, LoadReport
from exporter.data.utkface import UtkRecord, load_utkface, split_utkface
from exporter.data.voc import load_voc, split_voc

VIDEO_VAL_FRACTION = 0.3
DLIB_FILES = ("training.xml", "testing.xml")  # FaceKit never trains on them: both halves are test data here


class DatasetLayoutError(FileNotFoundError):
    """The data root lacks a folder the run needs."""


@dataclass
class DataSplits:
    """Train/val split of every source (val parts are only used for evaluation)."""

    utk_train: list[UtkRecord]
    utk_val: list[UtkRecord]
    scenes_train: list[LabelledImage]
    scenes_val: list[LabelledImage]
    videos_train: list[Path]
    videos_val: list[Path]
    negatives: list[Path]
    reports: list[LoadReport]


def _require(path: Path, what: str) -> Path:
    if not path.exists():
        raise DatasetLayoutError(
            f"{path} not found: expected {what}. Point --data at a folder laid out as "
            "utkface/ (UTKFace crops), negatives/ (face-free images), and optionally facemask/ "
            "(annotations/*.xml + images/) and videos/ (*.mp4); see README 'Data'."
        )
    return path


def load_splits(root: Path) -> DataSplits:
    """Load every source under root and split it deterministically (duplicate-safe)."""
    root = Path(root)
    utk, utk_report = load_utkface(_require(root / "utkface", "UTKFace crops named age_gender_race_date.jpg"))
    utk_train, utk_val = split_utkface(utk)
    reports = [utk_report]
    scenes_train: list[LabelledImage] = []
    scenes_val: list[LabelledImage] = []
    if (root / "facemask").exists():
        scenes, scene_report = load_voc(root / "facemask")
        scenes_train, scenes_val = split_voc(scenes)
        reports.append(scene_report)
    videos = list_media([root / "videos"]) if (root / "videos").exists() else []
    videos_val = [v for v in videos if split_of(v.name, VIDEO_VAL_FRACTION) == "val"]
    videos_train = [v for v in videos if v not in videos_val]
    negatives = list_media([_require(root / "negatives", "a folder of face-free images")])
    return DataSplits(utk_train, utk_val, scenes_train, scenes_val, videos_train, videos_val, negatives, reports)


def dlib_images(root: Path) -> list[LabelledImage]:
    """The dlib example faces (both XML files), or [] when the folder is absent."""
    folder = Path(root) / "dlib_faces"
    images: list[LabelledImage] = []
    for name in DLIB_FILES:
        if (folder / name).is_file():
            images += load_dlib_faces(folder / name)[0]
    return images
