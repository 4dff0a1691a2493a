"""Photo page logic: read an upload safely, run it through every chosen backend, find where backends differ."""

from __future__ import annotations

import io
from dataclasses import dataclass, replace

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from exporter.bench.latency import Backend, detector_for, with_threads
from exporter.commands.detect import draw
from exporter.detector import Detector, StageTimes
from exporter.metrics import greedy_match
from exporter.postprocess import DecodeConfig, Face
from exporter.second_look import SecondLook

MAX_PIXELS = 40_000_000  # larger photos are refused before decoding (a 40 MP RGB image is 120 MB)
MAX_UPLOAD_MB = 50
MATCH_IOU = 0.5  # two backends found the same face when their boxes overlap this much
TIMED_RUNS = 3  # per backend and photo; the median of each stage is shown
DIFFERENCE_COLOUR = (255, 0, 0)  # RGB: the frame around a face not every backend found
SHOWN_WIDTH = 800  # annotated photos are sent to the browser at most this wide (it shows them in a column)


class PreviewInputError(ValueError):
    """An upload the preview cannot use, with what was wrong and what to do."""


def decode_image(data: bytes, name: str) -> np.ndarray:
    """An uploaded photo as HxWx3 uint8 RGB; PreviewInputError when unreadable, empty or over MAX_PIXELS."""
    if len(data) > MAX_UPLOAD_MB * 1024 * 1024:
        raise PreviewInputError(f"{name} is {len(data) / 2**20:.0f} MB; the preview takes photos up to "
                                f"{MAX_UPLOAD_MB} MB. Resize it or pick a sample photo.")
    too_big = f"the preview takes photos up to {MAX_PIXELS / 1e6:.0f} MP. Resize it or pick a sample photo."
    try:
        with Image.open(io.BytesIO(data)) as header:  # reads the header only
            width, height = header.size
    except Image.DecompressionBombError:
        raise PreviewInputError(f"{name} has far too many pixels: {too_big}") from None
    except (UnidentifiedImageError, OSError, ValueError):
        raise PreviewInputError(f"{name} is not a readable image: upload a JPEG, PNG, BMP or WebP photo.") from None
    if width * height > MAX_PIXELS:
        raise PreviewInputError(f"{name} has {width} x {height} pixels ({width * height / 1e6:.0f} MP); {too_big}")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise PreviewInputError(f"{name} could not be decoded (a truncated or unsupported file?): upload a JPEG, "
                                "PNG, BMP or WebP photo.")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


@dataclass(frozen=True)
class PhotoResult:
    """One backend's faces on the photo and the median seconds of each stage."""

    backend: str
    faces: list[Face]
    times: StageTimes


def run_photo(backends: list[Backend], image: np.ndarray, config: DecodeConfig, runs: int = TIMED_RUNS) -> list[PhotoResult]:
    """Every backend's reference detector on the image (with the second look), `runs` timed first looks each
    (median per stage)."""
    results = []
    for backend in backends:
        detector = detector_for(backend, SecondLook())
        decode = _decode_for(detector, config)
        timed = with_threads(backend, lambda: [detector.timed(image, decode) for _ in range(runs)])
        stages = {name: float(np.median([getattr(t, name) for _, t in timed])) for name in ("pre", "infer", "post")}
        faces = with_threads(backend, lambda: detector(image, decode))  # the whole reference pipeline: second look too
        results.append(PhotoResult(backend.key, faces, StageTimes(**stages)))
    return results


def _decode_for(detector: Detector, config: DecodeConfig) -> DecodeConfig:
    """The chosen thresholds with the model's own output scaling (MediaPipe's spec has no age)."""
    return replace(detector.decoder.config, score_threshold=config.score_threshold, iou_threshold=config.iou_threshold)


def unmatched(results: list[PhotoResult], iou: float = MATCH_IOU) -> dict[str, list[list[str]]]:
    """Per backend and face, the other backends that did not find that face (empty: every backend found it)."""
    out = {}
    for result in results:
        missing: list[list[str]] = [[] for _ in result.faces]
        for other in results:
            if other is result or not result.faces:
                continue
            match = greedy_match(np.array([f.box for f in result.faces]), np.array([f.score for f in result.faces]),
                                 np.array([f.box for f in other.faces]).reshape(-1, 4), iou_threshold=iou)
            for i, j in enumerate(match.gt_index):
                if j < 0:
                    missing[i].append(other.backend)
        out[result.backend] = missing
    return out


def annotate(image: np.ndarray, faces: list[Face], differs: list[bool]) -> np.ndarray:
    """The photo with the faces drawn (detect's drawing) and a red frame around each face that differs."""
    out = draw(image, faces)
    pad = max(3, round(max(image.shape[:2]) / 150))
    for face, flagged in zip(faces, differs):
        if flagged:
            x0, y0, x1, y1 = (int(round(v)) for v in face.box)
            cv2.rectangle(out, (x0 - pad, y0 - pad), (x1 + pad, y1 + pad), DIFFERENCE_COLOUR, pad)
    return out


def for_display(image: np.ndarray) -> np.ndarray:
    """The annotated photo shrunk to SHOWN_WIDTH when wider (less to encode and send; drawn at full size first)."""
    height, width = image.shape[:2]
    if width <= SHOWN_WIDTH:
        return image
    return cv2.resize(image, (SHOWN_WIDTH, max(1, round(height * SHOWN_WIDTH / width))), interpolation=cv2.INTER_AREA)


def face_rows(result: PhotoResult, missing: list[list[str]]) -> list[dict]:
    """The faces of one backend as table rows (image pixels)."""
    rows = []
    for face, absent in zip(result.faces, missing):
        x0, y0, x1, y1 = (round(float(v)) for v in face.box)
        rows.append({"box (x0, y0, x1, y1)": f"{x0}, {y0}, {x1}, {y1}", "score": round(face.score, 3),
                     "age": None if face.age is None else round(face.age, 1),
                     "gender": None if face.female is None else ("female" if face.female >= 0.5 else "male"),
                     "P(female)": None if face.female is None else round(face.female, 3),
                     "not found by": ", ".join(absent) or "—"})
    return rows


def latency_rows(results: list[PhotoResult]) -> list[dict]:
    """Pre/infer/post/total milliseconds of each backend on this photo."""
    return [{"backend": r.backend, "faces": len(r.faces), "pre ms": round(1000 * r.times.pre, 3),
             "infer ms": round(1000 * r.times.infer, 3), "post ms": round(1000 * r.times.post, 3),
             "total ms": round(1000 * r.times.total, 3)} for r in results]
