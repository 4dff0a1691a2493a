"""Disk cache of teacher outputs keyed by file content, and BlazeFace pseudo-labels for image files.

Layout: `<root>/<teacher_id>/<sha1[:2]>/<sha1>[-f<frame>].json`, where sha1 is of the image file's
bytes, so renaming or moving a file keeps its labels and editing it invalidates them. Every write
is atomic (temp file + os.replace).
"""

from __future__ import annotations

import hashlib
import re
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from tqdm import tqdm

from exporter.jsonio import KB, JsonFileError, load_json, write_json
from exporter.paths import cache_root
from exporter.postprocess import NUM_KEYPOINTS, DecodeConfig, Face
from exporter.image_io import read_rgb
from exporter.teachers import BlazeFaceTeacher

_SAFE_ID = re.compile(r"^[A-Za-z0-9._=-]+$")
_CHUNK = 1 << 20
MAX_ENTRY_BYTES = 256 * KB  # one image's or frame's teacher output is a few KB
T = TypeVar("T")


def _as_is(stored: Any) -> Any:
    """The stored result unchanged."""
    return stored


def content_sha1(source: bytes | Path) -> str:
    """Hex sha1 of raw bytes or of a file's bytes."""
    if isinstance(source, bytes):
        return hashlib.sha1(source).hexdigest()
    digest = hashlib.sha1()
    with open(source, "rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


class PseudoLabelCache:
    """One JSON file of teacher output per (content sha1 [+ frame index]), under a folder per teacher_id."""

    def __init__(self, teacher_id: str, root: Path | None = None) -> None:
        if not _SAFE_ID.match(teacher_id):
            raise ValueError(
                f"teacher_id {teacher_id!r} must use only letters, digits and . _ = - "
                "(it names a folder); encode settings like 'score=0.5'"
            )
        self.teacher_id = teacher_id
        self.folder = Path(root if root is not None else cache_root() / "pseudo_labels") / teacher_id

    def path_for(self, key: bytes | str | Path, frame: int | None = None) -> Path:
        """Cache file for image bytes or an image file (and a video frame index)."""
        digest = content_sha1(key if isinstance(key, bytes) else Path(key))
        name = digest if frame is None else f"{digest}-f{int(frame)}"
        return self.folder / digest[:2] / f"{name}.json"

    def get_or_compute(self, key: bytes | str | Path, compute: Callable[[], dict], frame: int | None = None,
                       parse: Callable[[Any], T] = _as_is) -> T:
        """parse(stored result) for this content if present and well-formed, else compute(), store it atomically
        and return parse(it). A damaged or wrong-shape entry (parse raises) is rebuilt, never fatal."""
        path = self.path_for(key, frame)
        try:
            return parse(load_json(path, max_bytes=MAX_ENTRY_BYTES, what="pseudo-label cache entry"))
        except (JsonFileError, KeyError, TypeError, ValueError, IndexError, AttributeError):
            pass  # missing, damaged or of another shape: rebuild it
        result = compute()
        write_json(path, result, indent=None)
        return parse(result)


def _faces(stored: dict) -> list[Face]:
    """The faces of a stored BlazeFace result; ValueError when any has the wrong shape."""
    faces = [Face.from_dict(face) for face in stored["faces"]]
    for face in faces:
        if face.box.shape != (4,) or face.keypoints.shape != (NUM_KEYPOINTS, 2) or not np.isfinite(face.box).all():
            raise ValueError("stored face of the wrong shape")
    return faces


def blazeface_teacher_id(teacher: BlazeFaceTeacher, config: DecodeConfig = DecodeConfig()) -> str:
    """Cache identity of a BlazeFace teacher run: model sha256, variant and decode thresholds."""
    return f"{teacher.teacher_id}-score={config.score_threshold:g}-iou={config.iou_threshold:g}"


def blazeface_labels(
    paths: Iterable[str | Path],
    teacher: BlazeFaceTeacher,
    cache: PseudoLabelCache | None = None,
    config: DecodeConfig = DecodeConfig(),
    progress: bool = True,
) -> dict[Path, list[Face]]:
    """Faces (image pixels) found by the teacher in each readable image; unreadable files are skipped with a warning."""
    expected_id = blazeface_teacher_id(teacher, config)
    cache = cache if cache is not None else PseudoLabelCache(expected_id)
    if cache.teacher_id != expected_id:
        raise ValueError(
            f"cache is for {cache.teacher_id!r} but this run is {expected_id!r}; "
            "build it with PseudoLabelCache(blazeface_teacher_id(teacher, config))"
        )
    labels: dict[Path, list[Face]] = {}
    skipped: list[str] = []
    bar = tqdm([Path(p) for p in paths], desc=f"BlazeFace {teacher.variant} labels", unit="img", disable=not progress)
    for path in bar:
        try:
            labels[path] = cache.get_or_compute(
                path, lambda: {"faces": [face.to_dict() for face in teacher.detect(read_rgb(path), config)]}, parse=_faces
            )
        except (OSError, ValueError) as error:
            skipped.append(f"{path} ({error})")
            bar.set_postfix(skipped=len(skipped))
    if skipped:
        warnings.warn(
            f"skipped {len(skipped)} unreadable of {len(skipped) + len(labels)} files; fix or remove them: "
            + "; ".join(skipped[:5])
            + (" ..." if len(skipped) > 5 else ""),
            stacklevel=2,
        )
    return labels
