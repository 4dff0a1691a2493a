"""The second look: the model reads age and gender best when a face fills its input, so a face that is small in
the input is cropped square from the image and run through the same pipeline once more.

Integer geometry, so the Android and iOS cores reproduce it bit for bit: for a face box (x0, y0, x1, y1) in image
pixels, side = round_half_up(crop_scale * max(x1 - x0, y1 - y0)), left = round_half_up((x0 + x1) / 2 - side / 2),
top likewise; the crop is that square of the image, black where it sticks out. It goes through the same letterbox
(a square: a plain resize) and model; the age and P(female) of the face nearest the crop centre replace the
first ones. Box, keypoints and score stay those of the first look.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from exporter.postprocess import DecodeConfig, Face

@dataclass(frozen=True)
class SecondLook:
    """When and how to look again at a small face."""

    # look again when the box side is below this share of the image's longer side: the model's box spans ~0.95 of
    # a UTKFace crop, so a crop filling the input is left alone and one at half the input side (box ~0.47) is not
    max_face_fraction: float = 0.6
    # crop side / box side: the model's box spans ~0.95 of a UTKFace crop, and training crops fill 55-100% of the
    # input, so 1.25 shows the face as the heads saw it most (box at 0.8 of the input side)
    crop_scale: float = 1.25
    max_faces: int = 4  # at most this many faces per image, the highest scores first
    refresh_every: int = 30  # video: a tracked face is looked at again after this many frames (see exporter.reuse)

    def __post_init__(self) -> None:
        if not 0.0 < self.max_face_fraction <= 1.0:
            raise ValueError(f"max_face_fraction must be in (0, 1], got {self.max_face_fraction}")
        if self.crop_scale < 1.0:
            raise ValueError(f"crop_scale must be at least 1, got {self.crop_scale}")
        if self.max_faces < 0:
            raise ValueError(f"max_faces must be at least 0, got {self.max_faces}")
        if self.refresh_every < 1:
            raise ValueError(f"refresh_every must be at least 1, got {self.refresh_every}")


def round_half_up(value: float) -> int:
    """floor(value + 0.5): the rounding every port uses (not Python's round-half-even)."""
    return int(math.floor(value + 0.5))


def crop_square(box: np.ndarray, crop_scale: float) -> tuple[int, int, int]:
    """(left, top, side) in image pixels of the square around a face box."""
    x0, y0, x1, y1 = (float(v) for v in box)
    side = max(1, round_half_up(crop_scale * max(x1 - x0, y1 - y0)))
    return round_half_up((x0 + x1) / 2 - side / 2), round_half_up((y0 + y1) / 2 - side / 2), side


def cut_square(image_rgb: np.ndarray, left: int, top: int, side: int) -> np.ndarray:
    """The side x side square of the image at (left, top), black where it lies outside the image."""
    out = np.zeros((side, side, 3), image_rgb.dtype)
    h, w = image_rgb.shape[:2]
    sx0, sy0, sx1, sy1 = max(left, 0), max(top, 0), min(left + side, w), min(top + side, h)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - top : sy1 - top, sx0 - left : sx1 - left] = image_rgb[sy0:sy1, sx0:sx1]
    return out


def wants_second_look(face: Face, image_shape: tuple[int, ...], look: SecondLook) -> bool:
    """Whether a face (image pixels) is small enough in the input to be looked at again."""
    side = max(float(face.box[2] - face.box[0]), float(face.box[3] - face.box[1]))
    return side < look.max_face_fraction * max(image_shape[:2])


@dataclass(frozen=True)
class PlannedLook:
    """A second look to take: which face (index in the first look's list) and the square to cut, in image pixels."""

    face_index: int
    left: int
    top: int
    side: int


def plan_looks(faces: list[Face], image_shape: tuple[int, ...], look: SecondLook) -> list[PlannedLook]:
    """The small faces with age and gender, highest score first (ties: list order), at most look.max_faces."""
    small = [i for i, f in enumerate(faces) if f.age is not None and wants_second_look(f, image_shape, look)]
    small = sorted(small, key=lambda i: -faces[i].score)[: look.max_faces]
    return [PlannedLook(i, *crop_square(faces[i].box, look.crop_scale)) for i in small]


def nearest_to_centre(faces: list[Face], side: int) -> int | None:
    """Index of the face whose box centre is nearest the centre of a side x side crop (None when there is none;
    ties: the first)."""
    if not faces:
        return None
    centre = side / 2
    distances = [(float(f.box[0] + f.box[2]) / 2 - centre) ** 2 + (float(f.box[1] + f.box[3]) / 2 - centre) ** 2
                 for f in faces]
    return distances.index(min(distances))


def look_at(
    image_rgb: np.ndarray,
    face: Face,
    first_look: Callable[[np.ndarray, DecodeConfig], list[Face]],
    config: DecodeConfig,
    look: SecondLook,
) -> Face | None:
    """The face the model finds nearest the centre of the square around `face` (crop pixels; None: no face)."""
    left, top, side = crop_square(face.box, look.crop_scale)
    found = first_look(cut_square(image_rgb, left, top, side), config)
    best = nearest_to_centre(found, side)
    return None if best is None else found[best]


def look_again(
    image_rgb: np.ndarray,
    faces: list[Face],
    first_look: Callable[[np.ndarray, DecodeConfig], list[Face]],
    config: DecodeConfig,
    look: SecondLook,
) -> tuple[list[Face], int]:
    """Faces with age and P(female) from a second look where the face is small; also the number of extra runs."""
    planned = plan_looks(faces, image_rgb.shape, look)
    out = list(faces)
    for p in planned:
        seen = look_at(image_rgb, faces[p.face_index], first_look, config, look)
        if seen is not None:
            out[p.face_index] = replace(faces[p.face_index], age=seen.age, female=seen.female)
    return out, len(planned)
