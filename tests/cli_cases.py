"""Helpers of the bad-input battery: run a command in-process, snapshot folders, make damaged inputs."""

from __future__ import annotations

import hashlib
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from exporter.cli import main

AS_ROOT = pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders, so this case cannot occur")


@dataclass
class Result:
    """Exit code and the two output streams of one in-process command."""

    code: int
    out: str
    err: str


def run(capsys, *argv: object) -> Result:
    """Run `facekit ARGV...` in this process; argparse errors (SystemExit) become their exit code."""
    capsys.readouterr()
    try:
        code = main([str(a) for a in argv])
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return Result(code, out, err)


def snapshot(folder: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under folder (hidden ones included)."""
    folder = Path(folder)
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def hidden(folder: Path) -> list[str]:
    """Names under folder that start with a dot: temporary files and folders left behind."""
    return [str(p.relative_to(folder)) for p in Path(folder).rglob(".*")]


def photo(path: Path, size: tuple[int, int] = (120, 100), seed: int = 0) -> Path:
    """A small random image in the format its suffix names."""
    width, height = size
    image = (np.random.default_rng(seed).random((height, width, 3)) * 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), image)
    return path


def huge_png(path: Path, width: int = 50_000, height: int = 50_000) -> Path:
    """A tiny PNG file whose header declares width x height pixels."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    return path


def huge_jpeg(path: Path, width: int = 60_000, height: int = 60_000) -> Path:
    """A small JPEG whose start-of-frame declares width x height pixels."""
    data = bytearray(photo(path.with_name("small-" + path.name)).read_bytes())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    path.write_bytes(bytes(data))
    return path


def cut(path: Path, fraction: float) -> Path:
    """Keep only the first fraction of a file."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


def video(path: Path, frames: int = 30, size: tuple[int, int] = (64, 48)) -> Path:
    """A short MJPG .avi of grey frames."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, size)
    for i in range(frames):
        writer.write(np.full((size[1], size[0], 3), i * 8 % 256, np.uint8))
    writer.release()
    return path


class Payload:
    """A pickled object that would create `marker` if it were ever unpickled by a full pickle load."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def malicious_checkpoint(path: Path, marker: Path) -> Path:
    """A .pt file that looks like a FaceKit checkpoint and runs a command when fully unpickled."""
    torch.save({"format": "facekit-checkpoint", "version": 1, "model_config": {}, "hook": Payload(marker)}, path)
    return path
