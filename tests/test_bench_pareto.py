"""The compression report's logic: Pareto fronts, the two targets, and the files it writes."""

from __future__ import annotations

import json

import pytest

from exporter.bench.pareto import SHIPPED, check_targets, find_variants, pareto_front
from exporter.bench.pareto_report import render_markdown, write_pareto


def _row(name: str, ratio: float, age: float, ap: float, size: int, method: str = "prune") -> dict:
    return {"variant": name, "method": method, "amount": 0.5, "fine_tune_steps": 600, "parameters": 50_000, "macs": 10_000_000,
            "int8_bytes": size, "int8_gzip_bytes": size // 2, "fp16_bytes": 2 * size, "fp16_gzip_bytes": size,
            "coreml_bytes": 3 * size, **({"coreml_lut_bytes": size} if method == "palettize" else {}),
            "ratio_to_mediapipe": ratio, "fp16_ratio_to_mediapipe": ratio * 0.9, "age_mae": age,
            "gender_accuracy": 0.8, "ap_unmasked": ap, "ap_dlib": 0.4, "from_shipped": True,
            "int8_parts": {"file": size, "int8_constants": size // 2, "int32_constants": 10_240, "float_constants": 0,
                           "quantisation": size // 4, "tensor_names": 7_168, "metadata": 3_072,
                           "structure": size // 4 - 20_480}}


ROWS = [_row(SHIPPED, 1.2, 7.0, 0.20, 200_000, "none"), _row("fast-good", 0.55, 7.2, 0.195, 150_000),
        _row("fast-bad", 0.5, 8.0, 0.15, 90_000), _row("slow-worse", 1.3, 7.5, 0.18, 210_000, "palettize")]


def test_front_keeps_only_unbeaten_variants():
    assert pareto_front(ROWS, "ratio_to_mediapipe", "age_mae") == [SHIPPED, "fast-good", "fast-bad"]


def test_targets_name_the_variant_that_meets_them_or_the_closest():
    latency, size = check_targets(ROWS)
    assert latency["met"] and latency["variant"] == "fast-good"
    assert latency["region"] == pytest.approx({"ratio_to_mediapipe": 0.6, "age_mae": 7.3, "ap_unmasked": 0.19})  # the plot's box
    assert not size["met"] and size["variant"] is None  # fast-bad is small but 1 year worse (bound doubled: 0.6)
    assert size["closest"] == {"variant": "fast-bad", "int8_bytes": 90_000}


def test_a_variant_past_the_age_bound_does_not_count():
    rows = [ROWS[0], _row("fast", 0.55, 7.31, 0.2, 150_000)]
    assert not check_targets(rows)[0]["met"]


def test_variants_are_the_shipped_one_then_each_compressed_run(tmp_path):
    for name in ("prune-0.5", "lowrank-0.25"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "best.pt").write_bytes(b"x")
    (tmp_path / "empty").mkdir()
    found = find_variants(tmp_path / "shipped.pt", tmp_path)
    assert [v.name for v in found] == [SHIPPED, "lowrank-0.25", "prune-0.5"]


@pytest.fixture
def report():
    return {"created": "now", "command": "facekit bench --pareto", "host": "test", "runs": 10, "mediapipe_infer_ms": 2.5,
            "utkface_crops": 100, "scene_images": 20, "variants": ROWS,
            "front_age": pareto_front(ROWS, "ratio_to_mediapipe", "age_mae"), "front_ap": [SHIPPED],
            "targets": check_targets(ROWS)}


def test_markdown_has_a_row_per_variant_and_each_target(report):
    text = render_markdown(report)
    assert all(f"| {r['variant']} |" in text for r in ROWS)
    assert "**met** by fast-good" in text and "**not met**" in text
    assert "| fast-bad | 88 | 44 | 10 | 22 | 7 | 3 | 2 |" in text  # where the int8 file's bytes go, KB
    assert "| 586 | 1.200 |" in text and "| 615 (205) | 1.300 |" in text  # Core ML KB, with the table's for palettize


def test_report_folder_is_written_whole(report, tmp_path):
    folder = write_pareto(report, tmp_path / "pareto")
    assert sorted(p.name for p in folder.iterdir()) == ["pareto.json", "pareto.md", "pareto.png"]
    assert json.loads((folder / "pareto.json").read_text())["variants"][1]["variant"] == "fast-good"
    assert (folder / "pareto.png").read_bytes()[:4] == b"\x89PNG"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_variant_trained_from_scratch_is_described_as_such(tmp_path):
    from exporter.bench.pareto import Variant, describe
    from exporter.checkpoint import save_checkpoint
    from exporter.model import build_model

    model = build_model("facekit-xs")
    save_checkpoint(tmp_path / "shipped.pt", model)
    save_checkpoint(tmp_path / "scratch.pt", model, {"train": {"step": 1750}, "init": {"best_step": 2750}})
    shipped = describe(Variant(SHIPPED, tmp_path / "shipped.pt"), "sha")
    scratch = describe(Variant("search-0.7-scratch", tmp_path / "scratch.pt"), "sha")
    assert (shipped["method"], shipped["fine_tune_steps"], shipped["from_shipped"]) == ("none", 0, True)
    assert (scratch["method"], scratch["fine_tune_steps"], scratch["from_shipped"]) == ("from scratch", 4500, False)
    save_checkpoint(tmp_path / "kd.pt", model, {"train": {"step": 1000}, "distill_from": {"sha256": "sha"}})
    distilled = describe(Variant("search-0.7-scratch-kd", tmp_path / "kd.pt"), "sha")
    assert (distilled["method"], distilled["from_shipped"]) == ("from scratch, distilled from shipped", False)
    compressed = {"method": "size", "amount": 100.0, "base_sha256": "sha", "fine_tune_steps": 7200}
    save_checkpoint(tmp_path / "staged.pt", model, {"train": {"step": 1750, "config": {"recipe": "attributes"}},
                                                    "init": {"best_step": 7000, "compress": compressed}})
    staged = describe(Variant("size-100-7200-attributes", tmp_path / "staged.pt"), "sha")
    assert (staged["method"], staged["amount"], staged["fine_tune_steps"], staged["from_shipped"]) == (
        "size, then attributes", 100.0, 8950, True)
