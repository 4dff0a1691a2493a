"""Bad input against `facekit export`: options and output folders refused before any work, failed or interrupted
exports leave the previous bundle and no temporary folder, and the app folders receive a whole set or none."""

from __future__ import annotations

import os
import signal
import stat
import textwrap
from dataclasses import replace

import numpy as np
import pytest

from cli_cases import hidden, run, snapshot
from exporter.atomic import current_umask
from exporter.digest import sha256_of
from exporter.export import bundle, pipeline
from exporter.export.builtin_images import ImageSet
from exporter.export.formats import FORMATS
from exporter.export.pipeline import ExportFailed, run_converter


@pytest.fixture
def old_bundle(tmp_path):
    """An --out folder holding a previous onnx bundle."""
    folder = tmp_path / "exports" / "onnx"
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text('{"old": true}')
    (folder / "facekit.onnx").write_bytes(b"old model")
    return tmp_path / "exports"


@pytest.mark.parametrize("argv, message", [
    (["--target", "windows"], "unknown target 'windows'"),
    (["--precision", "int4"], "unknown precision 'int4'"),
    (["--target", "ncnn", "--precision", "int8"], "ncnn offers precisions fp32, fp16, not int8"),
    (["--checkpoint", "MISSING"], "does not exist"),
])
def test_export_options_refused_before_any_work(tmp_path, old_bundle, capsys, argv, message):
    before = snapshot(old_bundle)
    argv = [str(tmp_path / "none.pt") if a == "MISSING" else a for a in argv]
    result = run(capsys, "export", "--out", old_bundle, "--no-install", *argv)
    assert result.code == 1 and message in result.err, result.err
    assert snapshot(old_bundle) == before and not hidden(old_bundle)


def test_export_out_is_a_file(tmp_path, capsys):
    (tmp_path / "exports").write_text("keep")
    result = run(capsys, "export", "--target", "onnx", "--out", tmp_path / "exports", "--no-install")
    assert result.code == 1 and "--out" in result.err and "is a file" in result.err
    assert (tmp_path / "exports").read_text() == "keep"


def test_export_target_folder_is_a_file(tmp_path, capsys):
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "onnx").write_text("keep")
    result = run(capsys, "export", "--target", "onnx", "--out", tmp_path / "exports", "--no-install")
    assert result.code == 1 and "is a file, not a bundle folder" in result.err
    assert (tmp_path / "exports" / "onnx").read_text() == "keep" and not hidden(tmp_path / "exports")


def _failing_converter(exception):
    def convert(*args, **kwargs):
        if exception is signal.SIGTERM:
            os.kill(os.getpid(), signal.SIGTERM)
        raise exception
    return convert


@pytest.mark.parametrize("exception, code, message", [
    (ExportFailed("onnx conversion failed (exit 1)"), 1, "onnx conversion failed"),
    (KeyboardInterrupt(), 130, "interrupted; the previous bundle is untouched"),
    (signal.SIGTERM, 130, "interrupted; the previous bundle is untouched"),
    (OSError(28, "No space left on device"), 1, "No space left on device"),
])
def test_failed_or_interrupted_export_keeps_the_old_bundle(tmp_path, old_bundle, capsys, monkeypatch, exception,
                                                           code, message):
    monkeypatch.setattr(pipeline, "export_images",
                        lambda root, calibrate: (None, ImageSet(np.zeros((1, 128, 128, 3), np.uint8), "test")))
    monkeypatch.setattr(pipeline, "run_converter", _failing_converter(exception))
    before = snapshot(old_bundle)
    result = run(capsys, "export", "--target", "onnx", "--out", old_bundle, "--no-install", "--data", tmp_path)
    assert result.code == code and message in result.err, result.err
    assert snapshot(old_bundle) == before and not hidden(old_bundle)  # no .staging-*, no .old-*


def test_converter_temporary_files_stay_inside_the_staging_folder(tmp_path, monkeypatch):
    module = tmp_path / "mods" / "fake_converter.py"
    module.parent.mkdir()
    module.write_text(textwrap.dedent("""
        import tempfile
        folder = tempfile.mkdtemp(prefix="converter-")
        print("scratch", folder)
        raise SystemExit(3)
    """))
    monkeypatch.setenv("PYTHONPATH", f"{module.parent}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    staging = tmp_path / "staging"
    staging.mkdir()
    fmt = replace(FORMATS["ncnn"], converter="fake_converter")
    with pytest.raises(ExportFailed, match="ncnn conversion failed \\(exit 3\\)") as info:
        run_converter(fmt, ("fp32",), tmp_path / "m.pt", staging, None, log=lambda *_: None)
    scratch = str(info.value).split("scratch ", 1)[1].split()[0]
    assert scratch.startswith(str(staging / ".tmp-ncnn"))  # removed with the staging folder


# --- the bundle swap and the app install ---

def test_swap_refuses_a_file_in_the_way(tmp_path):
    staging, final = tmp_path / "staging", tmp_path / "final"
    staging.mkdir()
    (staging / "m.onnx").write_bytes(b"new")
    final.write_text("keep")
    with pytest.raises(FileExistsError, match="is a file, not a folder"):
        bundle.swap_into_place(staging, final)
    assert final.read_text() == "keep" and (staging / "m.onnx").exists() and not hidden(tmp_path)


def test_swap_replaces_the_folder_with_the_users_mode(tmp_path, old_bundle):
    staging = tmp_path / "staging"
    staging.mkdir(mode=0o700)
    (staging / "facekit.onnx").write_bytes(b"new")
    bundle.swap_into_place(staging, old_bundle / "onnx")
    assert (old_bundle / "onnx" / "facekit.onnx").read_bytes() == b"new"
    assert stat.S_IMODE((old_bundle / "onnx").stat().st_mode) == 0o777 & ~current_umask()
    assert not hidden(old_bundle) and not staging.exists()


@pytest.fixture
def app(tmp_path):
    """An app folder with an installed set (two models and their manifest) and a new set to install."""
    destination, new = tmp_path / "app", tmp_path / "new"
    destination.mkdir()
    new.mkdir()
    for name in ("a.tflite", "b.tflite", "manifest.json"):
        (destination / name).write_text(f"old {name}")
        (new / name).write_text(f"new {name}")
    (destination / "app_icon.png").write_text("the app's own file")
    return destination, [new / "a.tflite", new / "b.tflite"], new / "manifest.json"


def test_install_replaces_the_whole_set(app):
    destination, files, manifest = app
    installed = bundle.install(files, destination, manifest)
    assert [p.name for p in installed] == ["a.tflite", "b.tflite", "manifest.json"]
    assert {p.name: p.read_text() for p in destination.iterdir()} == {
        "a.tflite": "new a.tflite", "b.tflite": "new b.tflite", "manifest.json": "new manifest.json",
        "app_icon.png": "the app's own file"}


def test_install_interrupted_while_copying_leaves_the_old_set(app, monkeypatch):
    destination, files, manifest = app
    before = snapshot(destination)
    real_copy = bundle.shutil.copy2

    def copy_then_fail(source, target):
        if source.name == "b.tflite":
            raise KeyboardInterrupt
        return real_copy(source, target)

    monkeypatch.setattr(bundle.shutil, "copy2", copy_then_fail)
    with pytest.raises(KeyboardInterrupt):
        bundle.install(files, destination, manifest)
    assert snapshot(destination) == before and not hidden(destination)


def test_install_interrupted_while_renaming_leaves_no_manifest(app, monkeypatch):
    destination, files, manifest = app
    real_replace = os.replace

    def replace_then_fail(source, target):
        if str(target).endswith("b.tflite"):
            raise KeyboardInterrupt
        return real_replace(source, target)

    monkeypatch.setattr(bundle.os, "replace", replace_then_fail)
    with pytest.raises(KeyboardInterrupt):
        bundle.install(files, destination, manifest)
    assert not (destination / "manifest.json").exists()  # the app sees an incomplete install, never a mismatch
    assert not hidden(destination)


def test_install_removes_the_leftover_of_a_killed_install(app):
    destination, files, manifest = app
    leftover = destination / f"{bundle.INSTALL_STAGING}killed"
    leftover.mkdir()
    (leftover / "a.tflite").write_text("half")
    bundle.install(files, destination, manifest)
    assert not hidden(destination)


def test_damaged_manifest_is_reported(tmp_path):
    (tmp_path / "manifest.json").write_text('{"schema_version": 1, "models": 1e999}')
    with pytest.raises(ValueError, match="manifest.json is damaged .*too large.*export again"):
        bundle.load_bundle(tmp_path)


def test_real_export_leaves_nothing_behind(exported):
    """The suite's shared `export all` run: no temporary files, the user's modes, and every app folder's manifest
    describes exactly the model files beside it."""
    folder, _, app_root = exported
    assert not hidden(folder.parent) and not list(folder.glob("*.report.json")) and not hidden(app_root)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o777 & ~current_umask()
    assert stat.S_IMODE((folder / "manifest.json").stat().st_mode) == 0o666 & ~current_umask()
    manifests = list(app_root.rglob("manifest.json"))
    assert manifests
    for manifest_path in manifests:
        manifest, _ = bundle.load_bundle(manifest_path.parent)
        beside = [(manifest_path.parent / name, sha) for model in manifest["models"]
                  for name, sha in model["files"].items() if (manifest_path.parent / name).exists()]
        assert beside and all(sha256_of(path) == sha for path, sha in beside)
