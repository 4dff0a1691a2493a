"""android_app/tools/check_apk.py finds compressed, altered or missing models and a wrong manifest in an APK."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import zipfile
from pathlib import Path

from exporter.paths import REPO_ROOT

_spec = importlib.util.spec_from_file_location("check_apk", Path(REPO_ROOT) / "android_app" / "tools" / "check_apk.py")
check_apk = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_apk)

BADGING = ("package: name='com.facekit.demo'\nuses-permission: name='android.permission.CAMERA'\n"
           "launchable-activity: name='com.facekit.demo.MainActivity'\n")


def _export(folder: Path) -> bytes:
    model = b"\x00tflite model bytes" * 50
    (folder / "m.tflite").write_bytes(model)
    manifest = {"models": [{"format": "tflite", "file": "m.tflite",
                            "files": {"m.tflite": hashlib.sha256(model).hexdigest()}}]}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return model


def _apk(path: Path, export: Path, model: bytes, compression: int) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("classes.dex", b"dex")
        archive.writestr("assets/manifest.json", (export / "manifest.json").read_bytes())
        archive.writestr("assets/m.tflite", model, compress_type=compression)
    return path


def test_a_good_apk_passes(tmp_path):
    model = _export(tmp_path)
    apk = _apk(tmp_path / "ok.apk", tmp_path, model, zipfile.ZIP_STORED)
    assert check_apk.problems(apk, BADGING, tmp_path, "com.facekit.demo") == []


def test_compressed_or_altered_models_and_a_missing_launcher_are_found(tmp_path):
    model = _export(tmp_path)
    apk = _apk(tmp_path / "bad.apk", tmp_path, model[:-1] + b"!", zipfile.ZIP_DEFLATED)
    found = check_apk.problems(apk, BADGING.replace("launchable-activity", "activity"), tmp_path, "com.facekit.demo")
    assert any("compressed" in p for p in found)
    assert any("differs from exports/android/m.tflite" in p for p in found)
    assert any("sha256" in p for p in found)
    assert any("launchable-activity" in p for p in found)
