"""Check a debug APK built by android_check.sh: models stored uncompressed and byte-identical to the export, manifest."""

from __future__ import annotations

import hashlib
import json
import sys
import zipfile
from pathlib import Path


def problems(apk: Path, badging: str, export: Path, package: str) -> list[str]:
    """Everything wrong with the APK, as sentences (empty when it is right)."""
    found = []
    manifest = json.loads((export / "manifest.json").read_text())
    with zipfile.ZipFile(apk) as archive:
        entries = {info.filename: info for info in archive.infolist()}
        if archive.read("assets/manifest.json") != (export / "manifest.json").read_bytes():
            found.append("assets/manifest.json differs from the export's manifest.json")
        models = [m for m in manifest["models"] if m["format"] == "tflite"]
        if not models:
            found.append("the export's manifest lists no TFLite model")
        for model in models:
            name = f"assets/{model['file']}"
            if name not in entries:
                found.append(f"{name} is missing")
                continue
            if entries[name].compress_type != zipfile.ZIP_STORED:
                found.append(f"{name} is compressed: it cannot be memory-mapped")
            data = archive.read(name)
            if data != (export / model["file"]).read_bytes():
                found.append(f"{name} differs from exports/android/{model['file']}")
            if hashlib.sha256(data).hexdigest() != model["files"][model["file"]]:
                found.append(f"{name} does not have the manifest's sha256")
        if "classes.dex" not in entries:
            found.append("classes.dex is missing")
        if any(n.startswith("org/tensorflow") or n.endswith(".so") for n in entries):
            found.append("the APK packages LiteRT classes or native libraries from the compile-only API jar")
    wanted = [f"package: name='{package}'", "uses-permission: name='android.permission.CAMERA'",
              f"launchable-activity: name='{package}.MainActivity'"]
    found += [f"aapt2 dump badging lacks {line!r}" for line in wanted if line not in badging]
    return found


def main(argv: list[str]) -> int:
    """Exit 0 when the APK passes every check; print each problem otherwise."""
    apk, badging, export, package = Path(argv[0]), Path(argv[1]).read_text(), Path(argv[2]), argv[3]
    found = problems(apk, badging, export, package)
    for line in found:
        print(f"android-check: APK: {line}", file=sys.stderr)
    if found:
        print("android-check: when the app's assets and exports/android disagree, run `make export TARGET=android` again",
              file=sys.stderr)
    if not found:
        print(f"android-check: APK checked: models stored uncompressed and byte-identical to {export}, "
              "CAMERA permission, launcher activity")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
