"""Save and load FaceKit checkpoints; a missing, corrupt or incompatible file gets a clear error."""

from __future__ import annotations

import pickle
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
    """Load and validate the payload of a checkpoint file (no model built); never runs code stored in the file."""
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"checkpoint {path} is a folder; pass the .pt file (e.g. {path}/best.pt)")
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist; train one with `make train` or pass an existing file")
    try:  # weights_only: tensors and plain types only; a pickled object or function is refused, never called
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise CheckpointError(f"checkpoint {path} was refused: it holds Python objects or code, not only tensors and "
                              "plain values (FaceKit checkpoints never do; do not run files of unknown origin). "
                              "Use a checkpoint written by `facekit train`") from None
    except Exception as exc:  # torch raises many types for truncated/corrupt files
        raise CheckpointError(f"checkpoint {path} is corrupt or not a PyTorch file ({exc.__class__.__name__}: "
                              f"{str(exc)[:200]}); re-create it with `make train`") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a FaceKit checkpoint (no '{FORMAT}' marker); "
                              "FaceKit reads only files written by `facekit train`")
    if payload.get("version") != VERSION:
        raise CheckpointError(f"{path} has checkpoint version {payload.get('version')}, this FaceKit reads version {VERSION}")
    return payload


def model_config_of(payload: dict[str, Any], path: Path) -> ModelConfig:
    """The checkpoint's ModelConfig, checked field by field (types, ranges, anchor layout)."""
    raw = payload.get("model_config")
    if not isinstance(raw, dict):
        raise CheckpointError(f"checkpoint {path} has no model_config; re-create it with `make train`")
    try:
        return ModelConfig(**raw)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"checkpoint {path} has an invalid model_config: {exc}; re-create it with `make train`") from None


def _non_finite(state_dict: dict[str, torch.Tensor]) -> list[str]:
    """Names of floating-point tensors holding NaN or inf."""
    return [k for k, v in state_dict.items() if v.is_floating_point() and not torch.isfinite(v).all()]


def load_model(path: Path, fold_batchnorm: bool = False) -> tuple[FaceKitNet, dict[str, Any]]:
    """Build the model a checkpoint describes and load its weights (eval mode; BatchNorm folded if asked)."""
    payload = read_checkpoint(path)
    model = FaceKitNet(model_config_of(payload, path))
    state = payload.get("state_dict")
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"checkpoint {path} has no state_dict of tensors; re-create it with `make train`")
    if bad := _non_finite(state):
        raise CheckpointError(f"checkpoint {path} holds NaN or infinite weights ({', '.join(bad[:3])}"
                              f"{' ...' if len(bad) > 3 else ''}): the model would produce NaN. "
                              "Training diverged: train again with a lower --lr, or use an earlier checkpoint")
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise CheckpointError(f"checkpoint {path} does not match this version of the FaceKit model: "
                              f"{str(exc)[:300]}") from None
    model.eval()
    return (model.fold_batchnorm() if fold_batchnorm else model), payload
