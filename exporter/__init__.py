"""FaceKit: a multitask face model (detector + 6 keypoints + age + gender) from training to phones."""

__version__ = "0.2.0"
