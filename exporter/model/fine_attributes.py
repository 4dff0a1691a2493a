"""Let a trained model's 8x8 age/gender branch also read the finer 16x16 map; the added inputs start silent."""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from exporter.model.blazeface import FaceKitNet
from exporter.model.widen import copy_weights_except


def with_fine_attributes(model: FaceKitNet) -> FaceKitNet:
    """A copy of `model` whose 8x8 branch reads [8x8 map, 16x16 map max-pooled]; it gives the same outputs at first."""
    if model.config.fine_attributes:
        raise ValueError("--fine-attributes: the --init model's age/gender branch already reads the 16x16 map")
    if not isinstance(model.attr8.norm, nn.BatchNorm2d):
        raise ValueError("with_fine_attributes needs a training model, not one with its BatchNorm folded")
    finer = FaceKitNet(dataclasses.replace(model.config, fine_attributes=True))
    copy_weights_except(model, finer, ("attr8.depthwise.", "attr8.pointwise."))
    old, new = model.attr8, finer.attr8
    kept = old.depthwise.out_channels
    with torch.no_grad():  # the pooled 16x16 channels get their own depthwise filters and a 1x1 weight of 0
        new.depthwise.weight[:kept] = old.depthwise.weight
        new.depthwise.bias[:kept] = old.depthwise.bias
        new.pointwise.weight.zero_()
        new.pointwise.weight[:, :kept] = old.pointwise.weight
        new.pointwise.bias.copy_(old.pointwise.bias)
    return finer.train(model.training)
