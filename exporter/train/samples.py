"""Training samples at the model's input size: composites, zoomed crops, real scenes, video frames; augmentation.

Every sample is a (size x size x 3 uint8 RGB image, SampleLabels) pair with labels normalised to [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from exporter.data.types import FLIP_PERMUTATION
from exporter.train.targets import SampleLabels


@dataclass(frozen=True)
class LabelledFace:
    """A face in source-image pixels with whatever labels it has (NaN = unknown)."""

    box: np.ndarray  # (4,)
    keypoints: np.ndarray  # (6, 2)
    keypoint_mask: np.ndarray  # (6,)
    age: float = float("nan")
    gender: float = float("nan")
    attr_weight: float = 0.0


@dataclass(frozen=True)
class SourceImage:
    """A decoded image and its faces."""

    image: np.ndarray
    faces: tuple[LabelledFace, ...]


@dataclass(frozen=True)
class SampleMix:
    """Probability of each sample kind (normalised when drawn)."""

    zoomed_crop: float = 0.30  # one UTKFace crop filling 55-100% of the frame, on a face-free background
    framed_crop: float = 0.0  # one UTKFace crop, its side 1/3.5 to 1 of the frame, whole, on black or a scene
    composite: float = 0.35  # 1-3 UTKFace crops pasted at random scale onto a face-free scene
    scene: float = 0.25  # a random window of a real labelled scene photo
    video: float = 0.10  # a video frame with teacher labels
    negative: float = 0.0  # a face-free scene alone (composites already add plenty of background)


@dataclass(frozen=True)
class Augment:
    """Photometric and geometric augmentation strengths."""

    flip: float = 0.5
    rotate_prob: float = 0.3
    max_degrees: float = 12.0
    brightness: float = 0.25
    contrast: float = 0.25
    saturation: float = 0.3
    grey_prob: float = 0.05
    blur_prob: float = 0.15


@dataclass
class SamplePools:
    """Decoded material to draw samples from."""

    crops: list[SourceImage]  # tight face crops with one labelled face each (UTKFace)
    backgrounds: list[np.ndarray]  # face-free images
    scenes: list[SourceImage] = field(default_factory=list)  # real photos with human-labelled boxes
    videos: list[SourceImage] = field(default_factory=list)  # video frames with teacher labels
    crop_odds: np.ndarray | None = None  # probability of drawing each crop (None: uniform); see age_balanced_odds


AGE_BAND_YEARS = 10  # width of the age bands that age_balanced_odds evens out (80 and over share one band)


def age_balanced_odds(ages: np.ndarray, power: float) -> np.ndarray:
    """Probability of drawing each crop so that an age band's share goes as its count ** (1 - power).

    power 0 draws every crop alike (bands as common as in the data); 1 makes every 10-year band equally likely;
    between, rarer (older) bands are drawn more often without repeating their few crops as much.
    """
    bands = np.minimum(np.asarray(ages, np.float64) // AGE_BAND_YEARS, 80 // AGE_BAND_YEARS).astype(int)
    counts = np.bincount(bands)
    odds = counts[bands].astype(np.float64) ** -power
    return odds / odds.sum()


def _draw_crop(rng: np.random.Generator, pools: SamplePools) -> SourceImage:
    """One labelled crop, drawn with the pools' crop odds."""
    if pools.crop_odds is None:
        return pools.crops[rng.integers(len(pools.crops))]
    return pools.crops[rng.choice(len(pools.crops), p=pools.crop_odds)]


def _affine_faces(faces: list[LabelledFace], matrix: np.ndarray) -> list[LabelledFace]:
    """Apply a 2x3 similarity transform to boxes (centre moved, size scaled) and keypoints."""
    scale = float(np.hypot(matrix[0, 0], matrix[1, 0]))
    out = []
    for f in faces:
        centre = np.array([(f.box[0] + f.box[2]) / 2, (f.box[1] + f.box[3]) / 2, 1.0])
        cx, cy = matrix @ centre
        half_w, half_h = (f.box[2] - f.box[0]) * scale / 2, (f.box[3] - f.box[1]) * scale / 2
        kp = np.concatenate([f.keypoints, np.ones((len(f.keypoints), 1))], axis=1) @ matrix.T
        out.append(
            LabelledFace(
                np.array([cx - half_w, cy - half_h, cx + half_w, cy + half_h], np.float32),
                kp.astype(np.float32),
                f.keypoint_mask,
                f.age,
                f.gender,
                f.attr_weight,
            )
        )
    return out


def _window(rng: np.random.Generator, height: int, width: int, min_frac: float, max_frac: float) -> tuple[float, float, float]:
    """A random square window (x0, y0, side) over an image, allowed to stick out by up to 10%."""
    side = rng.uniform(min_frac, max_frac) * max(height, width)
    x0 = rng.uniform(-0.1 * side, max(width - 0.9 * side, -0.1 * side + 1e-3))
    y0 = rng.uniform(-0.1 * side, max(height - 0.9 * side, -0.1 * side + 1e-3))
    return x0, y0, side


def _crop_window(image: np.ndarray, x0: float, y0: float, side: float, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Resample a square window to size x size; return it and the 2x3 source->output transform."""
    s = size / side
    matrix = np.array([[s, 0, -x0 * s], [0, s, -y0 * s]], np.float64)
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    out = cv2.warpAffine(image, matrix, (size, size), flags=interp, borderMode=cv2.BORDER_CONSTANT)
    return out, matrix


def _background(rng: np.random.Generator, pools: SamplePools, size: int) -> np.ndarray:
    """A random window of a random face-free image."""
    image = pools.backgrounds[rng.integers(len(pools.backgrounds))]
    h, w = image.shape[:2]
    side = rng.uniform(0.3, 1.0) * min(h, w)
    x0, y0 = rng.uniform(0, w - side), rng.uniform(0, h - side)
    return _crop_window(image, x0, y0, side, size)[0]


def _feather_mask(size: int) -> np.ndarray:
    """A soft elliptical alpha mask (size x size x 1, float32) to blend a pasted crop."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    r = np.hypot((xx - size / 2 + 0.5) / (size / 2), (yy - size / 2 + 0.5) / (size / 2))
    return np.clip((1.0 - r) / 0.15, 0.0, 1.0)[..., None]


def _paste(canvas: np.ndarray, crop: np.ndarray, matrix: np.ndarray, size: int) -> None:
    """Blend a crop into the canvas through a feathered ellipse, in place."""
    warped = cv2.warpAffine(crop, matrix, (size, size), flags=cv2.INTER_LINEAR)
    alpha = cv2.warpAffine(_feather_mask(crop.shape[0]), matrix, (size, size), flags=cv2.INTER_LINEAR)[..., None]
    canvas[:] = (canvas * (1 - alpha) + warped * alpha).astype(np.uint8)


def _place_crop(rng: np.random.Generator, crop: SourceImage, face_side: float, size: int, centre: tuple[float, float]):
    """Transform that scales a crop so its face box has side face_side and centres the face at centre."""
    f = crop.faces[0]
    s = face_side / max(f.box[2] - f.box[0], f.box[3] - f.box[1], 1.0)
    fx, fy = (f.box[0] + f.box[2]) / 2, (f.box[1] + f.box[3]) / 2
    return np.array([[s, 0, centre[0] - fx * s], [0, s, centre[1] - fy * s]], np.float64)


def zoomed_crop(rng: np.random.Generator, pools: SamplePools, size: int) -> tuple[np.ndarray, list[LabelledFace]]:
    """One tight face crop filling most of the frame (as in evaluation on UTKFace), on a background."""
    crop = _draw_crop(rng, pools)
    h, w = crop.image.shape[:2]
    side = size * (1.0 if rng.random() < 0.3 else rng.uniform(0.55, 1.0))
    s = side / max(h, w)
    x0, y0 = rng.uniform(0, size - w * s + 1e-3), rng.uniform(0, size - h * s + 1e-3)
    matrix = np.array([[s, 0, x0], [0, s, y0]], np.float64)
    canvas = _background(rng, pools, size)
    if side >= size:
        canvas = cv2.warpAffine(crop.image, matrix, (size, size), flags=cv2.INTER_AREA)
    else:
        _paste(canvas, crop.image, matrix, size)
    return canvas, _affine_faces(list(crop.faces), matrix)


FRAMED_MIN_SIDE = 1 / 3.5  # smallest crop side in framed_crop, as a share of the frame (eval goes to 1/3)


def framed_crop(rng: np.random.Generator, pools: SamplePools, size: int) -> tuple[np.ndarray, list[LabelledFace]]:
    """One whole face crop at a log-uniform size and a random place, on black (as a letterboxed photo) or a scene.

    Aimed at the attribute heads: the same labelled faces at the sizes a camera frame gives them.
    """
    crop = _draw_crop(rng, pools)
    h, w = crop.image.shape[:2]
    side = size * float(np.exp(rng.uniform(np.log(FRAMED_MIN_SIDE), 0.0)))
    out_w, out_h = max(1, min(size, round(w * side / max(h, w)))), max(1, min(size, round(h * side / max(h, w))))
    x0, y0 = int(rng.integers(0, size - out_w + 1)), int(rng.integers(0, size - out_h + 1))
    canvas = np.zeros((size, size, 3), np.uint8) if rng.random() < 0.5 else _background(rng, pools, size)
    canvas[y0 : y0 + out_h, x0 : x0 + out_w] = cv2.resize(crop.image, (out_w, out_h), interpolation=cv2.INTER_AREA)
    matrix = np.array([[out_w / w, 0, x0], [0, out_h / h, y0]], np.float64)
    return canvas, _affine_faces(list(crop.faces), matrix)


def composite(rng: np.random.Generator, pools: SamplePools, size: int) -> tuple[np.ndarray, list[LabelledFace]]:
    """1-3 face crops at random scales and places on a face-free scene, without heavy overlap."""
    canvas = _background(rng, pools, size)
    faces: list[LabelledFace] = []
    boxes: list[np.ndarray] = []
    for _ in range(rng.choice([1, 2, 3], p=[0.5, 0.3, 0.2])):
        crop = _draw_crop(rng, pools)
        for _attempt in range(5):
            side = float(np.exp(rng.uniform(np.log(10), np.log(0.6 * size))))
            centre = (rng.uniform(side / 2, size - side / 2), rng.uniform(side / 2, size - side / 2))
            box = np.array([centre[0] - side / 2, centre[1] - side / 2, centre[0] + side / 2, centre[1] + side / 2])
            if all(_overlap(box, other) < 0.1 for other in boxes):
                matrix = _place_crop(rng, crop, side, size, centre)
                _paste(canvas, crop.image, matrix, size)
                faces.extend(_affine_faces(list(crop.faces), matrix))
                boxes.append(box)
                break
    return canvas, faces


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over the smaller box's area."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return ix * iy / max(smaller, 1e-6)


def window_of(rng: np.random.Generator, source: SourceImage, size: int) -> tuple[np.ndarray, list[LabelledFace]]:
    """A random square window of a labelled photo; faces whose centre falls outside are dropped."""
    h, w = source.image.shape[:2]
    x0, y0, side = _window(rng, h, w, 0.5, 1.0)
    image, matrix = _crop_window(source.image, x0, y0, side, size)
    faces = [
        f
        for f in _affine_faces(list(source.faces), matrix)
        if 0 <= (f.box[0] + f.box[2]) / 2 < size and 0 <= (f.box[1] + f.box[3]) / 2 < size
    ]
    return image, faces


def _flip(image: np.ndarray, faces: list[LabelledFace], size: int) -> tuple[np.ndarray, list[LabelledFace]]:
    """Mirror horizontally; left/right keypoints swap places."""
    perm = list(FLIP_PERMUTATION)
    out = []
    for f in faces:
        kp = f.keypoints.copy()
        kp[:, 0] = size - kp[:, 0]
        box = np.array([size - f.box[2], f.box[1], size - f.box[0], f.box[3]], np.float32)
        out.append(LabelledFace(box, kp[perm], f.keypoint_mask[perm], f.age, f.gender, f.attr_weight))
    return image[:, ::-1].copy(), out


def augment(
    rng: np.random.Generator, image: np.ndarray, faces: list[LabelledFace], size: int, cfg: Augment
) -> tuple[np.ndarray, list[LabelledFace]]:
    """Flip, small rotation, colour jitter, greyscale and blur."""
    if rng.random() < cfg.flip:
        image, faces = _flip(image, faces, size)
    if rng.random() < cfg.rotate_prob:
        matrix = cv2.getRotationMatrix2D((size / 2, size / 2), rng.uniform(-cfg.max_degrees, cfg.max_degrees), 1.0)
        image = cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        faces = _affine_faces(faces, matrix)
    img = image.astype(np.float32)
    img = img * rng.uniform(1 - cfg.brightness, 1 + cfg.brightness)
    mean = img.mean()
    img = (img - mean) * rng.uniform(1 - cfg.contrast, 1 + cfg.contrast) + mean
    grey = img.mean(axis=2, keepdims=True)
    sat = 0.0 if rng.random() < cfg.grey_prob else rng.uniform(1 - cfg.saturation, 1 + cfg.saturation)
    img = grey + (img - grey) * sat
    image = np.clip(img, 0, 255).astype(np.uint8)
    if rng.random() < cfg.blur_prob:
        image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.5, 1.5))
    return image, faces


def to_labels(faces: list[LabelledFace], size: int, min_side_px: float = 3.0) -> SampleLabels:
    """Faces in output pixels -> normalised SampleLabels (faces smaller than min_side_px dropped)."""
    faces = [f for f in faces if min(f.box[2] - f.box[0], f.box[3] - f.box[1]) >= min_side_px]
    if not faces:
        return SampleLabels.empty()
    boxes = np.clip(np.stack([f.box for f in faces]) / size, 0.0, 1.0).astype(np.float32)
    return SampleLabels(
        boxes=boxes,
        keypoints=(np.stack([f.keypoints for f in faces]) / size).astype(np.float32),
        keypoint_mask=np.stack([f.keypoint_mask for f in faces]),
        age=np.array([f.age for f in faces], np.float32),
        gender=np.array([f.gender for f in faces], np.float32),
        attr_weight=np.array([f.attr_weight for f in faces], np.float32),
    )


def draw_sample(
    rng: np.random.Generator, pools: SamplePools, size: int, mix: SampleMix, aug: Augment
) -> tuple[np.ndarray, SampleLabels]:
    """Draw one augmented training sample of a randomly chosen kind."""
    kinds = {
        "zoomed_crop": mix.zoomed_crop if pools.crops else 0.0,
        "framed_crop": mix.framed_crop if pools.crops else 0.0,
        "composite": mix.composite if pools.crops and pools.backgrounds else 0.0,
        "scene": mix.scene if pools.scenes else 0.0,
        "video": mix.video if pools.videos else 0.0,
        "negative": mix.negative if pools.backgrounds else 0.0,
    }
    names, weights = list(kinds), np.array(list(kinds.values()))
    kind = names[rng.choice(len(names), p=weights / weights.sum())]
    if kind == "zoomed_crop":
        image, faces = zoomed_crop(rng, pools, size)
    elif kind == "framed_crop":
        image, faces = framed_crop(rng, pools, size)
    elif kind == "composite":
        image, faces = composite(rng, pools, size)
    elif kind == "negative":
        image, faces = _background(rng, pools, size), []
    else:
        pool = pools.scenes if kind == "scene" else pools.videos
        image, faces = window_of(rng, pool[rng.integers(len(pool))], size)
    image, faces = augment(rng, image, faces, size, aug)
    return image, to_labels(faces, size)
