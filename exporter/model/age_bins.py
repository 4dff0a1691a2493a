"""Give a trained model binned age heads: age becomes the mean of a softmax over K bins (label-distribution learning)."""

from __future__ import annotations

import dataclasses

from exporter.model.blazeface import FaceKitNet
from exporter.model.widen import copy_weights_except


def with_age_bins(model: FaceKitNet, bins: int) -> FaceKitNet:
    """A copy of `model` with K-bin age heads, started near 30 years; every other weight is kept."""
    if model.config.age_bins:
        raise ValueError(f"--age-bins: the --init model already reads age from {model.config.age_bins} bins")
    binned = FaceKitNet(dataclasses.replace(model.config, age_bins=bins))  # ModelConfig checks the count
    copy_weights_except(model, binned, ("attr16.age.", "attr8.age."))
    return binned.train(model.training)
