"""UTKFace loader: name parsing, labels.csv, skipped names counted, md5-grouped splits, real folder."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from exporter.data.utkface import load_utkface, parse_name, split_utkface
from exporter.paths import data_root


def _write_face(path, seed: int) -> None:
    cv2.imwrite(str(path), np.full((8, 8, 3), seed, dtype=np.uint8))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("25_1_2_20170116174525125.jpg.chip.jpg", (25, 1, 2)),
        ("3_0_4_20161219140623097.jpg", (3, 0, 4)),
        ("61_1_20170109142408075.jpg.chip.jpg", "wrong_field_count"),
        ("x_1_2_20170116174525125.jpg", "non_integer_label"),
        ("30_2_0_20170116174525125.jpg", "bad_gender"),
        ("0_1_0_20170116174525125.jpg", "age_out_of_range"),
        ("117_0_0_20170116174525125.jpg", "age_out_of_range"),
    ],
)
def test_parse_name(name: str, expected) -> None:
    labels = parse_name(name)
    if isinstance(expected, str):
        assert labels == expected
    else:
        assert (labels.age, labels.gender, labels.race) == expected


def test_load_from_names_counts_skips_and_groups_duplicates(tmp_path) -> None:
    images = tmp_path / "images"
    images.mkdir()
    for i, name in enumerate(["20_0_0_20170101000000001.jpg.chip.jpg", "40_1_3_20170101000000002.jpg.chip.jpg"]):
        _write_face(images / name, 10 * i)
    # A byte-identical copy with a conflicting label, as in real UTKFace.
    original = (images / "40_1_3_20170101000000002.jpg.chip.jpg").read_bytes()
    (images / "41_0_3_20170101000000003.jpg.chip.jpg").write_bytes(original)
    _write_face(images / "61_1_20170109142408075.jpg.chip.jpg", 99)
    _write_face(images / "30_5_0_20170101000000004.jpg", 98)
    (images / "notes.txt").write_text("not an image")

    records, report = load_utkface(tmp_path)
    assert sorted((r.age, r.gender, r.race) for r in records) == [(20, 0, 0), (40, 1, 3), (41, 0, 3)]
    assert report.loaded == 3
    assert report.skipped == {"wrong_field_count": 1, "bad_gender": 1}
    assert "3 loaded" in report.summary() and "bad_gender 1" in report.summary()
    dup = {r.md5 for r in records if r.age in (40, 41)}
    assert len(dup) == 1
    for report, select in ((0.0, 0.0), (0.3, 0.3), (0.5, 0.2), (0.2, 0.7), (1.0, 0.0)):
        parts = split_utkface(records, report, select)
        assert len(parts.train) + len(parts.select) + len(parts.report) == 3
        sides = {name for name in ("train", "select", "report") for r in getattr(parts, name) if r.age in (40, 41)}
        assert len(sides) == 1


def test_labels_csv_is_used_for_md5_and_missing_files_counted(tmp_path) -> None:
    _write_face(tmp_path / "20_0_0_20170101000000001.jpg.chip.jpg", 5)
    (tmp_path / "labels.csv").write_text(
        "filename,age,gender,race,name_status,width,height,md5,exact_duplicate_of\r\n"
        "20_0_0_20170101000000001.jpg.chip.jpg,20,0,0,ok,8,8,00000000000000000000000000000abc,\r\n"
        "21_0_0_20170101000000009.jpg.chip.jpg,21,0,0,ok,8,8,00000000000000000000000000000def,\r\n"
        "61_3_20170109150557335.jpg.chip.jpg,,,,malformed_name,8,8,00000000000000000000000000000123,\r\n"
    )
    records, report = load_utkface(tmp_path)
    assert [(r.path.name, r.md5) for r in records] == [
        ("20_0_0_20170101000000001.jpg.chip.jpg", "00000000000000000000000000000abc")
    ]
    assert report.skipped == {"missing_file": 1, "wrong_field_count": 1}


def test_missing_or_empty_folder_raises_naming_layout(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match=r"\[age\]_\[gender\]"):
        load_utkface(tmp_path / "absent")
    _write_face(tmp_path / "face.jpg", 1)
    with pytest.raises(FileNotFoundError, match="no usable UTKFace images"):
        load_utkface(tmp_path)


@pytest.mark.needs_data
def test_real_utkface() -> None:
    root = data_root() / "utkface"
    if not root.is_dir():
        pytest.skip(f"UTKFace not found at {root} (set FACEKIT_DATA)")
    records, report = load_utkface(root)
    assert 8700 <= len(records) <= 8780
    assert 0 < sum(report.skipped.values()) <= 10
    assert all(1 <= r.age <= 116 and r.gender in (0, 1) and r.path.is_file() for r in records)
    parts = split_utkface(records)
    assert 0.12 < len(parts.report) / len(records) < 0.18 and 0.05 < len(parts.select) / len(records) < 0.09
    md5 = [{r.md5 for r in side} for side in (parts.train, parts.select, parts.report)]
    assert not md5[0] & md5[1] and not md5[0] & md5[2] and not md5[1] & md5[2]
    assert len({r.md5 for r in records}) < len(records)  # the real set has byte-identical duplicates
