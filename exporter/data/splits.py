"""Deterministic three-way splits (train / select / report): each item's side depends only on its group key.

`select` chooses the checkpoint and thresholds during training; `report` is only scored (model card, README),
never looked at while training. An item's position is sha1(salt + key) mapped to [0, 1): below
report_fraction it is report, below report_fraction + select_fraction select, else train. So growing the
select part never moves an item out of report.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, Literal, TypeVar

T = TypeVar("T")
Side = Literal["train", "select", "report"]


def split_of(key: str, report_fraction: float, select_fraction: float = 0.0, salt: str = "facekit") -> Side:
    """The side of one group key: 'report', 'select' or 'train' (see the module docstring)."""
    if not (0.0 <= report_fraction <= 1.0 and 0.0 <= select_fraction <= 1.0 - report_fraction):
        raise ValueError(
            f"report_fraction and select_fraction must be in [0, 1] and sum to at most 1, got "
            f"{report_fraction} and {select_fraction}"
        )
    digest = hashlib.sha1((salt + key).encode("utf-8")).digest()
    position = int.from_bytes(digest[:8], "big") / 2.0**64
    if position < report_fraction:
        return "report"
    return "select" if position < report_fraction + select_fraction else "train"


@dataclass
class ThreeWay(Generic[T]):
    """Items of one source on each side, in input order."""

    train: list[T]
    select: list[T]
    report: list[T]


def split_by_key(
    items: Iterable[T], key: Callable[[T], str], report_fraction: float, select_fraction: float = 0.0,
    salt: str = "facekit",
) -> ThreeWay[T]:
    """Split items by their group key (duplicates share a key, so they share a side), keeping input order."""
    out: ThreeWay[T] = ThreeWay([], [], [])
    for item in items:
        getattr(out, split_of(key(item), report_fraction, select_fraction, salt)).append(item)
    return out


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
