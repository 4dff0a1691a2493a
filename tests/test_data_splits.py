"""Splits are deterministic, order-independent, follow the fraction and keep a group key on one side."""

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
    assert all(split_of(k, 1.0) == "val" for k in keys)
    val = sum(split_of(k, 0.2) == "val" for k in keys)
    assert 0.17 * len(keys) < val < 0.23 * len(keys)


def test_split_of_rejects_bad_fraction() -> None:
    with pytest.raises(ValueError, match="val_fraction"):
        split_of("a", 1.5)


def test_split_by_key_is_order_independent_and_groups_duplicates() -> None:
    items = [(f"group{i % 50}", i) for i in range(300)]
    shuffled = items[:]
    random.Random(0).shuffle(shuffled)
    train, val = split_by_key(items, lambda item: item[0], 0.3)
    train2, val2 = split_by_key(shuffled, lambda item: item[0], 0.3)
    assert set(train) == set(train2) and set(val) == set(val2)
    assert val and train
    assert not {g for g, _ in train} & {g for g, _ in val}
    assert [i for _, i in train] == sorted(i for _, i in train)  # input order kept


def test_file_md5_matches_for_identical_bytes(tmp_path) -> None:
    (tmp_path / "a").write_bytes(b"same bytes")
    (tmp_path / "b").write_bytes(b"same bytes")
    (tmp_path / "c").write_bytes(b"other bytes")
    assert file_md5(tmp_path / "a") == "b7c7a19ff9841101a57b7867181d267e"
    assert file_md5(tmp_path / "a") == file_md5(tmp_path / "b") != file_md5(tmp_path / "c")
