"""The README of an export bundle: how to drop the files into an existing app, written from the manifest."""

from __future__ import annotations


def _models(manifest: dict) -> list[str]:
    rows = ["| file | format | precision | status | size |", "|---|---|---|---|---|"]
    for m in manifest["models"]:
        rows.append(f"| `{m['file']}` | {m['format']} | {m['precision']} | {m['status']} | {m['size_bytes'] / 1024:.0f} KB |")
    return rows


def render_readme(manifest: dict) -> str:
    """Markdown for app developers; every figure is read from the manifest beside it."""
    a, d = manifest["anchors"], manifest["decode"]
    return "\n".join([
        f"# FaceKit export: {manifest['target']}",
        "",
        f"Made by `facekit export --target {manifest['target']}` (FaceKit {manifest['facekit_version']}) from "
        f"`{manifest['checkpoint']['file']}`. `manifest.json` holds everything below in machine-readable form, with the "
        "sha256 of every file and the verification figures.",
        "",
        *_models(manifest),
        "",
        "## Using the model in your app",
        "",
        "1. Copy the model file(s) you want and `manifest.json` into your app's assets (Android) or bundle (iOS).",
        f"2. Pre-process: {manifest['input']['letterbox']}; {manifest['input']['size']}x{manifest['input']['size']} "
        f"RGB; {manifest['input']['normalisation']}.",
        "3. Run the model. Outputs, per anchor (896 anchors):",
        *[f"   - `{o['name']}`: {o['meaning']}" for o in manifest["outputs"]],
        f"4. Decode: anchors as in `anchors` ({a['count']}, {a['order']}); keep anchors with sigmoid(score) >= "
        f"{d['score_threshold']}; {d['nms']} (iou_threshold {d['iou_threshold']}); age in years = {d['age_scale']} x raw age.",
        f"5. Keypoints, in order: {', '.join(manifest['keypoints'])} (\"right\" is the subject's right).",
        "6. Map boxes back to the image by undoing the letterbox.",
        "",
        "## Testing your port",
        "",
        "The photo files in `golden/` hold, for a few public-domain/MIT photos, the exact input tensor (uint8 NHWC), the",
        "PyTorch raw outputs and the decoded faces (normalised to the 128x128 input). Feed `outputs` to your decoder and",
        "compare with `faces` (boxes within 1e-4); feed `input` to the model and compare the outputs with the tolerances in",
        "`thresholds`.",
        "",
        "`golden/reuse_traces.json` holds the frame-reuse scheduler's decisions (every-frame, skip-N, motion-gated,",
        "motion-gated+tracking) on a short synthetic clip (a pan, a cut, weak and missed faces, a face entering at",
        "the border): decode its base64 frames, give your scheduler a detector",
        "that returns `detections[i]` on frame i, and check that every decision equals `trace[i]` (its `description`",
        "field says how).",
        "",
        "## Licence",
        "",
        "The weights were trained on UTKFace, released for non-commercial research only: see the model card",
        "(exporter/weights/MODEL_CARD.md in the FaceKit repository) before shipping them in a product.",
        "",
    ])
