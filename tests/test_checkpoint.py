"""Checkpoints round-trip exactly; missing, corrupt, foreign and mismatched files get clear errors."""

from __future__ import annotations

import pytest
import torch

from exporter.checkpoint import CheckpointError, load_model, read_checkpoint, save_checkpoint, write_payload
from exporter.model import build_model


def test_round_trip_gives_identical_outputs(tmp_path):
    model = build_model("facekit-xs").eval()
    path = tmp_path / "m.pt"
    save_checkpoint(path, model, {"note": "hello"})
    loaded, payload = load_model(path)
    x = torch.rand(1, 3, 128, 128)
    with torch.no_grad():
        for a, b in zip(model(x), loaded(x)):
            assert torch.equal(a, b)
    assert payload["note"] == "hello" and payload["model_config"]["width"] == 0.5
    assert not list(tmp_path.glob(".*tmp"))  # no temporary file left behind


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist.*make train"):
        read_checkpoint(tmp_path / "none.pt")


def test_corrupt_file(tmp_path):
    path = tmp_path / "m.pt"
    save_checkpoint(path, build_model("facekit-xs"))
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match="corrupt"):
        read_checkpoint(path)


def test_foreign_file(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"state_dict": {}}, path)
    with pytest.raises(CheckpointError, match="not a FaceKit checkpoint"):
        read_checkpoint(path)


def test_incompatible_weights(tmp_path):
    path = tmp_path / "m.pt"
    save_checkpoint(path, build_model("facekit-xs"))
    payload = read_checkpoint(path)
    payload["model_config"]["width"] = 1.0  # weights no longer fit the architecture
    write_payload(path, payload)
    with pytest.raises(CheckpointError, match="does not match"):
        load_model(path)
