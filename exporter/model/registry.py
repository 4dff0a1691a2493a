"""Named model variants: tests, training and export all read this table."""

from __future__ import annotations

from exporter.model.blazeface import FaceKitNet, ModelConfig

MODEL_VARIANTS: dict[str, ModelConfig] = {
    "facekit-s": ModelConfig(width=1.0, attr_channels=32),  # the default, shipped model (fp16 TFLite under 300 KB)
    "facekit-m": ModelConfig(width=1.25, attr_channels=96),  # wider, for users with more compute
    "facekit-xs": ModelConfig(width=0.5, attr_channels=16),  # tiny: fast tests and smoke runs
}
DEFAULT_VARIANT = "facekit-s"


def build_model(variant: str = DEFAULT_VARIANT) -> FaceKitNet:
    """Build an untrained model of a registered variant; unknown names list the valid ones."""
    if variant not in MODEL_VARIANTS:
        raise ValueError(f"unknown model variant {variant!r}; choose one of: {', '.join(MODEL_VARIANTS)}")
    return FaceKitNet(MODEL_VARIANTS[variant])
