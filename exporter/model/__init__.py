"""The FaceKit multitask network: BlazeFace-style backbone with detection, keypoint, age and gender heads."""

from exporter.model.blazeface import FaceKitNet, ModelConfig
from exporter.model.registry import MODEL_VARIANTS, build_model

__all__ = ["FaceKitNet", "ModelConfig", "MODEL_VARIANTS", "build_model"]
