"""`facekit compress`: each method writes a checkpoint that loads and exports; bad options get clear errors."""

from __future__ import annotations

import pytest
import torch

from cli_cases import run, snapshot
from exporter.checkpoint import load_model, read_checkpoint, save_checkpoint
from exporter.compress.palettize import distinct_values
from exporter.digest import sha256_of
from exporter.model import build_model


@pytest.fixture
def tiny_checkpoint(tmp_path):
    path = tmp_path / "xs.pt"
    save_checkpoint(path, build_model("facekit-xs").eval())
    return path


def test_palettize_writes_a_checkpoint_without_data(capsys, tmp_path, tiny_checkpoint):
    result = run(capsys, "compress", "--method", "palettize", "--amount", 4, "--checkpoint", tiny_checkpoint,
                 "--out", tmp_path / "p4")
    assert result.code == 0, result.err
    assert "make export CHECKPOINT=" in result.out
    model, payload = load_model(tmp_path / "p4" / "best.pt", fold_batchnorm=True)
    assert max(distinct_values(model).values()) <= 16
    assert payload["compress"]["method"] == "palettize" and payload["compress"]["amount"] == 4


def test_no_fine_tuning_writes_the_cut_model_without_data(capsys, tmp_path, tiny_checkpoint):
    result = run(capsys, "compress", "--method", "prune", "--amount", 0.5, "--steps", 0, "--checkpoint", tiny_checkpoint,
                 "--out", tmp_path / "p")
    assert result.code == 0, result.err
    pruned, payload = load_model(tmp_path / "p" / "best.pt")
    assert payload["compress"]["fine_tune_steps"] == 0
    assert pruned.stem[0].out_channels < load_model(tiny_checkpoint)[0].stem[0].out_channels
    result = run(capsys, "compress", "--method", "prune", "--amount", 0.5, "--steps", -1, "--out", tmp_path / "q")
    assert result.code == 2 and "--steps must be 0" in result.err and not (tmp_path / "q").exists()


@pytest.mark.needs_data
def test_prune_fine_tunes_and_resumes(capsys, tmp_path, tiny_checkpoint, datasets):
    smoke = ["--steps", 2, "--batch-size", 4, "--val-every", 2, "--utk-limit", 24, "--scene-limit", 4, "--val-utk", 8,
             "--data", datasets]
    out = tmp_path / "prune"
    result = run(capsys, "compress", "--method", "prune", "--amount", 0.5, "--checkpoint", tiny_checkpoint, "--out", out, *smoke)
    assert result.code == 0, result.err
    payload = read_checkpoint(out / "best.pt")
    assert payload["compress"]["fine_tune_steps"] == 2
    pruned, _ = load_model(out / "best.pt")
    base, _ = load_model(tiny_checkpoint)
    assert pruned.stem[0].out_channels < base.stem[0].out_channels
    steps = smoke[:]
    steps[1] = 3
    result = run(capsys, "compress", "--method", "prune", "--amount", 0.5, "--checkpoint", tiny_checkpoint, "--out", out,
                 *steps, "--resume")
    assert result.code == 0, result.err
    assert read_checkpoint(out / "last.pt")["train"]["step"] == 3


@pytest.mark.parametrize("argv, message", [
    (["--method", "prune", "--amount", "1.5"], "between 0 and 1"),
    (["--method", "palettize", "--amount", "12"], "between 1 and 8"),
    (["--method", "shrink", "--amount", "0.5"], "invalid choice"),
])
def test_bad_options_are_explained_and_write_nothing(capsys, tmp_path, tiny_checkpoint, argv, message):
    out = tmp_path / "out"
    result = run(capsys, "compress", *argv, "--checkpoint", tiny_checkpoint, "--out", out)
    assert result.code != 0 and message in result.err
    assert not out.exists() or snapshot(out) == {}


@pytest.mark.parametrize("argv", [["--method", "prune"], ["--amount", "0.5"], ["--recipes", "--method", "prune"], []])
def test_method_and_amount_go_together_or_recipes_alone(capsys, argv):
    result = run(capsys, "compress", *argv)
    assert result.code == 2 and "--method and --amount, or --recipes alone" in result.err


def test_missing_checkpoint_is_explained(capsys, tmp_path):
    result = run(capsys, "compress", "--method", "lowrank", "--amount", 0.25, "--checkpoint", tmp_path / "none.pt",
                 "--out", tmp_path / "out")
    assert result.code == 1 and "does not exist" in result.err


def test_a_run_of_another_checkpoint_is_not_resumed(capsys, tmp_path, tiny_checkpoint):
    out = tmp_path / "prune-0.5"
    out.mkdir()
    retrained = tmp_path / "retrained.pt"
    save_checkpoint(retrained, build_model("facekit-xs").eval())  # other random weights: another sha256
    facts = {"method": "prune", "amount": 0.5, "base_sha256": sha256_of(tiny_checkpoint)}
    save_checkpoint(out / "last.pt", build_model("facekit-xs"), {"compress": facts})
    before = snapshot(out)
    result = run(capsys, "compress", "--method", "prune", "--amount", 0.5, "--checkpoint", retrained, "--out", out, "--resume")
    assert result.code == 1 and "base_sha256 differ" in result.err and "Move" in result.err
    assert snapshot(out) == before
    result = run(capsys, "compress", "--method", "prune", "--amount", 0.25, "--checkpoint", tiny_checkpoint, "--out", out,
                 "--resume")
    assert result.code == 1 and "amount differ" in result.err


def test_code_in_a_checkpoint_is_refused(capsys, tmp_path):
    evil = tmp_path / "evil.pt"
    torch.save({"format": "facekit-checkpoint", "x": print}, evil)
    result = run(capsys, "compress", "--method", "palettize", "--amount", 4, "--checkpoint", evil, "--out", tmp_path / "o")
    assert result.code == 1 and "refused" in result.err
