"""The export bundle: manifest, sha256 of every file; moved into place atomically; app installs."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import jsonschema

from exporter.export.artifacts import Artifact
from exporter.export.metadata import describe, model_spec
from exporter.export.verify import THRESHOLDS
from exporter.paths import PACKAGE_DIR, REPO_ROOT

MANIFEST_SCHEMA = PACKAGE_DIR / "schemas" / "manifest.schema.json"


def sha256_of(path: Path) -> str:
    """sha256 of a file, or of every file in a folder (sorted relative paths and bytes)."""
    digest = hashlib.sha256()
    files = sorted(p for p in Path(path).rglob("*") if p.is_file()) if Path(path).is_dir() else [Path(path)]
    for file in files:
        if Path(path).is_dir():
            digest.update(str(file.relative_to(path)).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()


def size_of(path: Path) -> int:
    """Bytes of a file or of everything in a folder."""
    path = Path(path)
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size


def build_manifest(target: str, checkpoint: Path, payload: dict, entries: list[dict], golden: list[str],
                   verification: dict, folder: Path) -> dict:
    """Everything an app needs to run and decode the models (the description embedded in each model file, whole),
    with each file's sha256."""
    return {
        "schema_version": 1,
        "target": target,
        "created_unix": int(time.time()),
        "checkpoint": {"file": _shown(checkpoint), "sha256": sha256_of(checkpoint), "model_config": payload["model_config"],
                       "train_step": payload.get("train", {}).get("step")},
        **describe(payload, model_spec(payload)),
        "models": entries,
        "golden": [{"file": name, "sha256": sha256_of(folder / name)} for name in golden],
        "verification": verification,
        "thresholds": {p: {k: v for k, v in vars(t).items() if v is not None} for p, t in THRESHOLDS.items()},
    }


def _shown(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def validate_manifest(manifest: dict) -> None:
    """Raise jsonschema.ValidationError when the manifest breaks its schema."""
    jsonschema.validate(manifest, json.loads(MANIFEST_SCHEMA.read_text()))


def load_bundle(folder: Path) -> tuple[dict, list[Artifact]]:
    """The manifest of an export folder and its artifacts (as the converters reported them)."""
    path = Path(folder) / "manifest.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; run `make export TARGET=all` first")
    manifest = json.loads(path.read_text())
    validate_manifest(manifest)
    artifacts = [Artifact(m["format"], m["precision"], m["file"], list(m["files"]), m["io"], m["checks"])
                 for m in manifest["models"]]
    return manifest, artifacts


def write_json(path: Path, data: dict) -> None:
    """Pretty JSON with a final newline."""
    Path(path).write_text(json.dumps(data, indent=1) + "\n")


def swap_into_place(staging: Path, final: Path) -> None:
    """Replace `final` with `staging` by renames (same filesystem); the old bundle survives any failure before."""
    old = None
    if final.exists():
        old = final.with_name(f".old-{final.name}-{os.getpid()}")
        os.replace(final, old)
    try:
        os.replace(staging, final)
    except OSError:
        if old is not None:
            os.replace(old, final)
        raise
    if old is not None:
        shutil.rmtree(old)


def install(files: list[Path], destination: Path, manifest: Path) -> list[Path]:
    """Copy the files into an app folder, each via a temporary file + rename; the manifest goes last."""
    destination.mkdir(parents=True, exist_ok=True)
    installed = []
    for source in [*files, manifest]:
        target = destination / source.name
        tmp = Path(tempfile.mkdtemp(dir=destination, prefix=f".{source.name}."))
        try:
            staged = tmp / source.name
            (shutil.copytree if source.is_dir() else shutil.copy2)(source, staged)
            if target.is_dir():
                swap_into_place(staged, target)
            else:
                os.replace(staged, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        installed.append(target)
    return installed
