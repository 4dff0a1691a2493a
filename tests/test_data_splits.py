"""Splits are deterministic, order-independent, follow the fractions and keep a group key on one side."""

from __future__ import annotations

import random

import pytest

from exporter.data.splits import file_md5, split_by_key, split_of


def test_split_of_is_deterministic_and_salted() -> None:
    keys = [f"key{i}" for i in range(200)]
    first = [split_of(k, 0.3) for k in keys]
    assert first == [split_of(k, 0.3) for k in keys]
    assert first != [split_of(k, 0.3, salt="other") for k in keys]


def test_split_of_fraction_extremes_and_rate() -> None:
    keys = [f"img_{i}.jpg" for i in range(4000)]
    assert all(split_of(k, 0.0) == "train" for k in keys)
    assert all(split_of(k, 1.0) == "report" for k in keys)
    sides = [split_of(k, 0.2, 0.1) for k in keys]
    assert 0.17 * len(keys) < sides.count("report") < 0.23 * len(keys)
    assert 0.08 * len(keys) < sides.count("select") < 0.12 * len(keys)


def test_growing_select_never_moves_an_item_out_of_report() -> None:
    keys = [f"img_{i}.jpg" for i in range(2000)]
    two_way = [split_of(k, 0.15) for k in keys]
    three_way = [split_of(k, 0.15, 0.07) for k in keys]
    assert [a == "report" for a in two_way] == [b == "report" for b in three_way]
    assert all(b in ("select", "train") for a, b in zip(two_way, three_way) if a == "train")


@pytest.mark.parametrize("report, select", [(1.5, 0.0), (0.6, 0.5), (0.2, -0.1)])
def test_split_of_rejects_bad_fractions(report, select) -> None:
    with pytest.raises(ValueError, match="report_fraction and select_fraction"):
        split_of("a", report, select)


def test_split_by_key_is_order_independent_and_groups_duplicates() -> None:
    items = [(f"group{i % 50}", i) for i in range(300)]
    shuffled = items[:]
    random.Random(0).shuffle(shuffled)
    parts = split_by_key(items, lambda item: item[0], 0.3, 0.2)
    again = split_by_key(shuffled, lambda item: item[0], 0.3, 0.2)
    sides = (parts.train, parts.select, parts.report)
    assert [set(s) for s in sides] == [set(again.train), set(again.select), set(again.report)]
    assert all(sides) and sum(map(len, sides)) == len(items)
    groups = [{g for g, _ in side} for side in sides]
    assert not groups[0] & groups[1] and not groups[0] & groups[2] and not groups[1] & groups[2]
    assert [i for _, i in parts.train] == sorted(i for _, i in parts.train)  # input order kept


def test_file_md5_matches_for_identical_bytes(tmp_path) -> None:
    (tmp_path / "a").write_bytes(b"same bytes")
    (tmp_path / "b").write_bytes(b"same bytes")
    (tmp_path / "c").write_bytes(b"other bytes")
    assert file_md5(tmp_path / "a") == "b7c7a19ff9841101a57b7867181d267e"
    assert file_md5(tmp_path / "a") == file_md5(tmp_path / "b") != file_md5(tmp_path / "c")
