"""Bad input against `facekit train` and `facekit eval`: options, run folders, resume files, data folders that are
missing, corrupt or too small, and damaged pseudo-label caches; each a clear message, found before the slow work."""

from __future__ import annotations

import pytest
import torch

from cli_cases import cut, hidden, malicious_checkpoint, photo, run, snapshot
from exporter.checkpoint import save_checkpoint
from exporter.data.utkface import load_utkface, split_utkface
from exporter.model import build_model
from exporter.model.age_bins import with_age_bins
from exporter.paths import DEFAULT_CHECKPOINT
from exporter.pseudo_labels import PseudoLabelCache
from exporter.train.config import TrainConfig
from exporter.train.pools import _detections


@pytest.mark.parametrize("option, value, message", [
    ("--steps", "0", "--steps must be at least 1, got 0"),
    ("--steps", "-3", "--steps must be at least 1, got -3"),
    ("--batch-size", "0", "--batch-size must be at least 1"),
    ("--val-every", "0", "--val-every must be at least 1"),
    ("--utk-limit", "0", "--utk-limit must be at least 1"),
    ("--val-utk", "-1", "--val-utk must be at least 1"),
    ("--lr", "0", "--lr must be between 0 and 1"),
    ("--lr", "nan", "--lr must be between 0 and 1"),
    ("--device", "tpu9", "unknown device 'tpu9'"),
    ("--device", "meta", "is not supported"),
    ("--recipe", "attributes", "--recipe attributes fine-tunes a trained model: pass --init"),
    ("--teacher-blend", "1.5", "--teacher-blend is a share of the teacher's prediction, from 0 to 1; got 1.5"),
    ("--teacher-blend", "nan", "--teacher-blend is a share of the teacher's prediction"),
    ("--age-balance", "2", "--age-balance is an exponent from 0 (crops drawn alike) to 1"),
    ("--age-balance", "nan", "--age-balance is an exponent from 0"),
    ("--age-bins", "1", "--age-bins must be from 2 to 101 bins of 0-100 years, got 1"),
    ("--age-bins", "500", "--age-bins must be from 2 to 101"),
    ("--age-bins", "21", "--age-bins replaces the age heads of the --init model: it needs --init"),
])
def test_train_options_are_checked_first(tmp_path, capsys, option, value, message):
    result = run(capsys, "train", "--data", tmp_path / "no-data", "--out", tmp_path / "run", option, value)
    assert result.code == 1 and message in result.err, result.err
    assert not (tmp_path / "run").exists() or not list((tmp_path / "run").iterdir())


def test_an_unknown_attribute_teacher_is_refused_by_the_config(tmp_path):
    with pytest.raises(ValueError, match="--attribute-teacher 'clip' is not one of dlib, faceapi"):
        TrainConfig(data_root=tmp_path, attribute_teacher="clip")


def test_train_init_checkpoint_missing_is_refused_before_loading_data(tmp_path, capsys):
    result = run(capsys, "train", "--data", tmp_path / "no-data", "--out", tmp_path / "run", "--recipe", "attributes",
                 "--init", tmp_path / "base.pt")
    assert result.code == 1 and f"checkpoint {tmp_path / 'base.pt'} does not exist" in result.err, result.err
    assert not (tmp_path / "run").exists() or not list((tmp_path / "run").iterdir())


def test_train_attr_channels_that_would_narrow_are_refused_before_loading_data(tmp_path, capsys):
    result = run(capsys, "train", "--data", tmp_path / "no-data", "--out", tmp_path / "run", "--recipe", "attributes",
                 "--init", DEFAULT_CHECKPOINT, "--attr-channels", "8")
    assert result.code == 1 and "--attr-channels 8 would narrow the age/gender branch of 32 channels" in result.err
    assert not (tmp_path / "run").exists() or not list((tmp_path / "run").iterdir())


def test_train_architecture_from_a_bad_checkpoint_or_with_init_is_refused_before_loading_data(tmp_path, capsys):
    common = ("train", "--data", tmp_path / "no-data", "--out", tmp_path / "run", "--architecture-from")
    result = run(capsys, *common, tmp_path / "shape.pt")
    assert result.code == 1 and f"checkpoint {tmp_path / 'shape.pt'} does not exist" in result.err, result.err
    result = run(capsys, *common, DEFAULT_CHECKPOINT, "--recipe", "attributes", "--init", DEFAULT_CHECKPOINT)
    assert result.code == 1 and "--architecture-from trains a fresh model and --init starts from trained" in result.err
    assert not (tmp_path / "run").exists() or not list((tmp_path / "run").iterdir())


def test_train_distill_from_a_missing_checkpoint_and_options_without_their_init_are_refused(tmp_path, capsys):
    common = ("train", "--data", tmp_path / "no-data", "--out", tmp_path / "run")
    result = run(capsys, *common, "--distill-from", tmp_path / "big.pt")
    assert result.code == 1 and f"checkpoint {tmp_path / 'big.pt'} does not exist" in result.err, result.err
    result = run(capsys, *common, "--fine-attributes")
    assert result.code == 1 and "--fine-attributes feeds the 16x16 map to the --init model's" in result.err
    result = run(capsys, *common, "--distill-attributes", "1")
    assert result.code == 1 and "--distill-attributes weighs the age and gender of a reference model" in result.err
    result = run(capsys, *common, "--distill-from", DEFAULT_CHECKPOINT, "--distill-attributes", "nan")
    assert result.code == 1 and "--distill-attributes is a loss weight from 0 to 10, got nan" in result.err
    assert not (tmp_path / "run").exists() or not list((tmp_path / "run").iterdir())


def test_train_age_bins_on_a_binned_model_are_refused_before_loading_data(tmp_path, capsys):
    binned = tmp_path / "binned.pt"
    save_checkpoint(binned, with_age_bins(build_model("facekit-xs"), 11))
    result = run(capsys, "train", "--data", tmp_path / "no-data", "--out", tmp_path / "run", "--recipe", "attributes",
                 "--init", binned, "--age-bins", "21")
    assert result.code == 1 and "--age-bins: the --init model already reads age from 11 bins" in result.err, result.err
    assert not (tmp_path / "run").exists() or not list((tmp_path / "run").iterdir())


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is visible, so --device cuda is valid here")
def test_train_cuda_without_a_gpu(tmp_path, capsys):
    result = run(capsys, "train", "--data", tmp_path / "no-data", "--out", tmp_path / "run", "--device", "cuda")
    assert result.code == 1 and "no CUDA GPU is visible" in result.err


def test_train_unknown_variant(tmp_path, capsys):
    result = run(capsys, "train", "--variant", "facekit-xxl", "--out", tmp_path / "run")
    assert result.code == 2 and "invalid choice: 'facekit-xxl'" in result.err


def test_train_out_is_a_file(tmp_path, capsys):
    (tmp_path / "run").write_text("keep")
    result = run(capsys, "train", "--out", tmp_path / "run")
    assert result.code == 1 and "--out" in result.err and "is a file" in result.err
    assert (tmp_path / "run").read_text() == "keep"


@pytest.mark.parametrize("ship, message", [
    ("f/shipped.pt", "--ship's folder"),
    ("f/sub/shipped.pt", "cannot be created"),
    ("folder", "is a folder; pass the checkpoint file"),
])
def test_train_bad_ship_target(tmp_path, capsys, ship, message):
    (tmp_path / "f").write_text("keep")
    (tmp_path / "folder").mkdir()
    result = run(capsys, "train", "--out", tmp_path / "run", "--ship", tmp_path / ship)
    assert result.code == 1 and message in result.err, result.err
    assert (tmp_path / "f").read_text() == "keep"


@pytest.mark.parametrize("damage, message", [
    (lambda p: cut(p, 0.3), "is corrupt or not a PyTorch file"),
    (lambda p: malicious_checkpoint(p, p.with_name("pwned")), "was refused"),
    (lambda p: p.write_bytes(b""), "is corrupt or not a PyTorch file"),
])
def test_train_bad_resume_file_is_refused_before_loading_data(tmp_path, capsys, damage, message):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    save_checkpoint(run_dir / "last.pt", build_model("facekit-xs"))
    damage(run_dir / "last.pt")
    result = run(capsys, "train", "--data", tmp_path / "no-data", "--out", run_dir, "--resume")
    assert result.code == 1 and message in result.err and "not found: expected" not in result.err
    assert not (run_dir / "pwned").exists()


def test_train_and_eval_missing_data_folder(tmp_path, capsys):
    for command in (["train", "--out", tmp_path / "run"], ["eval", "--no-teachers"]):
        result = run(capsys, *command, "--data", tmp_path / "nowhere")
        assert result.code == 1 and "utkface not found: expected UTKFace crops" in result.err


def _utk_folder(root, readable: bool, keep: str | None, count: int = 12):
    """A data folder with UTKFace-named crops (readable or random bytes) and one face-free photo; keep: only the
    files that fall into that part of the split ("train", "select" or "report"), or all (None)."""
    utk = root / "utkface"
    for i in range(count):
        path = utk / f"{20 + i}_{i % 2}_0_2017011617452{i:04d}.jpg.chip.jpg"
        if readable:
            photo(path, (200, 200), seed=i)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(bytes([i]) * 500)
    if keep is not None:
        parts = split_utkface(load_utkface(utk)[0])
        for part in ("train", "select", "report"):
            for record in getattr(parts, part) if part != keep else []:
                record.path.unlink()
    photo(root / "negatives" / "wall.jpg", (300, 200))
    return root


def test_train_data_all_corrupt(tmp_path, capsys, assets):
    data = _utk_folder(tmp_path / "data", readable=False, keep=None, count=20)
    result = run(capsys, "train", "--data", data, "--out", tmp_path / "run", "--no-distill")
    assert result.code == 1 and "has no usable UTKFace training crops" in result.err
    assert "unreadable image" in result.err


def test_train_data_too_small_for_a_select_split(tmp_path, capsys, assets):
    data = _utk_folder(tmp_path / "data", readable=True, keep="train", count=4)
    result = run(capsys, "train", "--data", data, "--out", tmp_path / "run", "--no-distill")
    assert result.code == 1 and "has no usable UTKFace select crops" in result.err
    assert not (tmp_path / "run" / "best.pt").exists()


def test_train_face_free_images_all_corrupt(tmp_path, capsys, assets):
    data = _utk_folder(tmp_path / "data", readable=True, keep=None, count=8)
    (data / "negatives" / "wall.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    result = run(capsys, "train", "--data", data, "--out", tmp_path / "run", "--no-distill")
    assert result.code == 1 and "has no usable face-free images" in result.err


def test_eval_data_all_corrupt_is_not_a_perfect_score(tmp_path, capsys, assets):
    data = _utk_folder(tmp_path / "data", readable=False, keep="report", count=40)
    result = run(capsys, "eval", "--data", data, "--no-teachers")
    assert result.code == 1 and "UTKFace crops to score could be read" in result.err
    assert '"age_mae"' not in result.out


@pytest.mark.parametrize("argv, code, message", [
    (["--video-every", "0"], 2, "--video-every must be at least 1"),
    (["--utk-limit", "0"], 2, "--utk-limit must be at least 1"),
    (["--card", "FILE"], 1, "is a file"),
])
def test_eval_options(tmp_path, capsys, argv, code, message):
    (tmp_path / "card").write_text("keep")
    argv = [tmp_path / "card" if a == "FILE" else a for a in argv]
    result = run(capsys, "eval", "--data", tmp_path / "nowhere", *argv)
    assert result.code == code and message in result.err
    assert (tmp_path / "card").read_text() == "keep"


@pytest.mark.parametrize("stored", [
    b'{"boxes": [[1, 2, 3, 4]], "keypoints": [], "scores": [0.9]}',  # lengths disagree
    b'{"boxes": "oops"}',
    b'[1, 2, 3]',
    b'{"boxes": [[1, 2, 3, 4]], "keypoints": [[[0, 0]]], "scores": [0.9]}',  # keypoints of the wrong shape
    b"[" * 5000 + b"]" * 5000,
    b'{"boxes": [[1e999, 0, 1, 1]], "keypoints": [], "scores": []}',
    b"\x00\x01 not json",
])
def test_damaged_pseudo_label_entry_is_rebuilt(tmp_path, stored):
    cache = PseudoLabelCache("teacher-x", root=tmp_path)
    key = b"image bytes"
    path = cache.path_for(key)
    path.parent.mkdir(parents=True)
    path.write_bytes(stored)
    fresh = {"boxes": [[1.0, 2.0, 3.0, 4.0]], "keypoints": [[[0.0, 0.0]] * 6], "scores": [0.9]}
    result = cache.get_or_compute(key, lambda: fresh, parse=_detections)
    assert result["boxes"].shape == (1, 4) and result["keypoints"].shape == (1, 6, 2)
    assert cache.get_or_compute(key, lambda: pytest.fail("the rebuilt entry must be reused"), parse=_detections)
    assert not hidden(tmp_path) and len(snapshot(tmp_path)) == 1
