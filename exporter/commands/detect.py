"""`facekit detect PATH...`: faces (box, score, age, gender) in images, folders or videos; `--save` draws them."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from exporter.atomic import atomic_write, check_writable_folder, use_umask
from exporter.checkpoint import CheckpointError, load_model
from exporter.commands import fail
from exporter.data.media import VideoCutShort, is_video, iter_frames, list_media
from exporter.detector import Detector
from exporter.jsonio import dump_json
from exporter.paths import DEFAULT_CHECKPOINT
from exporter.postprocess import DecodeConfig, Face
from exporter.second_look import SecondLook

BOX_COLOUR = (0, 255, 0)  # RGB: boxes and labels
KEYPOINT_COLOURS = ((255, 0, 0), (0, 0, 255), (0, 255, 0), (255, 0, 255), (255, 255, 0), (0, 255, 255))  # RGB


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Options of `facekit detect`."""
    p = argparse.ArgumentParser(prog="facekit detect", description=__doc__)
    p.add_argument("paths", nargs="+", type=Path, help="images, videos or folders of them")
    p.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT, help="default: the shipped checkpoint")
    p.add_argument("--threshold", type=float, default=DecodeConfig().score_threshold, help="face score threshold")
    p.add_argument("--every", type=int, default=1, help="videos: run on every Nth frame")
    p.add_argument("--save", type=Path, default=None, metavar="DIR", help="write annotated copies into DIR")
    p.add_argument("--json", action="store_true", help="print one JSON object per image or frame")
    p.add_argument("--strict", action="store_true",
                   help="a video cut short (fewer frames than its header declares) is an error: no annotated copy")
    p.add_argument("--no-second-look", action="store_true",
                   help="take age and gender from the first run only (default: run the model again on small faces)")
    args = p.parse_args(argv)
    if not 0.0 <= args.threshold <= 1.0:
        p.error(f"--threshold must be between 0 and 1, got {args.threshold}")
    if args.every < 1:
        p.error(f"--every must be at least 1, got {args.every}")
    return args


def describe(face: Face) -> str:
    """One line for a face in image pixels."""
    x0, y0, x1, y1 = (int(round(v)) for v in face.box)
    gender = "female" if (face.female or 0.0) >= 0.5 else "male"
    return f"box ({x0}, {y0}, {x1}, {y1}) score {face.score:.2f} age {face.age:.0f} {gender} (p_female {face.female:.2f})"


def draw(image_rgb: np.ndarray, faces: list[Face]) -> np.ndarray:
    """A copy of the image with boxes, keypoints and an age/gender label per face."""
    out = image_rgb.copy()
    thick = max(1, round(max(out.shape[:2]) / 400))
    for face in faces:
        x0, y0, x1, y1 = (int(round(v)) for v in face.box)
        cv2.rectangle(out, (x0, y0), (x1, y1), BOX_COLOUR, thick)
        for (x, y), colour in zip(face.keypoints, KEYPOINT_COLOURS):
            cv2.circle(out, (int(round(x)), int(round(y))), 2 * thick, colour, -1)
        label = f"{face.score:.2f}" if face.age is None else \
            f"{face.age:.0f} {'F' if (face.female or 0) >= 0.5 else 'M'} {face.score:.2f}"  # MediaPipe has no age
        cv2.putText(out, label, (x0, max(12, y0 - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.4 * thick, BOX_COLOUR, thick)
    return out


def _temp_beside(path: Path) -> Path:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(fd)
    return Path(tmp)


def _output_name(path: Path, level: int) -> str:
    """Level 0: `x_faces.jpg`; 1: `x-png_faces.png` (the input suffix added); 2+: also its last folders."""
    suffix = ".mp4" if is_video(path) else (".png" if path.suffix.lower() == ".webp" else path.suffix)
    parts = path.resolve().with_suffix("").parts[1:]
    kind = path.suffix.lstrip(".").lower()
    if level == 0:
        base = path.stem
    elif level <= len(parts):
        base = "-".join(parts[-level:]) + f"-{kind}"
    else:
        base = "-".join(parts) + f"-{kind}-{level}"
    return f"{base}_faces{suffix}"


def output_paths(files: list[Path], folder: Path) -> dict[Path, Path]:
    """A distinct annotated-copy path in folder per input (never an input file): stems that clash get more of their path."""
    inputs = {p.resolve() for p in files}
    out: dict[Path, Path] = {}
    pending, level = list(files), 0
    while pending:
        names = {p: _output_name(p, level) for p in pending}
        counts = Counter(names.values())
        used = {q.name for q in out.values()}
        pending = []
        for path, name in names.items():
            if counts[name] == 1 and name not in used and (folder / name).resolve() not in inputs:
                out[path] = folder / name
            else:
                pending.append(path)
        level += 1
    return out


def save_image(path: Path, image_rgb: np.ndarray) -> None:
    """Encode to a temporary file beside path, then rename: never a half-written picture."""
    ok, data = cv2.imencode(path.suffix, cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError(f"OpenCV cannot encode {path.suffix} files")
    atomic_write(path, lambda tmp: tmp.write_bytes(data.tobytes()), suffix=path.suffix)


def run_one(path: Path, detector: Detector, args: argparse.Namespace, target: Path | None) -> int:
    """Detect in one file; print the faces and save the annotated copy to target. Returns the number of faces.

    A video cut short (VideoCutShort) is raised after its frames were printed; its annotated copy is kept
    (and says how many frames it has) unless --strict.
    """
    config = DecodeConfig(score_threshold=args.threshold)
    video = is_video(path)
    writer, tmp, total, frames = None, None, 0, 0
    short: VideoCutShort | None = None
    try:
        try:
            for index, frame in iter_frames(path, every=args.every, complete=video):
                faces = detector(frame, config)
                total += len(faces)
                frames += 1
                where = f"{path} frame {index}" if video else str(path)
                if args.json:
                    print(dump_json({"file": str(path), "frame": index, "faces": [f.to_dict() for f in faces]}, indent=None), end="")
                else:
                    print(f"{where}: {len(faces)} face{'s' if len(faces) != 1 else ''}")
                    for face in faces:
                        print(f"  {describe(face)}")
                if target is None:
                    continue
                annotated = draw(frame, faces)
                if not video:
                    save_image(target, annotated)
                    continue
                if writer is None:
                    tmp = _temp_beside(target)
                    fps = cv2.VideoCapture(str(path)).get(cv2.CAP_PROP_FPS) or 25.0
                    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), fps / args.every, frame.shape[1::-1])
                writer.write(cv2.cvtColor(annotated, cv2.COLOR_RGB2BGR))
        except VideoCutShort as cut:
            if args.strict:
                raise
            short = cut
        if writer is not None:
            writer.release()
            writer = None
            use_umask(tmp)
            os.replace(tmp, target)
        if video:
            print(f"{path}: {frames} frame{'s' if frames != 1 else ''} read" + (f", saved as {target}" if target else ""))
        if short is not None:
            raise short
    finally:
        if writer is not None:
            writer.release()
        if tmp is not None and tmp.exists():
            tmp.unlink()
    return total


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 0 when every input was read; 1 when any was missing or unreadable, or (with --strict) a video was cut
    short (the others are still processed); 2 for a bad --save folder."""
    args = parse_args(argv)
    if args.save is not None:
        try:
            check_writable_folder(args.save, "--save")
        except ValueError as error:
            print(f"facekit detect: {error}", file=sys.stderr)
            return 2
    try:
        model, _ = load_model(args.checkpoint)
    except CheckpointError as error:
        return fail("detect", error)
    detector = Detector.from_torch(model, second_look=None if args.no_second_look else SecondLook())
    files: dict[Path, None] = {}  # ordered and de-duplicated
    failed = 0
    for path in args.paths:
        try:
            files.update(dict.fromkeys(list_media([path])))
        except (FileNotFoundError, ValueError) as error:
            print(f"facekit detect: {error}", file=sys.stderr)
            failed += 1
    targets = output_paths(list(files), args.save) if args.save is not None else {}
    for path in files:
        try:
            run_one(path, detector, args, targets.get(path))
        except VideoCutShort as error:  # a failure only with --strict; else a warning (its frames were used)
            print(f"facekit detect: {'skipped' if args.strict else 'warning'}: {error}", file=sys.stderr)
            failed += args.strict
        except (ValueError, OSError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            print(f"facekit detect: skipped {path}: {reason}", file=sys.stderr)
            failed += 1
    if args.save is not None and files:
        print(f"annotated copies in {args.save}")
    return 1 if failed else 0
