"""The golden frame-reuse traces the Android and iOS ports are checked against: replayable, complete, small."""

from __future__ import annotations

import base64
import zlib
import json
from pathlib import Path

import numpy as np
import pytest

from exporter.export.reuse_golden import FILE, MISSED, replay, synthetic_clip, write_traces
from exporter.reuse import POLICIES, REASONS, thumbnail


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[Path, dict]:
    """(path, parsed content) of one write_traces."""
    folder = tmp_path_factory.mktemp("golden")
    assert write_traces(folder) == [FILE]
    path = folder / FILE
    return path, json.loads(path.read_text())


def test_replay_reproduces_every_stored_trace(written):
    path, data = written
    assert [p["config"]["policy"] for p in data["policies"]] == [*POLICIES, "motion-gated+tracking"]  # the last with a second look
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
    assert reasons == set(REASONS)


def test_full_runs_are_those_the_clip_was_built_for(written):
    """Pan 0-3, static 4-15, face 1 moves 16-20 and is weak until 26 (missed at 24), cut 27, faint change 31,
    face 2 enters at the border 33 and leaves 37 (see synthetic_clip)."""
    _, data = written
    runs = {p["config"]["policy"]: [(t["index"], t["reason"]) for t in p["trace"] if t["ran_model"]]
            for p in data["policies"]}
    frames = len(data["detections"])
    assert runs["every-frame"] == [(0, "first")] + [(i, "every-frame") for i in range(1, frames)]
    assert runs["skip-N"] == [(0, "first")] + [(i, "period") for i in range(3, frames, 3)]
    assert runs["motion-gated"] == [(0, "first"), (1, "scene-change"), (2, "scene-change"), (3, "scene-change"),
                                    (14, "max-reuse")] + [(i, "scene-change") for i in (16, 17, 18, 19, 20, 27, 33, 37)]
    assert runs["motion-gated+tracking"] == [
        (0, "first"), (3, "edge"), (14, "max-reuse"), (18, "scene-change"), (21, "low-confidence"), (24, "low-confidence"),
        (25, "recheck"), (27, "cut"), (31, "scene-change"), (33, "edge"), (37, "face-change"), (38, "recheck"),
        (39, "recheck")]


def test_tracking_follows_the_panning_camera(written):
    _, data = written
    trace = next(p["trace"] for p in data["policies"] if p["config"]["policy"] == "motion-gated+tracking")
    assert [t["motion"] for t in trace[:3]] == [[0, 0], [-4, 0], [-8, 0]]  # 2 px a frame = 4 samples, leftwards
    assert [t["faces"][0]["box"][0] for t in trace[:3]] == [12, 10, 8]  # the face carried with the scene


def test_tracking_keeps_the_moving_square_id(written):
    _, data = written
    trace = next(p["trace"] for p in data["policies"] if p["config"]["policy"] == "motion-gated+tracking")
    # the moving square is face 1, at y = 16; the face entering later is at y = 20
    visible = [i for i, faces in enumerate(data["detections"]) if any(f["box"][1] == 16 for f in faces)]
    xs = {data["detections"][i][0]["box"][0] for i in visible}
    assert len(visible) >= 15 and len(xs) >= 5  # it is on screen for a while and moves
    assert any(not trace[i]["ran_model"] and trace[i]["faces"][0]["box"][0] != trace[i - 1]["faces"][0]["box"][0]
               for i in visible[1:])  # tracking moved its box on a frame without a full run
    assert {tuple(trace[i]["track_ids"]) for i in visible} == {(1,)}  # also across the frame the model missed it
    for i in visible:  # the carried box stays within a thumbnail cell (2 px) of the square
        assert abs(trace[i]["faces"][0]["box"][0] - data["detections"][i][0]["box"][0]) <= 2


def test_stored_thumbnails_are_those_of_the_decoded_frames(written):
    _, data = written
    spec, frames = data["thumbnail"], data["frames"]
    assert spec["divisor"] == spec["samples"] ** 2 * 255000 and spec["luma_weights"] == [299, 587, 114]
    assert len(data["thumbnails"]) == 3
    pixels = np.frombuffer(zlib.decompress(base64.b64decode(frames["data"]), wbits=-15), np.uint8)
    decoded = pixels.reshape(frames["count"], frames["height"], frames["width"], 3)
    for frame, stored in zip(decoded, data["thumbnails"]):
        np.testing.assert_array_equal(np.asarray(stored, np.float32), thumbnail(frame, spec["size"]))


def test_file_is_small(written):
    path, data = written
    assert (data["frames"]["width"], data["frames"]["height"]) == (64, 48)
    assert path.stat().st_size < 150 * 1024  # frames as raw DEFLATE: about 100 KB


def test_clip_and_detections_agree():
    """Each detected box is the bright square drawn in its frame (none where the detector misses one), and the clip
    is the same on every call."""
    frames, detections = synthetic_clip()
    again, _ = synthetic_clip()
    assert all(np.array_equal(a, b) for a, b in zip(frames, again))
    for i, (frame, faces) in enumerate(zip(frames, detections)):
        white = (frame == 255).all(axis=2)
        if i in MISSED:
            assert white.any() and not faces
            continue
        drawn = np.zeros_like(white)
        for face in faces:
            x0, y0, x1, y1 = face.box.astype(int)
            drawn[y0:y1, x0:x1] = True
        assert np.array_equal(white, drawn)


def test_the_second_look_entry_looks_at_new_and_due_tracks(written):
    """Frame 0's look finds nothing (first-look values stay); face 1 is due again after 8 frames (runs 14, 25); face 2
    is new at 33; in between the tracks keep the looked answers."""
    _, data = written
    entry = data["policies"][-1]
    assert entry["second_look"]["refresh_every"] == 8 and all(not p.get("second_look") for p in data["policies"][:-1])
    looked = {t["index"]: t["looked"] for t in entry["trace"] if t["looked"]}
    assert looked == {0: [1], 14: [1], 25: [1], 33: [2]}
    ages = {t["index"]: t["faces"][0]["age"] for t in entry["trace"] if t["faces"]}
    assert ages[13] != entry["look_answers"][14][0]["age"] == ages[14] == ages[21]
    assert ages[33] == entry["look_answers"][33][0]["age"]
    plain = next(p for p in data["policies"] if p["config"]["policy"] == "motion-gated+tracking")
    assert [t["reason"] for t in plain["trace"]] == [t["reason"] for t in entry["trace"]]
