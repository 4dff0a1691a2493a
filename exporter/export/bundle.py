"""The export bundle: manifest, sha256 of every file; moved into place atomically; app installs."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import jsonschema

from exporter.atomic import use_umask
from exporter.digest import sha256_of
from exporter.export.artifacts import Artifact
from exporter.export.metadata import describe, model_spec
from exporter.export.verify import THRESHOLDS
from exporter.jsonio import MB, JsonFileError, load_json
from exporter.paths import PACKAGE_DIR, REPO_ROOT

MANIFEST_SCHEMA = PACKAGE_DIR / "schemas" / "manifest.schema.json"
MAX_MANIFEST_BYTES = 4 * MB  # a manifest of every format is about 30 KB
INSTALL_STAGING = ".facekit-install-"


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
    jsonschema.validate(manifest, load_json(MANIFEST_SCHEMA, max_bytes=MAX_MANIFEST_BYTES, what="JSON schema"))


def load_bundle(folder: Path) -> tuple[dict, list[Artifact]]:
    """The manifest of an export folder and its artifacts (as the converters reported them)."""
    path = Path(folder) / "manifest.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; run `make export TARGET=all` first")
    try:
        manifest = load_json(path, max_bytes=MAX_MANIFEST_BYTES, what="export manifest")
        validate_manifest(manifest)
    except (JsonFileError, jsonschema.ValidationError) as e:
        reason = e.message if isinstance(e, jsonschema.ValidationError) else str(e)
        raise ValueError(f"{path} is damaged ({reason[:300]}); export again with `make export TARGET=all`") from None
    artifacts = [Artifact(m["format"], m["precision"], m["file"], list(m["files"]), m["io"], m["checks"])
                 for m in manifest["models"]]
    return manifest, artifacts


def swap_into_place(staging: Path, final: Path) -> None:
    """Replace the folder `final` with `staging` by renames (same filesystem); the old one survives any failure before.

    `staging` (made by mkdtemp, mode 0700) gets the mode the user's umask gives new folders.
    """
    if final.exists() and not final.is_dir():
        raise FileExistsError(f"{final} is a file, not a folder; move it away or choose another output folder")
    use_umask(staging)
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
    """Install the files and the manifest into an app folder as a set; returns the installed paths.

    Everything is first copied into a staging folder inside `destination` (an interruption there leaves the
    previous set whole, and the next install removes the leftover); then the old manifest is removed, each file
    renamed into place and the new manifest renamed in last. So an app never finds a manifest beside model files
    it does not describe: either the whole old set, the whole new set, or no manifest at all.
    """
    destination.mkdir(parents=True, exist_ok=True)
    for leftover in destination.glob(f"{INSTALL_STAGING}*"):
        shutil.rmtree(leftover, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(dir=destination, prefix=INSTALL_STAGING))
    try:
        for source in [*files, manifest]:
            (shutil.copytree if source.is_dir() else shutil.copy2)(source, staging / source.name)
        installed_manifest = destination / manifest.name
        installed_manifest.unlink(missing_ok=True)
        installed = []
        for source in files:
            target = destination / source.name
            if target.is_dir():
                swap_into_place(staging / source.name, target)
            else:
                os.replace(staging / source.name, target)
            installed.append(target)
        os.replace(staging / manifest.name, installed_manifest)
        return [*installed, installed_manifest]
    finally:
        shutil.rmtree(staging, ignore_errors=True)
