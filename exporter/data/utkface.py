"""UTKFace face crops: age, gender and race parsed from `[age]_[gender]_[race]_[datetime].jpg(.chip.jpg)` names."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from exporter.data.media import IMAGE_SUFFIXES
from exporter.data.splits import ThreeWay, file_md5, split_by_key
from exporter.data.types import LoadReport

MIN_AGE, MAX_AGE = 1, 116
LAYOUT = "a folder of UTKFace images named [age]_[gender]_[race]_[datetime].jpg(.chip.jpg), directly or in images/"


@dataclass(frozen=True)
class UtkRecord:
    """One UTKFace crop and its labels (gender 0 male, 1 female; race 0-4 or None when not given)."""

    path: Path
    age: int
    gender: int
    race: int | None
    md5: str


@dataclass(frozen=True)
class NameLabels:
    """Labels parsed from a file name."""

    age: int
    gender: int
    race: int | None


def parse_name(name: str) -> NameLabels | str:
    """Labels from a UTKFace file name, or the reason the name is malformed."""
    fields = name.split(".", 1)[0].split("_")
    if len(fields) != 4:
        return "wrong_field_count"
    try:
        age, gender = int(fields[0]), int(fields[1])
    except ValueError:
        return "non_integer_label"
    if gender not in (0, 1):
        return "bad_gender"
    if not MIN_AGE <= age <= MAX_AGE:
        return "age_out_of_range"
    race = int(fields[2]) if fields[2].isdigit() and int(fields[2]) <= 4 else None
    return NameLabels(age, gender, race)


def load_utkface(root: Path) -> tuple[list[UtkRecord], LoadReport]:
    """UTKFace records under root (or root/images), using labels.csv for md5s when present."""
    root = Path(root)
    image_dir = root / "images" if (root / "images").is_dir() else root
    if not image_dir.is_dir():
        raise FileNotFoundError(f"UTKFace folder {root} does not exist; expected {LAYOUT}")
    report = LoadReport(source=f"utkface {root}")
    csv_path = next((p for p in (root / "labels.csv", image_dir / "labels.csv") if p.is_file()), None)
    if csv_path is None:
        names = [(p.name, None) for p in sorted(image_dir.iterdir()) if _is_image(p)]
    else:
        with open(csv_path, newline="", encoding="utf-8") as handle:
            names = [(row.get("filename") or "", row.get("md5") or None) for row in csv.DictReader(handle)]
    records: list[UtkRecord] = []
    for name, md5 in names:
        labels = parse_name(name)
        if isinstance(labels, str):
            report.skip(labels)
            continue
        path = image_dir / name
        if not path.is_file():
            report.skip("missing_file")
            continue
        records.append(UtkRecord(path, labels.age, labels.gender, labels.race, md5 or file_md5(path)))
    if not records:
        raise FileNotFoundError(f"no usable UTKFace images in {image_dir} ({report.summary()}); expected {LAYOUT}")
    report.loaded = len(records)
    return records, report


UTK_REPORT_FRACTION = 0.15  # the same crops as the former two-way validation split
UTK_SELECT_FRACTION = 0.07  # about 600 crops to choose the checkpoint on


def split_utkface(
    records: list[UtkRecord], report_fraction: float = UTK_REPORT_FRACTION, select_fraction: float = UTK_SELECT_FRACTION
) -> ThreeWay[UtkRecord]:
    """Train / select / report grouped by file md5, so byte-identical crops never straddle the split."""
    return split_by_key(records, lambda record: record.md5, report_fraction, select_fraction, salt="facekit-utkface")


def _is_image(path: Path) -> bool:
    """A regular file with an image suffix."""
    return path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES
