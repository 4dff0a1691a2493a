"""Widen a trained model's age/gender branches (Net2Net style): the new channels start silent, so outputs are unchanged."""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from exporter.model.blazeface import AttributeBranch, FaceKitNet


def _widen_branch(old: AttributeBranch, new: AttributeBranch) -> None:
    """Copy `old` into the first channels of `new`; the age and gender heads read the added channels with weight 0."""
    kept = old.pointwise.out_channels
    with torch.no_grad():
        new.depthwise.load_state_dict(old.depthwise.state_dict())
        new.pointwise.weight[:kept] = old.pointwise.weight
        new.pointwise.bias[:kept] = old.pointwise.bias
        for name in ("weight", "bias", "running_mean", "running_var"):
            getattr(new.norm, name)[:kept] = getattr(old.norm, name)
        new.norm.num_batches_tracked.copy_(old.norm.num_batches_tracked)
        for head in ("age", "gender"):
            old_head, new_head = getattr(old, head), getattr(new, head)
            new_head.weight.zero_()
            new_head.weight[:, :kept] = old_head.weight
            new_head.bias.copy_(old_head.bias)


def copy_weights_except(source: FaceKitNet, target: FaceKitNet, prefixes: tuple[str, ...]) -> None:
    """Copy every weight of `source` into `target` but those whose names start with one of `prefixes`."""
    kept = {k: v for k, v in source.state_dict().items() if not k.startswith(prefixes)}
    missing, unexpected = target.load_state_dict(kept, strict=False)
    assert not unexpected and all(k.startswith(prefixes) for k in missing)


def widen_attributes(model: FaceKitNet, channels: int) -> FaceKitNet:
    """A copy of `model` whose age/gender branches have `channels` channels and which gives the same outputs."""
    current = model.config.attr_channels
    if channels < current:
        raise ValueError(f"--attr-channels {channels} would narrow the age/gender branch of {current} channels; "
                         f"pass at least {current}")
    if any(not isinstance(m.norm, nn.BatchNorm2d) for m in (model.attr16, model.attr8)):
        raise ValueError("widen_attributes needs a training model, not one with its BatchNorm folded")
    wider = FaceKitNet(dataclasses.replace(model.config, attr_channels=channels))
    copy_weights_except(model, wider, ("attr16.", "attr8."))
    _widen_branch(model.attr16, wider.attr16)
    _widen_branch(model.attr8, wider.attr8)
    return wider.train(model.training)
