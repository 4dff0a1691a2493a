"""The frame-reuse clip set: kinds by name and recipe, and composed clips (pan, zoom, side by side, cuts) cached."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from exporter.bench.clips import (MOVING_CAMERA, OTHER, PORTRAIT, RECIPES, SCENE_CUTS, SEVERAL_FACES, TALKING_HEAD, Recipe,
                                  clip_kind, compose, composed_clips, recipe_key)
from exporter.data.media import iter_frames


def write_clip(path: Path, frames: int, size: tuple[int, int], level: int) -> Path:
    """A small mp4 of a still grey ramp (so crops can be told apart) at a brightness level (so clips can)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, size)
    ramp = np.tile(np.linspace(0, 200, size[0], dtype=np.uint8), (size[1], 1))
    for _ in range(frames):
        writer.write(np.dstack([ramp] * 3) // 2 + level)
    writer.release()
    return path


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("videos")
    write_clip(folder / "a.mp4", 20, (96, 64), 0)
    write_clip(folder / "b.mp4", 20, (64, 64), 120)
    return folder


def test_kinds_by_name_and_recipe():
    assert clip_kind(Path("st_WDA_x.mp4")) == TALKING_HEAD and clip_kind(Path("lp_driving_d3.mp4")) == TALKING_HEAD
    assert clip_kind(Path("lp_source_s13.mp4")) == PORTRAIT and clip_kind(Path("fr_short_hamilton_clip.mp4")) == SEVERAL_FACES
    assert clip_kind(Path("mine.mp4")) == OTHER
    kinds = {clip_kind(Path(f"/cache/{r.name}.mp4")) for r in RECIPES}
    assert kinds == {MOVING_CAMERA, SEVERAL_FACES, SCENE_CUTS}  # the harder clips cover every new kind
    assert all(r.name.startswith("mix_") and r.describe().startswith(r.sources[0]) for r in RECIPES)


def test_pan_moves_a_window_across_the_canvas(sources):
    recipe = Recipe("mix_t_pan", MOVING_CAMERA, ("a.mp4",), "one", 9, (32, 32), "pan", 0.5, 8)
    frames = list(compose(recipe, sources))
    assert len(frames) == 9 and all(f.shape == (32, 32, 3) for f in frames)
    # the window goes right and comes back over a period: frames 0 and 8 look alike, frame 4 differs most
    diffs = [float(np.abs(f.astype(int) - frames[0].astype(int)).mean()) for f in frames]
    assert diffs[4] == max(diffs) and diffs[8] < diffs[4] / 4


def test_side_by_side_and_sequence(sources):
    side = list(compose(Recipe("mix_t_side", SEVERAL_FACES, ("a.mp4", "b.mp4"), "side-by-side", 5, (80, 32)), sources))
    assert len(side) == 5 and side[0].shape == (32, 80, 3)
    assert side[0][:, -10:].mean() > side[0][:, :10].mean() + 50  # b (brighter) on the right
    cuts = list(compose(Recipe("mix_t_cuts", SCENE_CUTS, ("a.mp4", "b.mp4"), "sequence", 8, (32, 32), segment=3), sources))
    levels = [f.mean() > 110 for f in cuts]
    assert levels == [False] * 3 + [True] * 3 + [False] * 2  # a, b, a again: cuts every 3 frames


def test_composed_clips_are_cached_by_recipe(sources, tmp_path):
    recipe = Recipe("mix_t_zoom", MOVING_CAMERA, ("a.mp4",), "one", 6, (32, 32), "zoom", 0.5, 6)
    (path,) = composed_clips(sources, tmp_path, (recipe,))
    assert path.parent.name == recipe_key(recipe) and len(list(iter_frames(path))) == 6
    stamp = path.stat().st_mtime_ns
    assert composed_clips(sources, tmp_path, (recipe,)) == [path] and path.stat().st_mtime_ns == stamp  # not made again
    assert recipe_key(recipe) != recipe_key(Recipe("mix_t_zoom", MOVING_CAMERA, ("a.mp4",), "one", 7, (32, 32), "zoom", 0.5, 6))


def test_a_missing_source_is_named(sources, tmp_path):
    recipe = Recipe("mix_t_missing", MOVING_CAMERA, ("nope.mp4",), "one", 3, (32, 32))
    with pytest.raises(ValueError, match="nope.mp4"):
        composed_clips(sources, tmp_path, (recipe,))
    assert not any(tmp_path.rglob("*.mp4"))  # nothing half-written
