"""Golden decision traces of the frame-reuse scheduler: what the Android and iOS ports are checked against.

One JSON file holds a small synthetic clip (frames as base64 RGB bytes), the detector's output for every
frame and, per policy, the decisions `exporter.reuse` takes on it. A port decodes the frames, feeds its
scheduler a detector that returns `detections[i]` for frame i, and must reproduce every trace exactly.
"""

from __future__ import annotations

import base64
import zlib
from dataclasses import asdict
from pathlib import Path

import numpy as np

from exporter.jsonio import MB, load_json, write_json
from exporter.postprocess import Face
from exporter.reuse import LUMA_WEIGHTS, POLICIES, SAMPLES, FrameReuseScheduler, ReuseConfig, thumbnail
from exporter.second_look import SecondLook

W, H = 64, 48
SIDE = 12  # side of the bright square that stands in for a face, in pixels
FILE = "reuse_traces.json"
THUMBNAILS_STORED = 3
FAINT = (31, 32)  # frames with a faint change in an empty scene
MISSED = (24,)  # frames where the detector misses a face that is there (a flicker)  # leading frames whose thumbnails are stored, so a port can test its thumbnail alone
DESCRIPTION = (
    "Golden traces of the frame-reuse scheduler (exporter/reuse.py). frames.data is base64 of the raw DEFLATE "
    "stream (RFC 1951, no zlib header: Java's Inflater(true), Apple's NSData.decompressed(using: .zlib)) of every "
    "frame's height x width x 3 RGB uint8 bytes (row-major), one frame after the other. For each entry of policies, build a scheduler with its config "
    "and a detector that returns detections[i] (faces in image pixels) when called on frame i, step it through the "
    "frames in order and compare each decision with trace[i]: index, ran_model, reason, motion (the camera's shift "
    "in samples) and track_ids exactly; change and the face numbers within 1e-5, age within 1e-3 (the file rounds "
    "them to 6 decimals, age to 4). "
    "thumbnails[i] is the float32 thumbnail of frame i, built as the thumbnail section says: test it bit for bit first. "
    "An entry with second_look also gives the scheduler those settings and a look function that returns, for its "
    "k-th call on frame i, look_answers[i][k] (a face whose age and female count; null: no face found); "
    "looked in its trace lists the track ids looked at."
)
LOOK = SecondLook(refresh_every=8)  # the golden's second look: refreshed often enough to show in 40 frames


def _background(seed: int, low: int, high: int) -> np.ndarray:
    """A smooth random texture of 8-pixel blocks in [low, high), twice the frame width (so the camera can pan)."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(low, high, (H // 8, 2 * W // 8, 3)).astype(np.uint8)
    return np.kron(coarse, np.ones((8, 8, 1), np.uint8))


def _square_face(x: int, y: int, female: float, score: float) -> Face:
    """The detector's output for a square at (x, y): its box, keypoints placed like a face's, age from x."""
    s = SIDE
    keypoints = [(x + 0.3 * s, y + 0.4 * s), (x + 0.7 * s, y + 0.4 * s), (x + 0.5 * s, y + 0.6 * s),
                 (x + 0.5 * s, y + 0.8 * s), (x, y + 0.5 * s), (x + s, y + 0.5 * s)]
    return Face(np.array([x, y, x + s, y + s], np.float32), np.array(keypoints, np.float32), score,
                age=30.0 + x / 8, female=female)


def synthetic_clip() -> tuple[list[np.ndarray], list[list[Face]]]:
    """40 frames (H x W x 3 RGB uint8) that reach every decision reason, and the faces the detector reports."""
    scene_a, scene_b = _background(11, 40, 160), _background(12, 120, 220)  # b is brighter: a cut
    shots: list[tuple[np.ndarray, int, list[tuple[int, int, float, float]]]] = []  # background, pan, (x, y, female, score)
    shots += [(scene_a, 2 * k, [(12 - 2 * k, 16, 0.8, 0.9)]) for k in range(4)]  # 0-3: the camera pans, face 1 with the scene
    shots += [(scene_a, 6, [(6, 16, 0.8, 0.9)])] * 12  # 4-15: static (max-reuse)
    shots += [(scene_a, 6, [(6 + 2 * k, 16, 0.8, 0.52)]) for k in range(1, 6)]  # 16-20: face 1 moves right, seen weakly
    shots += [(scene_a, 6, [(16, 16, 0.8, 0.52)])] * 6  # 21-26: still weak (low-confidence), missed once (recheck)
    shots += [(scene_b, 0, [])] * 4  # 27-30: cut to another scene, no face
    shots += [(scene_b, 0, [])] * 2  # 31-32: a faint change in the empty scene (scene-change)
    shots += [(scene_b, 0, [(56, 20, 0.2, 0.9)])] * 4  # 33-36: face 2 enters at the right border and stays
    shots += [(scene_b, 0, [])] * 3  # 37-39: face 2 leaves
    frames, detections = [], []
    for i, (background, pan, squares) in enumerate(shots):
        frame = background[:, pan:pan + W].copy()
        if i in FAINT:
            frame[20:28, 24:40] += 25
        for x, y, _, _ in squares:
            frame[y:y + SIDE, x:x + SIDE] = 255
        frames.append(frame)
        detections.append([] if i in MISSED else [_square_face(x, y, female, score) for x, y, female, score in squares])
    return frames, detections


def look_answers(count: int) -> list[list[dict | None]]:
    """What the golden's look function answers on each frame, call by call: none on frame 0, then older and male."""
    answer = lambda i, k: {"age": 45.0 + i + 10 * k, "female": 0.125 * (k + 1)}  # noqa: E731
    return [[None if i == 0 else answer(i, k) for k in range(LOOK.max_faces)] for i in range(count)]


def _run(frames: list[np.ndarray], detections: list[list[Face]], config: ReuseConfig,
         look: SecondLook | None = None, answers: list[list[dict | None]] | None = None) -> list[dict]:
    """The decision trace of one scheduler on the frames, its detector returning detections[i] on frame i."""
    current, calls = 0, []

    def look_at(_frame: np.ndarray, face: Face) -> Face | None:
        answer = answers[current][len(calls)]
        calls.append(face)
        return None if answer is None else Face(face.box, face.keypoints, face.score, answer["age"], answer["female"])

    scheduler = FrameReuseScheduler(lambda _frame: detections[current], config, look, look_at if look else None)
    trace = []
    for current, frame in enumerate(frames):
        calls.clear()
        trace.append(scheduler.step(frame).trace())
    return trace


def _config(policy: str) -> ReuseConfig:
    """The settings a policy's trace is written with: the defaults, skip-N with skip=3."""
    return ReuseConfig(policy=policy, skip=3)


def deflate(data: bytes) -> bytes:
    """Raw DEFLATE (no zlib header or checksum), what Java's Inflater(true) and Apple's .zlib decompress."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def write_traces(folder: Path) -> list[str]:
    """Write folder/reuse_traces.json (clip, detections, thumbnails, one trace per policy); return its name."""
    frames, faces = synthetic_clip()
    detections = [[f.to_dict() for f in frame_faces] for frame_faces in faces]
    # the schedulers get the faces as a port reads them back from the file, so replaying gives the same numbers
    read_back = [[Face.from_dict(d) for d in frame_faces] for frame_faces in detections]
    traces = [_run(frames, read_back, _config(p)) for p in POLICIES]
    answers = look_answers(len(frames))
    tracking = _config("motion-gated+tracking")
    size = ReuseConfig().thumb
    payload = {
        "description": DESCRIPTION,
        "thumbnail": {"size": size, "samples": SAMPLES, "luma_weights": [int(w) for w in LUMA_WEIGHTS[0]],
                      "divisor": SAMPLES * SAMPLES * 255000},
        "frames": {"width": W, "height": H, "layout": "HWC RGB uint8",
                   "count": len(frames), "encoding": "raw DEFLATE, base64",
                   "data": base64.b64encode(deflate(b"".join(f.tobytes() for f in frames))).decode("ascii")},
        "detections": detections,
        "thumbnails": [thumbnail(f, size).tolist() for f in frames[:THUMBNAILS_STORED]],
        "policies": [{"config": asdict(_config(p)), "trace": t} for p, t in zip(POLICIES, traces)]
        + [{"config": asdict(tracking), "second_look": asdict(LOOK), "look_answers": answers,
            "trace": _run(frames, read_back, tracking, LOOK, answers)}],
    }
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / FILE, payload, indent=None)
    return [FILE]


def replay(path: Path) -> list[list[dict]]:
    """Re-run every policy of a traces file from its own frames, detections and configs, as a port does."""
    data = load_json(path, max_bytes=4 * MB, what="reuse traces")
    shape = (data["frames"]["height"], data["frames"]["width"], 3)
    pixels = np.frombuffer(zlib.decompress(base64.b64decode(data["frames"]["data"]), wbits=-15), np.uint8)
    frames = list(pixels.reshape(data["frames"]["count"], *shape))
    detections = [[Face.from_dict(d) for d in frame_faces] for frame_faces in data["detections"]]
    return [_run(frames, detections, ReuseConfig(**entry["config"]),
                 SecondLook(**entry["second_look"]) if "second_look" in entry else None, entry.get("look_answers"))
            for entry in data["policies"]]
