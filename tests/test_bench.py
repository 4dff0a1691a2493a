"""`facekit bench` in a tiny configuration: real backends, real clips, a report that validates against its schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from exporter.bench.latency import MEDIAPIPE
from exporter.bench.report import render_markdown, validate, write_report
from exporter.bench.suite import BenchSettings, find_videos, run_bench
from exporter.bench.clips import PORTRAIT, SEVERAL_FACES, TALKING_HEAD
from exporter.bench.suite import clips_per_kind
from exporter.bench.video_reuse import bench_videos, pooled
from exporter.commands import bench as bench_command
from exporter.export.images import MIN_CALIBRATION
from exporter.paths import DEFAULT_CHECKPOINT
from exporter.reuse import POLICIES

TINY = BenchSettings(mode="quick", runs=4, warmup=1, rounds=2, threads=(1,), max_clips=1, max_frames=12,
                     utk_limit=8, scenes_limit=4, qnnpack_calibration=MIN_CALIBRATION)


@pytest.fixture(scope="module")
def report(exported, datasets) -> dict:
    folder = exported[0]
    return run_bench(TINY, folder, DEFAULT_CHECKPOINT, datasets, find_videos([datasets / "videos"]), "test",
                     log=lambda *_: None)


@pytest.mark.needs_data
def test_latency_rows_cover_every_runnable_backend_and_mediapipe(report):
    rows = {r["backend"]: r for r in report["latency"]}
    assert set(rows) == {"pytorch-fp32", "pytorch-qnnpack-int8", "onnx-fp32", "tflite-fp32", "tflite-fp16",
                         "tflite-int8-dynamic", "tflite-int8", "ncnn-fp32", "ncnn-fp16", "opencv-fp32", "mnn-fp32",
                         "mnn-fp16", "mnn-int8-dynamic", "mnn-int8", "executorch-fp32", "executorch-int8", MEDIAPIPE}
    mp = rows[MEDIAPIPE]["infer_ms"]["median"]
    for row in rows.values():
        assert 0 < row["infer_ms"]["median"] <= row["infer_ms"]["p90"]
        assert row["total_ms"]["median"] >= row["infer_ms"]["median"]
        assert row["ratio_to_mediapipe"] == pytest.approx(row["infer_ms"]["median"] / mp, rel=1e-3)
    assert rows[MEDIAPIPE]["ratio_to_mediapipe"] == 1.0


@pytest.mark.needs_data
def test_qnnpack_parity_with_float_pytorch_is_reported(report):
    q = report["qnnpack"]
    assert q["backend"] == "pytorch-qnnpack-int8" and q["calibration_images"] == MIN_CALIBRATION
    parity = q["parity"]
    assert parity["images"] >= 50 and parity["reference_faces"] >= 50
    # Not the export's gate (98% of faces at IoU 0.9, one miss in 59): the bench reports a miss, it does not refuse
    # the row. Calibrated on 200 images, QNNPACK's per-tensor int8 weights kept 57 of the 59 faces on one host
    # (58 on all 1,000 images) where earlier hosts passed the gate; a broken quantisation keeps far fewer.
    assert parity["faces_matched"] >= 0.95 and parity["gender_agreement"] >= 0.95, parity
    assert parity["mean_age_difference"] <= 1.5 and parity["passed"] == (not parity["failures"]), parity
    assert "pytorch-qnnpack-int8: the model quantised for PyTorch's QNNPACK engine" in render_markdown(report)


@pytest.mark.needs_data
def test_accuracy_per_variant(report):
    rows = {r["backend"]: r for r in report["accuracy"]}
    assert "age_mae" not in rows[MEDIAPIPE] and rows["tflite-int8"]["utkface_crops"] == 8
    for key in ("pytorch-fp32", "tflite-fp32", "ncnn-fp16"):
        assert 0 <= rows[key]["gender_accuracy"] <= 1 and rows[key]["age_mae"] > 0
    # fp32 conversions score like PyTorch (same faces, same ages to a few decimals).
    assert rows["tflite-fp32"]["age_mae"] == pytest.approx(rows["pytorch-fp32"]["age_mae"], abs=0.01)


@pytest.mark.needs_data
def test_reuse_on_clips(report):
    reuse = report["reuse"]
    # one clip of each kind the dataset's folder holds
    assert sorted(c["kind"] for c in reuse["clips"]) == sorted([TALKING_HEAD, PORTRAIT, SEVERAL_FACES])
    assert all(c["frames"] == 12 for c in reuse["clips"])
    for clip in reuse["clips"]:
        assert list(clip["policies"]) == list(POLICIES)
        every = clip["policies"]["every-frame"]
        assert every["model_runs"] == 12 and every["faces_matched"] == 1.0 and every["speedup"] == 1.0
        assert every["extra_faces"] == 0.0
        assert clip["policies"]["skip-N"]["model_runs"] == 4  # frames 0, 3, 6, 9
    assert reuse["overall"]["every-frame"]["frames"] == 36
    assert set(reuse["kinds"]) == {TALKING_HEAD, PORTRAIT, SEVERAL_FACES} and reuse["recipes"] == []


@pytest.mark.needs_data
def test_second_look_cost_and_gain(report):
    second = report["second_look"]
    assert second["settings"]["max_faces"] >= 1
    assert second["cost"]["frames"] == 36 and second["cost"]["extra_runs_per_frame"] >= 0
    assert second["cost"]["with_second_look_ms"] > 0 and len(second["cost"]["clips"]) == 3
    assert 0 <= second["cost"]["tracked_looks_per_frame"] <= second["cost"]["extra_runs_per_frame"]
    assert set(second["gain"]) == {"1x", "2x", "3x"}
    for size in second["gain"].values():
        assert size["off"]["count"] == size["on"]["count"] == 8


@pytest.mark.needs_data
def test_report_folder_validates(report, tmp_path):
    folder = write_report(report, tmp_path / "bench")
    assert {p.name for p in folder.iterdir()} == {"report.json", "summary.md", "latency.png", "reuse.png"}
    validate(json.loads((folder / "report.json").read_text()))
    assert (folder / "latency.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = (folder / "summary.md").read_text()
    assert "## Targets" in summary and "tflite-int8" in summary and "motion-gated+tracking" in summary
    names = [t["name"] for t in report["targets"]]
    assert any("tflite-int8" in n for n in names) and any("talking-head" in n for n in names)
    assert any("all clips" in n for n in names) and any("worst clip" in n for n in names)
    assert "### Kind: talking head" in summary


@pytest.mark.needs_data
def test_malformed_report_is_rejected_and_nothing_written(report, tmp_path):
    broken = {**report, "latency": [{**report["latency"][0], "infer_ms": {"median": -1.0, "p90": 1.0}}]}
    with pytest.raises(jsonschema.ValidationError):
        write_report(broken, tmp_path / "bench")
    assert not any(tmp_path.iterdir())


def test_pooled_weights_by_frames_and_faces():
    def clip(frames, mean_ms, faces, matched, policy_ms, shown):
        policies = {"every-frame": {"mean_ms": mean_ms, "model_runs": frames, "reference_faces": faces, "faces_matched": 1.0,
                                    "faces_shown": faces, "extra_faces": 0.0, "mean_iou": 1.0, "age_difference": 0.0,
                                    "gender_agreement": 1.0},
                    "motion-gated": {"mean_ms": policy_ms, "model_runs": 1, "reference_faces": faces, "faces_matched": matched,
                                     "faces_shown": shown, "extra_faces": 1 - matched * faces / shown, "mean_iou": 0.8,
                                     "age_difference": 1.0, "gender_agreement": 0.9}}
        return {"frames": frames, "policies": policies}

    out = pooled([clip(10, 4.0, 10, 1.0, 1.0, 12), clip(30, 2.0, 30, 0.5, 1.0, 20)])
    assert out["every-frame"]["mean_ms"] == pytest.approx((10 * 4 + 30 * 2) / 40)
    assert out["motion-gated"]["speedup"] == pytest.approx(2.5)
    assert out["motion-gated"]["faces_matched"] == pytest.approx((10 + 15) / 40)
    assert out["motion-gated"]["extra_faces"] == pytest.approx((32 - 25) / 32)


def test_clips_per_kind_keeps_the_order():
    videos = [Path(n) for n in ("fr_short_hamilton_clip.mp4", "lp_driving_d0.mp4", "lp_driving_d3.mp4", "lp_source_s13.mp4",
                                "mine.mp4", "st_x.mp4")]
    assert clips_per_kind(videos, None) == videos
    assert [p.name for p in clips_per_kind(videos, 1)] == ["fr_short_hamilton_clip.mp4", "lp_driving_d0.mp4",
                                                           "lp_source_s13.mp4", "mine.mp4"]


def test_import_needs_a_host_report(tmp_path, capsys):
    phone = tmp_path / "phone.json"
    phone.write_text("{}")
    assert bench_command.main(["--import", str(phone), "--out", str(tmp_path / "none")]) == 1
    assert "run `make bench` first" in capsys.readouterr().err


def test_videos_must_be_videos(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("x")
    with pytest.raises(ValueError, match="neither a video"):
        find_videos([text])


@pytest.mark.needs_data
def test_an_unreadable_clip_is_skipped_and_reported(datasets, tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    clip = sorted((datasets / "videos").glob("st_*.mp4"))[0]
    reuse = bench_videos([broken, clip], lambda frame: [], max_frames=5, progress=False)
    assert [c["file"] for c in reuse["clips"]] == [clip.name]
    assert reuse["skipped"][0]["file"] == "broken.mp4" and "cannot open" in reuse["skipped"][0]["reason"]
    with pytest.raises(ValueError, match="no clip could be read"):
        bench_videos([broken], lambda frame: [], max_frames=5, progress=False)


def test_default_clips_leave_out_recipes_without_their_sources(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FACEKIT_CACHE", str(tmp_path / "cache"))
    videos = tmp_path / "videos"
    videos.mkdir()
    assert bench_command.dataset_clips(tmp_path / "none") == []
    assert bench_command.dataset_clips(videos) == []  # an empty folder: nothing to compose from, no error
    assert "mix_pan_room_s18 is not composed" in capsys.readouterr().out
