"""The export bundle: manifest, integration README, golden vectors; moved into place atomically; app installs."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path

import jsonschema
import numpy as np

from exporter import __version__
from exporter.atomic import use_umask
from exporter.jsonio import MB, JsonFileError, load_json, write_json
from exporter.data.types import KEYPOINT_NAMES
from exporter.export.artifacts import OUTPUT_NAMES, Artifact
from exporter.export.verify import THRESHOLDS, decode_all
from exporter.paths import PACKAGE_DIR, REPO_ROOT
from exporter.postprocess import FRONT_ANCHORS, DecodeConfig, generate_anchors

MANIFEST_SCHEMA = PACKAGE_DIR / "schemas" / "manifest.schema.json"
MAX_MANIFEST_BYTES = 4 * MB  # a manifest of every format is about 30 KB
INSTALL_STAGING = ".facekit-install-"
OUTPUT_MEANINGS = {
    "regressors": "per anchor: box centre dx, dy, width, height, then 6 keypoints (x, y); input pixels, relative "
                  "to the anchor centre (decoded = raw / input_size + anchor centre)",
    "scores": "per anchor: face logit; probability = sigmoid(logit)",
    "age": "per anchor: age / age_scale (years = raw * age_scale)",
    "gender": "per anchor: gender logit; P(female) = sigmoid(logit)",
}


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


def golden_vectors(model_runner, squares: np.ndarray, names: list[str], folder: Path) -> list[str]:
    """golden/<name>.json: input tensor (uint8 NHWC), PyTorch raw outputs and decoded faces, for the apps' tests."""
    folder.mkdir(parents=True, exist_ok=True)
    outputs = model_runner(squares)
    faces = decode_all(outputs)
    written = []
    for i, name in enumerate(names):
        path = folder / f"{Path(name).stem}.json"
        write_json(path, {
            "image": name,
            "input": {"shape": list(squares[i:i + 1].shape), "dtype": "uint8", "layout": "NHWC",
                      "data": squares[i].reshape(-1).tolist()},
            "outputs": {n: {"shape": list(o[i:i + 1].shape), "data": [round(float(v), 6) for v in o[i].reshape(-1)]}
                        for n, o in zip(OUTPUT_NAMES, outputs)},
            "decode": vars(DecodeConfig()),
            "faces": [f.to_dict() for f in faces[i]],
        }, indent=None)
        written.append(path.name)
    return written


def build_manifest(target: str, checkpoint: Path, payload: dict, entries: list[dict], golden: list[str],
                   verification: dict, folder: Path) -> dict:
    """Everything an app needs to run and decode the models, with each file's sha256."""
    anchors = payload["anchors"]
    return {
        "schema_version": 1,
        "facekit_version": __version__,
        "target": target,
        "created_unix": int(time.time()),
        "checkpoint": {"file": _shown(checkpoint), "sha256": sha256_of(checkpoint), "model_config": payload["model_config"],
                       "train_step": payload.get("train", {}).get("step")},
        "input": {
            "size": payload["model_config"]["input_size"], "colour": "RGB", "dtype_float": "float32",
            "letterbox": "pad the shorter side with black to a centred square, then shrink by area averaging "
                         "(bilinear when enlarging); squares at least 4x the input side are first halved with 2x2 "
                         "block means (exporter/preprocess.py is the reference; golden/*.json hold exact inputs)",
            "normalisation": "x / 127.5 - 1 (mean 127.5, std 127.5 per channel); full-int8 models take "
                             "q = round(x_norm / scale + zero_point) with their input scale/zero_point",
        },
        "outputs": [{"name": n, "meaning": OUTPUT_MEANINGS[n]} for n in OUTPUT_NAMES],
        "anchors": {**anchors, "count": int(len(generate_anchors(FRONT_ANCHORS))),
                    "order": "16x16 grid (2 per cell) then 8x8 grid (6 per cell); rows, then columns, then anchors",
                    "fixed_size": True},
        "decode": {**payload["decode"], "score": "sigmoid of the logit clipped to [-100, 100]",
                   "nms": "weighted: each cluster of boxes overlapping the top one by IoU > iou_threshold is blended "
                          "by score (box, keypoints, age, P(female)); the face score is the top score"},
        "keypoints": list(KEYPOINT_NAMES),
        "age_gender": {"age": "years = age_scale * blended raw age", "gender": "P(female) = blended sigmoid(gender logit)"},
        "models": entries,
        "golden": [{"file": f"golden/{name}", "sha256": sha256_of(folder / "golden" / name)} for name in golden],
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
