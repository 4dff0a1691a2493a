"""Dataset loaders (UTKFace, Pascal VOC, dlib XML, plain media), the datasets folder's layout and deterministic splits."""

from exporter.data.types import FLIP_PERMUTATION, KEYPOINT_NAMES, FaceLabel, LabelledImage, LoadReport

__all__ = ["FLIP_PERMUTATION", "KEYPOINT_NAMES", "FaceLabel", "LabelledImage", "LoadReport"]
