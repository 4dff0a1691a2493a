"""The built-in image set: int8 calibration and verification on any fresh clone, without a datasets folder.

Made from photos that `facekit assets` fetches from the package registries (each pinned by sha256, licences in
exporter/assets.json): face photos of the face_recognition project's tests (MIT) and scikit-image's data (the
astronaut, public domain), and face-free photos and textures of scikit-image's data (CC0 / public domain).
Calibration and verification use different photos. Each square is a deterministic square window around the
photo's face (found by the BlazeFace teacher) with the face filling 15-90% of the window side, letterboxed like
any input, then sometimes mirrored and with its brightness and contrast varied; face-free windows are mixed in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from exporter.assets import asset_path
from exporter.image_io import read_rgb
from exporter.preprocess import letterbox

CALIBRATION_FACES = ("obama.jpg", "obama3.jpg", "biden.jpg", "obama_partial_face.jpg", "obama_partial_face2.jpg")
VERIFICATION_FACES = ("obama2.jpg", "astronaut.png")
BACKGROUNDS = ("chelsea.png", "coffee.png", "rocket.jpg", "brick.png", "grass.png", "gravel.png")
FACE_FREE_SHARE = 0.15
FACE_FRACTION = (0.15, 0.9)  # face side / window side
SEED = {"calibration": 0, "verification": 1}


@dataclass(frozen=True)
class ImageSet:
    """Letterboxed uint8 squares (N, S, S, 3) and a line saying where they come from."""

    squares: np.ndarray
    source: str


def _face_box(image: np.ndarray, teacher) -> np.ndarray:
    """The most confident face box of a photo (the BlazeFace teacher), in pixels."""
    faces = teacher.detect(image)
    if not faces:
        raise RuntimeError("the BlazeFace teacher finds no face in a built-in sample photo; run `facekit assets`")
    return max(faces, key=lambda f: f.score).box


def _jitter(rng: np.random.Generator, square: np.ndarray) -> np.ndarray:
    """Mirror half of the squares; vary contrast (0.7-1.3) and brightness (-30..30)."""
    if rng.random() < 0.5:
        square = square[:, ::-1]
    gain, offset = rng.uniform(0.7, 1.3), rng.uniform(-30, 30)
    return np.clip(square.astype(np.float32) * gain + offset, 0, 255).astype(np.uint8)


def _face_window(rng: np.random.Generator, image: np.ndarray, box: np.ndarray) -> np.ndarray:
    """A square window with the face at a random size and position inside it (black where it leaves the photo)."""
    face = float(max(box[2] - box[0], box[3] - box[1]))
    side = max(int(round(face / rng.uniform(*FACE_FRACTION))), 8)
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    slack = max(side - face, 0) / 2
    x0 = int(round(cx - side / 2 + rng.uniform(-slack, slack)))
    y0 = int(round(cy - side / 2 + rng.uniform(-slack, slack)))
    return _crop(image, x0, y0, side)


def _crop(image: np.ndarray, x0: int, y0: int, side: int) -> np.ndarray:
    """image[y0:y0+side, x0:x0+side] with black outside the photo."""
    h, w = image.shape[:2]
    out = np.zeros((side, side, 3), np.uint8)
    xs, ys = max(x0, 0), max(y0, 0)
    xe, ye = min(x0 + side, w), min(y0 + side, h)
    if xe > xs and ye > ys:
        out[ys - y0:ye - y0, xs - x0:xe - x0] = image[ys:ye, xs:xe]
    return out


def _background_window(rng: np.random.Generator, image: np.ndarray) -> np.ndarray:
    """A random square window of a face-free photo, a quarter to all of its shorter side."""
    h, w = image.shape[:2]
    side = int(rng.uniform(0.25, 1.0) * min(h, w))
    return _crop(image, int(rng.integers(0, w - side + 1)), int(rng.integers(0, h - side + 1)), side)


def builtin_squares(purpose: str, count: int, size: int = 128) -> ImageSet:
    """`count` letterboxed squares for "calibration" or "verification" (different face photos for each)."""
    photos = CALIBRATION_FACES if purpose == "calibration" else VERIFICATION_FACES
    rng = np.random.default_rng(SEED[purpose])
    from exporter.teachers import BlazeFaceTeacher

    teacher = BlazeFaceTeacher("short", num_threads=1)
    faces = [(image, _face_box(image, teacher)) for image in (read_rgb(asset_path(name)) for name in photos)]
    backgrounds = [read_rgb(asset_path(name)) for name in BACKGROUNDS]
    squares = []
    for i in range(count):
        if rng.random() < FACE_FREE_SHARE:
            window = _background_window(rng, backgrounds[int(rng.integers(len(backgrounds)))])
        else:
            image, box = faces[i % len(faces)]
            window = _face_window(rng, image, box)
        squares.append(_jitter(rng, letterbox(window, size)[0]))
    description = (f"built-in set ({purpose}): {count} windows of {', '.join(photos)} (faces) and "
                   f"{', '.join(BACKGROUNDS)} (face-free), fetched by `facekit assets`")
    return ImageSet(np.stack(squares), description)
