"""Deterministic train/val splits: each item's side depends only on its group key, never on order."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Literal, TypeVar

T = TypeVar("T")


def split_of(key: str, val_fraction: float, salt: str = "facekit") -> Literal["train", "val"]:
    """'val' when sha1(salt + key) mapped to [0, 1) falls below val_fraction, else 'train'."""
    if not 0.0 <= val_fraction <= 1.0:
        raise ValueError(f"val_fraction must be in [0, 1], got {val_fraction}")
    digest = hashlib.sha1((salt + key).encode("utf-8")).digest()
    position = int.from_bytes(digest[:8], "big") / 2.0**64
    return "val" if position < val_fraction else "train"


def split_by_key(
    items: Iterable[T], key: Callable[[T], str], val_fraction: float, salt: str = "facekit"
) -> tuple[list[T], list[T]]:
    """Split items into (train, val) by their group key, keeping input order within each side."""
    train: list[T] = []
    val: list[T] = []
    for item in items:
        (val if split_of(key(item), val_fraction, salt) == "val" else train).append(item)
    return train, val


def file_md5(path: Path) -> str:
    """Hex md5 of a file's bytes: the group key that keeps byte-identical files on one side."""
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def evenly(items: list[T], count: int | None) -> list[T]:
    """`count` items spread evenly over the list, in order (all of them when count is None or large)."""
    if count is None or len(items) <= count:
        return list(items)
    step = len(items) / count
    return [items[int(i * step)] for i in range(count)]
