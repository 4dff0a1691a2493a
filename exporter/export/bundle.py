"""The export bundle: manifest, integration README, golden vectors; moved into place atomically; app installs."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import jsonschema
import numpy as np

from exporter import __version__
from exporter.data.types import KEYPOINT_NAMES
from exporter.export.artifacts import Artifact
from exporter.detector import Decoder
from exporter.export.verify import THRESHOLDS
from exporter.paths import PACKAGE_DIR, REPO_ROOT
from exporter.postprocess import DecodeConfig
from exporter.spec import FACEKIT, OUTPUT_MEANINGS, OUTPUT_NAMES

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


def golden_vectors(model_runner, squares: np.ndarray, names: list[str], folder: Path) -> list[str]:
    """golden/<name>.json: input tensor (uint8 NHWC), PyTorch raw outputs and decoded faces, for the apps' tests."""
    folder.mkdir(parents=True, exist_ok=True)
    outputs = model_runner(squares)
    faces = Decoder(FACEKIT).decode_batch(outputs)
    written = []
    for i, name in enumerate(names):
        path = folder / f"{Path(name).stem}.json"
        path.write_text(json.dumps({
            "image": name,
            "input": {"shape": list(squares[i:i + 1].shape), "dtype": "uint8", "layout": "NHWC",
                      "data": squares[i].reshape(-1).tolist()},
            "outputs": {n: {"shape": list(o[i:i + 1].shape), "data": [round(float(v), 6) for v in o[i].reshape(-1)]}
                        for n, o in zip(OUTPUT_NAMES, outputs)},
            "decode": vars(DecodeConfig()),
            "faces": [f.to_dict() for f in faces[i]],
        }))
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
        "anchors": {**anchors, "count": int(len(FACEKIT.anchor_table())),
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
