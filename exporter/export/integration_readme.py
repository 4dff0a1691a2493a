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
        "`contract/` is the frozen contract a port must reproduce (`contract/contract.json` indexes it): for four real",
        "photos of different shapes, the photo (PNG), its letterboxed uint8 square (PNG: match it bit for bit), the sha256",
        "of the float32 input (match it bit for bit), the raw outputs of the fp32 TFLite file (`*.outputs.bin`, float32",
        "little-endian; decode them and compare with `faces_input` and `faces` within 1e-4) and",
        "`reuse_traces.json`, the frame-reuse scheduler's decisions on a short synthetic clip (a pan, a cut, weak and",
        "missed faces, a face entering at the border; its `description` says how to replay them: every decision must",
        "be equal).",
        "",
        "Each model file also describes itself (TFLite: LiteRT metadata with the input normalisation and the custom",
        "metadata `facekit`; ONNX: `metadata_props['facekit']`; Core ML: user-defined metadata `facekit`; ExecuTorch:",
        "the constant method `facekit`), with the same JSON as the top of this manifest.",
        "",
        "## Licence",
        "",
        "The weights were trained on UTKFace, released for non-commercial research only: see the model card",
        "(exporter/weights/MODEL_CARD.md in the FaceKit repository) before shipping them in a product.",
        "",
    ])
