"""Save and load FaceKit checkpoints; a missing, corrupt or incompatible file gets a clear error."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from exporter.atomic import atomic_write
from exporter.model.blazeface import FaceKitNet, ModelConfig
from exporter.postprocess import FRONT_ANCHORS, DecodeConfig

FORMAT = "facekit-checkpoint"
VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint that cannot be used, with the reason and what to do."""


def save_checkpoint(path: Path, model: FaceKitNet, extra: dict[str, Any] | None = None) -> None:
    """Write the model, its config, anchors and decode settings (plus `extra`) atomically."""
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "model_config": asdict(model.config),
        "anchors": asdict(FRONT_ANCHORS),
        "decode": asdict(DecodeConfig()),
        "state_dict": {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()},
        **(extra or {}),
    }
    write_payload(path, payload)


def write_payload(path: Path, payload: dict[str, Any]) -> None:
    """torch.save a checkpoint payload atomically: a temporary file in the same folder, then a rename."""
    atomic_write(path, lambda tmp: torch.save(payload, tmp))


def read_checkpoint(path: Path) -> dict[str, Any]:
    """Load and validate the payload of a checkpoint file (no model built)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist; train one with `make train` or pass an existing file")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # torch raises many types for truncated/corrupt files
        raise CheckpointError(f"checkpoint {path} is corrupt or not a PyTorch file ({exc.__class__.__name__}: {exc}); "
                              "re-create it with `make train`") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a FaceKit checkpoint (no '{FORMAT}' marker); "
                              "FaceKit reads only files written by `facekit train`")
    if payload.get("version") != VERSION:
        raise CheckpointError(f"{path} has checkpoint version {payload.get('version')}, this FaceKit reads version {VERSION}")
    return payload


def load_model(path: Path, fold_batchnorm: bool = False) -> tuple[FaceKitNet, dict[str, Any]]:
    """Build the model a checkpoint describes and load its weights (eval mode; BatchNorm folded if asked)."""
    payload = read_checkpoint(path)
    try:
        model = FaceKitNet(ModelConfig(**payload["model_config"]))
        model.load_state_dict(payload["state_dict"])
    except (TypeError, KeyError, RuntimeError) as exc:
        raise CheckpointError(f"checkpoint {path} does not match this version of the FaceKit model: {exc}") from exc
    model.eval()
    return (model.fold_batchnorm() if fold_batchnorm else model), payload
