"""Give a trained model binned age heads: age becomes the mean of a softmax over K bins (label-distribution learning)."""

from __future__ import annotations

import dataclasses

from exporter.model.blazeface import FaceKitNet


def with_age_bins(model: FaceKitNet, bins: int) -> FaceKitNet:
    """A copy of `model` with K-bin age heads, started near 30 years; every other weight is kept."""
    if model.config.age_bins:
        raise ValueError(f"--age-bins: the --init model already reads age from {model.config.age_bins} bins")
    binned = FaceKitNet(dataclasses.replace(model.config, age_bins=bins))  # ModelConfig checks the count
    kept = {k: v for k, v in model.state_dict().items() if not k.startswith(("attr16.age.", "attr8.age."))}
    missing, unexpected = binned.load_state_dict(kept, strict=False)
    assert not unexpected and all(k.startswith(("attr16.age.", "attr8.age.")) for k in missing)
    return binned.train(model.training)
