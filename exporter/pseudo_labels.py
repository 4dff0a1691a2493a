"""Disk cache of teacher outputs keyed by file content (training reads teacher pseudo-labels through it).

Layout: `<root>/<teacher_id>/<sha1[:2]>/<sha1>[-f<frame>].json`, where sha1 is of the image file's
bytes, so renaming or moving a file keeps its labels and editing it invalidates them. Every write
is atomic (temp file + os.replace).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from exporter.jsonio import KB, JsonFileError, load_json, write_json
from exporter.paths import cache_root

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
