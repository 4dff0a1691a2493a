"""The model card: targets judged from the metrics, Markdown that carries the licence terms, atomic files."""

from __future__ import annotations

import json

from exporter.eval.model_card import build_card, check_targets, render_markdown, write_card


def metrics(age: float, gender: float, ap: float, teacher_ap: float) -> dict:
    scene = {"ap_all": ap / 2, "ap_unmasked": ap, "ap_large": ap, "faces": 10, "unmasked_faces": 4, "images": 3}
    return {
        "utkface_val": {"crops": 100, "facekit": {"age_mae": age, "gender_accuracy": gender, "detected": 1.0, "count": 100}},
        "facemask_val": {"facekit": scene, "blazeface_short": {**scene, "ap_unmasked": teacher_ap}},
    }


def test_targets_met_and_missed():
    met = {r["name"]: r["met"] for r in check_targets(metrics(5.5, 0.92, 0.5, 0.5))}
    assert all(met.values()) and len(met) == 3
    missed = check_targets(metrics(6.5, 0.85, 0.3, 0.5))
    assert [r["met"] for r in missed] == [False, False, False]
    assert missed[2]["measured"] == 0.3 / 0.5


def test_card_files(tmp_path):
    history = [{"step": s, "elapsed_s": s * 0.5, "age_mae": 9.0, "gender_accuracy": 0.8, "ap_unmasked": 0.2,
                "ap_large": 0.5} for s in (250, 500)]
    payload = {"model_config": {"width": 1.0}, "anchors": {}, "decode": {},
               "train": {"config": {"variant": "facekit-s", "steps": 500}, "step": 500, "history": history, "data": {}}}
    card = build_card(payload, metrics(6.5, 0.85, 0.3, 0.5), "128 parameters", tmp_path / "m.pt", "make train")
    paths = write_card(card, tmp_path)
    assert [p.name for p in paths] == ["model_card.json", "MODEL_CARD.md", "training_curves.png"]
    assert json.loads(paths[0].read_text())["training"]["seconds"] == 250.0
    text = render_markdown(card)
    assert "non-commercial" in text and "| NO |" in text and "make train" in text
    assert paths[2].read_bytes()[:4] == b"\x89PNG"
    assert not list(tmp_path.glob(".*"))
