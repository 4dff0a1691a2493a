"""The paired comparison of two checkpoints: intervals that separate real differences from noise, and the CLI."""

from __future__ import annotations

import numpy as np
import pytest

from exporter.commands import evaluate
from exporter.detector import Detector
from exporter.eval.paired import Difference, ap_difference, compare, mean_difference, render_markdown
from exporter.metrics import TP, FP, ImageMatches
from exporter.model.registry import build_model
from exporter.paths import DEFAULT_CHECKPOINT


def test_a_model_better_on_every_item_is_better_and_noise_is_not():
    rng = np.random.default_rng(1)
    reference = rng.uniform(0, 20, 500)
    better = mean_difference("age", reference - 1.0, reference, lower_is_better=True)
    assert better.verdict == "better" and better.high < 0 and better.candidate == pytest.approx(reference.mean() - 1)
    noisy = mean_difference("age", reference + rng.normal(0, 2, 500), reference, lower_is_better=True)
    assert noisy.verdict == "within noise" and noisy.low < 0 < noisy.high
    right = (rng.uniform(size=500) < 0.8).astype(float)
    worse = mean_difference("gender", np.where(np.arange(500) < 50, 0.0, right), right, lower_is_better=False)
    assert worse.verdict == "worse" and worse.high < 0


def test_the_interval_narrows_with_more_items():
    rng = np.random.default_rng(2)
    widths = []
    for items in (100, 1600):
        reference = rng.uniform(0, 20, items)
        d = mean_difference("age", reference + rng.normal(0, 2, items), reference, lower_is_better=True)
        widths.append(d.high - d.low)
    assert widths[1] < widths[0] / 3  # about 1/sqrt(16)


def test_mismatched_items_are_refused():
    with pytest.raises(ValueError, match="one value per item"):
        mean_difference("age", np.zeros(3), np.zeros(4), lower_is_better=True)
    with pytest.raises(ValueError, match="the same photos"):
        ap_difference("AP", [ImageMatches(np.array([TP]), np.array([0.9]), 1)], [], resamples=10)


def test_ap_of_a_detector_that_finds_more_faces_is_better():
    def photo(hit: bool) -> ImageMatches:  # a missed face: a box elsewhere, scored lower
        return ImageMatches(np.array([TP if hit else FP], np.int8), np.array([0.9 if hit else 0.3]), 1)

    candidate = [photo(True) for _ in range(40)]
    reference = [photo(i % 2 == 0) for i in range(40)]
    d = ap_difference("AP", candidate, reference, resamples=300)
    assert d.candidate == pytest.approx(1.0) and d.reference == pytest.approx(0.5)
    assert d.verdict == "better" and d.low > 0


def test_markdown_lists_every_figure_with_its_verdict():
    rows = [Difference("age MAE (years), 1x, model alone", 10, 6.5, 7.0, -0.8, -0.2, True),
            Difference("AP@0.5 all, dlib faces", 9, 0.40, 0.45, -0.1, 0.02, False)]
    text = render_markdown(rows, "new.pt", "old.pt")
    assert "| age MAE (years), 1x, model alone | 10 | 6.500 | 7.000 | -0.500 | -0.800 to -0.200 | better |" in text
    assert "| AP@0.5 all, dlib faces | 9 | 0.400 | 0.450 | -0.050 | -0.100 to +0.020 | within noise |" in text


def test_a_checkpoint_against_itself_differs_in_nothing(datasets):
    detector = Detector.from_torch(build_model("facekit-xs").eval(), second_look=None)
    rows = compare(detector, detector, datasets, utk_limit=6, progress=False, resamples=20)
    figures = [r.figure for r in rows]
    assert "age MAE (years), 2x, second look" in figures and "AP@0.5 unmasked, face-mask report split" in figures
    assert all(r.candidate == r.reference and r.low == r.high == 0 for r in rows)


def test_against_refuses_a_card_and_a_missing_checkpoint(tmp_path, capsys):
    with pytest.raises(SystemExit):
        evaluate.main(["--against", str(DEFAULT_CHECKPOINT), "--card", str(tmp_path)])
    assert "--against prints a comparison" in capsys.readouterr().err
    code = evaluate.main(["--against", str(tmp_path / "missing.pt"), "--data", str(tmp_path)])
    assert code == 1 and "missing.pt" in capsys.readouterr().err


def test_exported_files_can_be_compared(exported, assets, tmp_path, capsys):
    from exporter.image_io import read_rgb

    photo = read_rgb(assets["obama.jpg"])
    for name in ("facekit_int8.tflite", "facekit.onnx"):
        faces = evaluate.model_detector(exported[0] / name).first_look(photo)
        assert len(faces) == 1 and faces[0].age > 18
    code = evaluate.main(["--checkpoint", str(tmp_path / "gone.tflite"), "--against", str(DEFAULT_CHECKPOINT)])
    assert code == 1 and "gone.tflite not found" in capsys.readouterr().err
    for name in ("bad.onnx", "bad.tflite"):
        (tmp_path / name).write_text("not a model")
        code = evaluate.main(["--checkpoint", str(tmp_path / name), "--against", str(DEFAULT_CHECKPOINT)])
        assert code == 1 and f"{name} cannot be loaded by its runtime" in capsys.readouterr().err
