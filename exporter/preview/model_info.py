"""Model page logic: the verification table of the last export, and the bundle as a zip in memory."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

MANIFEST_SECTIONS = ("input", "outputs", "anchors", "decode", "keypoints", "age_gender", "thresholds")


def verification_rows(manifest: dict) -> list[dict]:
    """Per model file: status, size and its agreement with PyTorch on the held-out images (as `make export` prints)."""
    rows = []
    for model in manifest["models"]:
        parity = model.get("parity") or {}
        rows.append({
            "format": model["format"], "precision": model["precision"], "file": model["file"],
            "status": model.get("status"), "size KB": round(model["size_bytes"] / 1024, 1) if "size_bytes" in model else None,
            "max |err|": max(parity["max_abs_error"].values()) if parity.get("max_abs_error") else None,
            "err / range": max(parity["max_error_over_range"].values()) if parity.get("max_error_over_range") else None,
            "faces matched": parity.get("faces_matched"), "age ±": parity.get("mean_age_difference"),
            "gender agreement": parity.get("gender_agreement"), "host ms": model.get("host_latency_ms"),
            "note": model.get("note") or ""})
    return rows


def bundle_zip(folder: Path) -> bytes:
    """Every file of the bundle in a zip, built in memory (nothing is written)."""
    folder = Path(folder)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            archive.write(path, Path(folder.name) / path.relative_to(folder))
    return buffer.getvalue()
