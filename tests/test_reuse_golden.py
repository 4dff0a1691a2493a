"""The golden frame-reuse traces the Android and iOS ports are checked against: replayable, complete, small."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest

from exporter.reuse import POLICIES, thumbnail
from exporter.export.reuse_golden import FILE, replay, synthetic_clip, write_traces

REASONS = {"first", "every-frame", "period", "max-reuse", "scene-change", "face-change", "static"}


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[Path, dict]:
    """(path, parsed content) of one write_traces."""
    folder = tmp_path_factory.mktemp("golden")
    assert write_traces(folder) == [FILE]
    path = folder / FILE
    return path, json.loads(path.read_text())


def test_replay_reproduces_every_stored_trace(written):
    path, data = written
    assert [p["config"]["policy"] for p in data["policies"]] == list(POLICIES)
    stored = [p["trace"] for p in data["policies"]]
    assert all(len(trace) == len(data["detections"]) for trace in stored)
    assert replay(path) == stored


def test_replay_follows_the_file_not_the_code(written, tmp_path):
    """A changed config in the file changes the replay: replay reads its settings from the file."""
    path, data = written
    data["policies"][1]["config"]["skip"] = 5
    edited = tmp_path / FILE
    edited.write_text(json.dumps(data))
    replayed = replay(edited)
    assert [t["index"] for t in replayed[1] if t["ran_model"]][:3] == [0, 5, 10]
    assert replayed[1] != data["policies"][1]["trace"]


def test_every_reason_appears(written):
    _, data = written
    reasons = {t["reason"] for p in data["policies"] for t in p["trace"]}
    assert reasons == REASONS


def test_full_runs_are_those_the_clip_was_built_for(written):
    """Pan 0-2, static 3-14, face 1 moves 15-19, cut 20, face 2 enters 23 and leaves 27 (see synthetic_clip)."""
    _, data = written
    runs = {p["config"]["policy"]: [(t["index"], t["reason"]) for t in p["trace"] if t["ran_model"]]
            for p in data["policies"]}
    assert runs["every-frame"] == [(0, "first")] + [(i, "every-frame") for i in range(1, 30)]
    assert runs["skip-N"] == [(0, "first")] + [(i, "period") for i in range(3, 30, 3)]
    assert runs["motion-gated"] == [(0, "first"), (1, "scene-change"), (2, "scene-change"), (13, "max-reuse")] + [
        (i, "scene-change") for i in (15, 16, 17, 18, 19, 20, 23, 27)]
    assert runs["motion-gated+tracking"] == [(0, "first"), (1, "scene-change"), (2, "scene-change"), (13, "max-reuse"),
                                             (17, "face-change"), (20, "scene-change"), (23, "scene-change"),
                                             (27, "face-change")]


def test_tracking_keeps_the_moving_square_id(written):
    _, data = written
    trace = next(p["trace"] for p in data["policies"] if p["config"]["policy"] == "motion-gated+tracking")
    # the moving square is face 1, at y = 16; the face entering later is at y = 20
    visible = [i for i, faces in enumerate(data["detections"]) if any(f["box"][1] == 16 for f in faces)]
    xs = {data["detections"][i][0]["box"][0] for i in visible}
    assert len(visible) >= 15 and len(xs) >= 5  # it is on screen for a while and moves
    assert any(not trace[i]["ran_model"] and trace[i]["faces"][0]["box"][0] != trace[i - 1]["faces"][0]["box"][0]
               for i in visible[1:])  # tracking moved its box on a frame without a full run
    assert {tuple(trace[i]["track_ids"]) for i in visible} == {(1,)}
    for i in visible:  # the carried box stays within a thumbnail cell (2 px) of the square
        assert abs(trace[i]["faces"][0]["box"][0] - data["detections"][i][0]["box"][0]) <= 2


def test_stored_thumbnails_are_those_of_the_decoded_frames(written):
    _, data = written
    spec, frames = data["thumbnail"], data["frames"]
    assert spec["divisor"] == spec["samples"] ** 2 * 255000 and spec["luma_weights"] == [299, 587, 114]
    assert len(data["thumbnails"]) == 3
    for encoded, stored in zip(frames["data_base64"], data["thumbnails"]):
        frame = np.frombuffer(base64.b64decode(encoded), np.uint8).reshape(frames["height"], frames["width"], 3)
        np.testing.assert_array_equal(np.asarray(stored, np.float32), thumbnail(frame, spec["size"]))


def test_file_is_small(written):
    path, data = written
    assert (data["frames"]["width"], data["frames"]["height"]) == (64, 48)
    assert path.stat().st_size < 600 * 1024


def test_clip_and_detections_agree():
    """Each detected box is the bright square drawn in its frame, and the clip is the same on every call."""
    frames, detections = synthetic_clip()
    again, _ = synthetic_clip()
    assert all(np.array_equal(a, b) for a, b in zip(frames, again))
    for frame, faces in zip(frames, detections):
        white = (frame == 255).all(axis=2)
        drawn = np.zeros_like(white)
        for face in faces:
            x0, y0, x1, y1 = face.box.astype(int)
            drawn[y0:y1, x0:x1] = True
        assert np.array_equal(white, drawn)
