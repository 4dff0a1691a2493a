"""Bad input against `facekit bench` (options, --import of phone reports, the host report) and `facekit assets`
(registries that do not answer, damaged files): a clear message, exit 1, no report lost or overwritten."""

from __future__ import annotations

import copy
import json
import os
import shutil
import stat

import pytest

from cli_cases import hidden, run, snapshot
from exporter import assets as assets_module
from exporter.assets import ASSETS, AssetError, asset_path, fetch, load_table
from exporter.bench.report import validate
from exporter.jsonio import JsonFileError

EXAMPLE = os.path.join(os.path.dirname(__file__), "data", "phone_report_example.json")


def host_report() -> dict:
    """The smallest host report the schema accepts, with one latency row the example phone report also has."""
    stat_ = {"median": 1.0, "p90": 1.2}
    row = {"backend": "tflite-int8", "format": "tflite", "precision": "int8", "runtime": "litert", "threads": 4,
           "size_bytes": 1000, "runs": 10, "pre_ms": stat_, "infer_ms": stat_, "post_ms": stat_, "total_ms": stat_,
           "ratio_to_mediapipe": None, "total_ratio_to_mediapipe": None}
    return {"schema": "facekit-bench/1", "created": "2025-01-01T00:00:00Z", "command": "facekit bench", "mode": "quick",
            "host": {"cpu": "test cpu", "cores": 2, "system": "Linux", "python": "3.11", "versions": {}},
            "export": {"folder": "exports/all", "checkpoint_sha256": "0" * 64},
            "settings": {"runs": 10, "warmup": 1, "rounds": 1, "threads": [4], "image": "x.jpg",
                         "reuse_backend": "tflite-int8", "reuse_threads": 1},
            "latency": [row], "accuracy": [], "reuse": None, "targets": [], "elapsed_s": 1.0}


@pytest.fixture
def report_dir(tmp_path):
    """A bench report folder holding a valid host report."""
    folder = tmp_path / "bench"
    folder.mkdir()
    validate(host_report())
    (folder / "report.json").write_text(json.dumps(host_report()))
    return folder


@pytest.fixture
def phone() -> dict:
    """A fresh copy of the example phone report."""
    with open(EXAMPLE) as handle:
        return json.load(handle)


def _write(path, text):
    path.write_text(text) if isinstance(text, str) else path.write_bytes(text)
    return path


BAD_PHONE_REPORTS = {
    "missing": (None, "cannot read the phone report"),
    "2 MB": ('{"pad": "' + "x" * (2 << 20) + '"}', "larger than 1 MB"),
    "nested 10000 deep": ("[" * 10_000 + "]" * 10_000, "nested 10000 levels deep"),
    "1e999": ('{"created": 1e999}', "too large for a 64-bit float"),
    "NaN": ('{"created": NaN}', "NaN is not a JSON number"),
    "truncated": ('{"schema": "facekit-phone-bench/1", "created": "2025-', "not valid JSON at line 1"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8"),
    "empty": ("", "not valid JSON"),
    "a JSON list": ("[1, 2, 3]", "not a valid FaceKit phone report"),
    "schema broken": ('{"schema": "facekit-phone-bench/1"}', "'created' is a required property"),
}


@pytest.mark.parametrize("case", BAD_PHONE_REPORTS)
def test_bad_phone_report(tmp_path, report_dir, capsys, case):
    text, message = BAD_PHONE_REPORTS[case]
    path = tmp_path / "phone.json"
    if text is not None:
        _write(path, text)
    before = snapshot(report_dir)
    result = run(capsys, "bench", "--import", path, "--out", report_dir)
    assert result.code == 1 and message in result.err and str(path) in result.err, result.err
    assert snapshot(report_dir) == before


def test_import_into_a_folder_without_a_host_report(tmp_path, capsys):
    result = run(capsys, "bench", "--import", EXAMPLE, "--out", tmp_path / "none")
    assert result.code == 1 and "no host report" in result.err and "make bench" in result.err


@pytest.mark.parametrize("host_text, message", [
    ("{", "not valid JSON"),
    ('{"latency": "oops"}', "is a required property"),
    ("[" * 10_000, "nested"),
])
def test_damaged_host_report(report_dir, capsys, host_text, message):
    (report_dir / "report.json").write_text(host_text)
    result = run(capsys, "bench", "--import", EXAMPLE, "--out", report_dir)
    assert result.code == 1 and "host report" in result.err and message in result.err and "make bench" in result.err
    assert not (report_dir / "phones").exists()


def test_long_device_name_is_stored_under_a_short_name(tmp_path, report_dir, phone, capsys):
    phone["device"]["model"] = "Phone " * 100  # 600 characters
    path = _write(tmp_path / "phone.json", json.dumps(phone))
    result = run(capsys, "bench", "--import", path, "--out", report_dir)
    assert result.code == 0
    (stored,) = (report_dir / "phones").iterdir()
    assert len(stored.name) < 100 and json.loads(stored.read_text()) == phone


def test_device_names_that_clean_alike_do_not_overwrite(tmp_path, report_dir, phone, capsys):
    stored = []
    for model in ("Pixel 7", "pixel-7", "Pixel 7"):
        report = copy.deepcopy(phone)
        report["device"]["model"] = model
        result = run(capsys, "bench", "--import", _write(tmp_path / "p.json", json.dumps(report)), "--out", report_dir)
        assert result.code == 0
        stored.append(result.out.rsplit("stored as ", 1)[1].strip())
    assert stored[0] != stored[1] and stored[2] == stored[0]  # the same report again lands on its own file
    models = sorted(json.loads(p.read_text())["device"]["model"] for p in (report_dir / "phones").iterdir())
    assert models == ["Pixel 7", "pixel-7"]


def test_stored_report_follows_the_umask(tmp_path, report_dir, capsys):
    result = run(capsys, "bench", "--import", EXAMPLE, "--out", report_dir)
    assert result.code == 0 and not hidden(report_dir)
    (stored,) = (report_dir / "phones").iterdir()
    assert stat.S_IMODE(stored.stat().st_mode) == 0o666 & ~_umask()


def _umask() -> int:
    from exporter.atomic import current_umask

    return current_umask()


@pytest.mark.parametrize("argv, message", [
    (["--runs", "0"], "--runs, --threads and --max-frames must be at least 1"),
    (["--threads", "0", "2"], "must be at least 1"),
    (["--max-frames", "0"], "must be at least 1"),
    (["--out", "FILE"], "is a file, not a folder"),
    (["--exports", "DAMAGED"], "holds no bundle of"),
    (["--videos", "FILE"], "is neither a video file nor a folder"),
])
def test_bench_options(tmp_path, capsys, argv, message):
    (tmp_path / "file").write_text("keep")
    (tmp_path / "damaged").mkdir()
    (tmp_path / "damaged" / "manifest.json").write_text('{"schema_version": 1')
    argv = [{"FILE": tmp_path / "file", "DAMAGED": tmp_path / "damaged"}.get(a, a) for a in argv]
    result = run(capsys, "bench", "--data", tmp_path / "no-data", *argv)
    assert result.code == 1 and message in result.err, result.err
    assert (tmp_path / "file").read_text() == "keep"


# --- assets: a registry that does not answer, a damaged file, an oversized table ---

def test_npm_that_never_answers_times_out_naming_the_package(tmp_path, monkeypatch):
    fake = tmp_path / "bin" / "npm"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nsleep 30\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(assets_module, "DOWNLOAD_TIMEOUT_S", 1)
    asset = next(a for a in ASSETS.values() if a.kind == "npm")
    with pytest.raises(AssetError) as info:
        fetch([asset], cache=tmp_path / "cache", progress=False)
    message = str(info.value)
    assert asset.package in message and "npm registry" in message and "within 1 s" in message
    assert not hidden(tmp_path / "cache") and not list((tmp_path / "cache" / "assets").iterdir())


def test_damaged_asset_is_refused_where_it_is_read(tmp_path, assets, capsys):
    name = "astronaut.png"
    folder = tmp_path / "assets"
    folder.mkdir()
    shutil.copy(assets[name], folder / name)
    assert asset_path(name, cache=tmp_path) == folder / name
    with open(folder / name, "r+b") as handle:
        handle.seek(100)
        handle.write(b"damage")
    with pytest.raises(AssetError, match="is damaged or was changed.*facekit assets"):
        asset_path(name, cache=tmp_path)
    result = run(capsys, "assets", "--list", "--cache", tmp_path)
    assert result.code == 0 and "missing (sha256 mismatch)" in result.out


def test_oversized_asset_table(tmp_path):
    table = tmp_path / "assets.json"
    table.write_text('{"assets": [], "pad": "' + "x" * 100_000 + '"}')
    with pytest.raises(JsonFileError, match="larger than 64 KB"):
        load_table(table)
