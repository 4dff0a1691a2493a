"""The one reference pipeline: letterbox -> a runner on any backend -> decode (cached anchors) -> image pixels.

Eval, bench, detect, export verification, the teachers and the preview all run models through a Detector;
the Android and iOS cores port exactly these steps (tests/golden holds what they must reproduce).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from exporter.postprocess import DecodeConfig, Face, decode_faces
from exporter.preprocess import Letterbox, letterbox
from exporter.runner import Runner, torch_runner
from exporter.second_look import SecondLook, look_again
from exporter.spec import FACEKIT, ModelSpec


@dataclass(frozen=True)
class StageTimes:
    """Seconds spent in each stage of one frame."""

    pre: float
    infer: float
    post: float

    @property
    def total(self) -> float:
        """The whole frame."""
        return self.pre + self.infer + self.post


class Decoder:
    """Raw outputs -> faces for one model spec (anchors built once)."""

    def __init__(self, spec: ModelSpec = FACEKIT, config: DecodeConfig | None = None):
        self.spec = spec
        self.config = config or spec.decode
        self.anchors = spec.anchor_table()

    def decode(self, outputs: list[np.ndarray], index: int = 0, config: DecodeConfig | None = None) -> list[Face]:
        """Faces of one item of a batch of raw outputs, normalised to the square input."""
        reg, score, *attributes = (o[index] for o in outputs)
        if not self.spec.has_attributes:
            attributes = []
        return decode_faces(reg, score, self.anchors, self.spec.input.size, config or self.config, *attributes)

    def decode_batch(self, outputs: list[np.ndarray], config: DecodeConfig | None = None) -> list[list[Face]]:
        """Faces of every item of a batch of raw outputs, normalised to the square input."""
        return [self.decode(outputs, i, config) for i in range(len(outputs[0]))]


class Detector:
    """Faces (box, keypoints, score, age, P(female)) in an RGB image, through one runner and one model spec.

    With a SecondLook (the default for models with age and gender; None switches it off), a face that is
    small in the input gets its age and gender from the same model run on a square crop around it.
    """

    def __init__(self, runner: Runner, spec: ModelSpec = FACEKIT, config: DecodeConfig | None = None,
                 second_look: SecondLook | None = SecondLook()):
        self.runner = runner
        self.spec = spec
        self.decoder = Decoder(spec, config)
        self.second_look = second_look if spec.has_attributes else None

    @classmethod
    def from_torch(cls, model: torch.nn.Module, spec: ModelSpec = FACEKIT, device: str = "cpu",
                   second_look: SecondLook | None = SecondLook()) -> Detector:
        """The PyTorch reference model as a detector."""
        return cls(torch_runner(model, spec.input, device), spec, second_look=second_look)

    def pre(self, image_rgb: np.ndarray) -> tuple[object, Letterbox]:
        """Letterbox and the runner's input preparation."""
        square, box = letterbox(image_rgb, self.spec.input.size)
        return self.runner.prepare(square), box

    def post(self, raw: object, box: Letterbox, config: DecodeConfig | None = None) -> list[Face]:
        """Dequantise, decode and map the faces back to image pixels."""
        return [face.to_image(box) for face in self.decoder.decode(self.runner.finish(raw), 0, config)]

    def timed(self, image_rgb: np.ndarray, config: DecodeConfig | None = None) -> tuple[list[Face], StageTimes]:
        """Faces in image pixels (first look only) and the seconds of each stage."""
        t0 = time.perf_counter()
        x, box = self.pre(image_rgb)
        t1 = time.perf_counter()
        raw = self.runner.infer(x)
        t2 = time.perf_counter()
        faces = self.post(raw, box, config)
        return faces, StageTimes(t1 - t0, t2 - t1, time.perf_counter() - t2)

    def first_look(self, image_rgb: np.ndarray, config: DecodeConfig | None = None) -> list[Face]:
        """Faces in image pixels from one run of the model."""
        x, box = self.pre(image_rgb)
        return self.post(self.runner.infer(x), box, config)

    def with_extra_runs(self, image_rgb: np.ndarray, config: DecodeConfig | None = None) -> tuple[list[Face], int]:
        """Faces in image pixels after the second look (when on), and how many extra model runs it took."""
        faces = self.first_look(image_rgb, config)
        if self.second_look is None:
            return faces, 0
        return look_again(image_rgb, faces, self.first_look, self.decoder.config, self.second_look)

    def __call__(self, image_rgb: np.ndarray, config: DecodeConfig | None = None) -> list[Face]:
        """Faces in image pixels (with the second look when on)."""
        return self.with_extra_runs(image_rgb, config)[0]
