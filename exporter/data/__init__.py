"""Dataset loaders (UTKFace, Pascal VOC, WIDER FACE, dlib XML, plain media) and deterministic splits."""

from exporter.data.types import FLIP_PERMUTATION, KEYPOINT_NAMES, FaceLabel, LabelledImage, LoadReport

__all__ = ["FLIP_PERMUTATION", "KEYPOINT_NAMES", "FaceLabel", "LabelledImage", "LoadReport"]
