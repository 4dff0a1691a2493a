"""The frame-reuse clip set: the kind of every clip, and harder clips composed from the dataset's clips.

Each clip has one kind (the reuse results are pooled per kind): dataset clips by file-name prefix
(see videos/SOURCES.md), composed clips by their recipe. A recipe builds a canvas per frame from one or
more source clips (one clip, clips side by side, or clips one after another), films it with a camera (a
crop window that stays, pans or zooms) and writes the result once, as mp4, into a cache folder keyed by
the recipe, so `facekit bench` and `facekit detect` read it like any other clip. Nothing composed is
committed; the recipes are the source.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from hashlib import sha256
from pathlib import Path

import cv2
import numpy as np

from exporter.atomic import atomic_write
from exporter.data.media import iter_frames

TALKING_HEAD, PORTRAIT, MOVING_CAMERA, SEVERAL_FACES, SCENE_CUTS = (
    "talking head", "portrait", "moving camera", "several faces", "scene cuts")
KINDS = (TALKING_HEAD, PORTRAIT, MOVING_CAMERA, SEVERAL_FACES, SCENE_CUTS)
OTHER = "other"  # a clip of none of the known kinds (e.g. one passed with --videos)
# Dataset clips by file-name prefix (videos/SOURCES.md): one head filling a still camera's frame; one person,
# half-body or full-body, still camera; a stage show with audience shots and cuts.
DATASET_KINDS = {"st_": TALKING_HEAD, "lp_driving_": TALKING_HEAD, "lp_source_": PORTRAIT,
                 "fr_short_hamilton": SEVERAL_FACES}
COMPOSED_PREFIX = "mix_"
FPS = 30.0


@dataclass(frozen=True)
class Recipe:
    """How one composed clip is made from dataset clips."""

    name: str  # file stem, starting with COMPOSED_PREFIX
    kind: str
    sources: tuple[str, ...]  # dataset clip files
    arrange: str  # "one", "side-by-side" (each source scaled to the canvas height) or "sequence"
    frames: int
    size: tuple[int, int]  # output (width, height)
    camera: str = "still"  # "still", "pan" (a window sweeping across the canvas) or "zoom" (in and out, centred)
    view: float = 1.0  # pan: window width as a share of the canvas width; zoom: the narrowest window's share
    period: int = 120  # camera: frames per back-and-forth cycle
    segment: int = 0  # sequence: frames taken from each source in turn

    def describe(self) -> str:
        """One line for reports: what was done to which sources."""
        camera = {"still": "still camera", "pan": f"pan of a {self.view:.0%} window, {self.period}-frame cycle",
                  "zoom": f"zoom 100%-{self.view:.0%}, {self.period}-frame cycle"}[self.camera]
        how = {"one": "", "side-by-side": "side by side, ",
               "sequence": f"{self.segment} frames of each in turn (cuts), "}[self.arrange]
        return f"{' + '.join(self.sources)}: {how}{camera}, {self.size[0]}x{self.size[1]}, {self.frames} frames"


RECIPES = (
    Recipe("mix_pan_room_s18", MOVING_CAMERA, ("lp_source_s18.mp4",), "one", 240, (640, 360), "pan", 0.5, 140),
    Recipe("mix_pan_head_d10", MOVING_CAMERA, ("lp_driving_d10.mp4",), "one", 240, (480, 480), "pan", 0.7, 100),
    Recipe("mix_zoom_s32", MOVING_CAMERA, ("lp_source_s32.mp4",), "one", 180, (640, 360), "zoom", 0.45, 90),
    Recipe("mix_two_heads_d14_d19", SEVERAL_FACES, ("lp_driving_d14.mp4", "lp_driving_d19.mp4"), "side-by-side",
           240, (768, 384)),
    Recipe("mix_group_pan_d6_d20_d3", SEVERAL_FACES, ("lp_driving_d6.mp4", "lp_driving_d20.mp4", "lp_driving_d3.mp4"),
           "side-by-side", 175, (640, 360), "pan", 0.6, 120),
    Recipe("mix_cuts_d3_st_d11_d9", SCENE_CUTS, ("lp_driving_d3.mp4", "st_WDA_AlexandriaOcasioCortez_000.mp4",
                                                 "lp_driving_d11.mp4", "lp_driving_d9.mp4"),
           "sequence", 240, (512, 512), segment=45),
)


def clip_kind(path: Path) -> str:
    """The kind of a clip (composed clips by recipe, dataset clips by prefix); 'other' when unknown."""
    name = Path(path).name
    for recipe in RECIPES:
        if name == f"{recipe.name}.mp4":
            return recipe.kind
    return next((kind for prefix, kind in DATASET_KINDS.items() if name.startswith(prefix)), OTHER)


def recipe_key(recipe: Recipe) -> str:
    """Short hash of the recipe: a changed recipe is composed again."""
    return sha256(json.dumps(asdict(recipe), sort_keys=True).encode()).hexdigest()[:10]


def _sources(recipe: Recipe, videos: Path) -> list[Iterator[np.ndarray]]:
    missing = [s for s in recipe.sources if not (videos / s).is_file()]
    if missing:
        raise ValueError(f"{recipe.name} needs {', '.join(missing)} in {videos} (the dataset's videos folder)")
    return [(frame for _, frame in iter_frames(videos / s)) for s in recipe.sources]


def _canvases(recipe: Recipe, videos: Path) -> Iterator[np.ndarray]:
    """The uncropped picture of every frame, before the camera."""
    sources = _sources(recipe, videos)
    for t in range(recipe.frames):
        if recipe.arrange == "sequence":
            frame = next(sources[(t // recipe.segment) % len(sources)], None)
            if frame is None:
                return
            yield cv2.resize(frame, recipe.size, interpolation=cv2.INTER_AREA)
            continue
        frames = [next(s, None) for s in sources]
        if any(f is None for f in frames):
            return
        height = min(f.shape[0] for f in frames)
        yield np.hstack([cv2.resize(f, (round(f.shape[1] * height / f.shape[0]), height), interpolation=cv2.INTER_AREA)
                         for f in frames])


def _window(recipe: Recipe, t: int, width: int, height: int) -> tuple[int, int, int, int]:
    """The camera's crop (x, y, w, h) of the canvas at frame t, with the output's aspect ratio."""
    aspect = recipe.size[0] / recipe.size[1]
    phase = 0.5 - 0.5 * math.cos(2 * math.pi * t / recipe.period)  # 0 -> 1 -> 0 over a period
    if recipe.camera == "pan":
        w = recipe.view * width
    elif recipe.camera == "zoom":
        w = width * (1.0 - (1.0 - recipe.view) * phase)
    else:
        w = width
    w, h = min(w, height * aspect), min(w, height * aspect) / aspect
    x = (width - w) * (phase if recipe.camera == "pan" else 0.5)
    return round(x), round((height - h) / 2), round(w), round(h)


def compose(recipe: Recipe, videos: Path) -> Iterator[np.ndarray]:
    """The RGB frames of a composed clip."""
    for t, canvas in enumerate(_canvases(recipe, videos)):
        x, y, w, h = _window(recipe, t, canvas.shape[1], canvas.shape[0])
        crop = canvas[y:y + h, x:x + w]
        yield cv2.resize(crop, recipe.size, interpolation=cv2.INTER_AREA if w >= recipe.size[0] else cv2.INTER_LINEAR)


def _write_mp4(frames: Iterator[np.ndarray], size: tuple[int, int], path: Path) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, size)
    if not writer.isOpened():
        raise ValueError(f"OpenCV cannot write mp4 video to {path}: its FFmpeg backend is missing")
    try:
        count = 0
        for frame in frames:
            writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
            count += 1
    finally:
        writer.release()
    if count == 0:
        raise ValueError(f"no frame composed for {path.name}")


def composed_clips(videos: Path, cache: Path, recipes: tuple[Recipe, ...] = RECIPES) -> list[Path]:
    """Every recipe's clip in cache (composed now when absent or made from another recipe)."""
    paths = []
    for recipe in recipes:
        path = cache / recipe_key(recipe) / f"{recipe.name}.mp4"
        if not path.is_file():
            atomic_write(path, lambda tmp, r=recipe: _write_mp4(compose(r, videos), r.size, tmp), suffix=".mp4")
        paths.append(path)
    return paths
