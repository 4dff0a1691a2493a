"""Frame-reuse page logic: a clip through every-frame and two chosen policies, per-frame records, fidelity, a player.

The clip is decoded once and each frame goes through every policy's scheduler with the same detector, as
`facekit bench` does, but every frame's decision, latency and faces are kept for the timeline and the player
(frames are kept only as small annotated JPEGs). Fidelity is the bench's, against every-frame on the same frames.
"""

from __future__ import annotations

import base64
import html
import json
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from exporter.bench.video_reuse import fidelity
from exporter.commands.detect import draw
from exporter.data.media import VIDEO_SUFFIXES, iter_frames
from exporter.postprocess import Face
from exporter.preview.photo import PreviewInputError
from exporter.reuse import FrameReuseScheduler, ReuseConfig

REFERENCE = "every-frame"
MAX_FRAMES = 600  # frames read from a clip at most (the page's slider stops here)
MAX_VIDEO_MB = 200
DISPLAY_WIDTH = 360  # frames are shown (and kept) at this width
JPEG_QUALITY = 75
PROGRESS_EVERY = 10  # frames between progress reports


@dataclass
class PolicyRun:
    """One policy on a clip, frame by frame."""

    name: str
    config: ReuseConfig
    ran: list[bool] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    ms: list[float] = field(default_factory=list)  # wall time of the scheduler step
    faces: list[list[Face]] = field(default_factory=list)
    frames_jpeg: list[bytes] = field(default_factory=list)  # annotated, DISPLAY_WIDTH wide

    def summary(self, reference: PolicyRun) -> dict:
        """Mean latency, model runs, speedup over every-frame and fidelity against it on the same frames."""
        mean_ms = float(np.mean(self.ms))
        return {"policy": self.name, "frames": len(self.ms), "model runs": int(sum(self.ran)),
                "mean ms/frame": round(mean_ms, 3), "speedup": round(float(np.mean(reference.ms)) / mean_ms, 2),
                **{k: round(v, 3) for k, v in fidelity(reference.faces, self.faces).items() if k != "reference_faces"}}


@dataclass
class ClipRun:
    """Every policy on one clip, and how fast the page processed it."""

    name: str
    fps: float  # the clip's frame rate
    width: int
    height: int
    policies: dict[str, PolicyRun]
    seconds: float  # wall time of decoding, every scheduler step and the drawing

    @property
    def frames(self) -> int:
        """Frames processed."""
        return len(self.policies[REFERENCE].ms)

    @property
    def processing_fps(self) -> float:
        """Frames processed per second of wall time (all policies, decoding and drawing included)."""
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def policy_configs(chosen: list[ReuseConfig]) -> dict[str, ReuseConfig]:
    """Every-frame (the reference) and the chosen policies, named by policy (a second skip-N gets its N)."""
    configs = {REFERENCE: ReuseConfig(policy=REFERENCE)}
    for config in chosen:
        if config not in configs.values():
            configs[config.policy if config.policy not in configs else f"{config.policy} ({_settings(config)})"] = config
    return configs


def name_of(configs: dict[str, ReuseConfig], config: ReuseConfig) -> str:
    """The name policy_configs gave a chosen config."""
    return next(name for name, c in configs.items() if c == config)


def _settings(config: ReuseConfig) -> str:
    default = ReuseConfig(policy=config.policy)
    changed = {k: v for k, v in vars(config).items() if v != getattr(default, k)}
    return ", ".join(f"{k}={v}" for k, v in changed.items()) or "defaults"


def clip_fps(path: Path) -> float:
    """The clip's frame rate (30 when the file does not say)."""
    capture = cv2.VideoCapture(str(path))
    try:
        fps = capture.get(cv2.CAP_PROP_FPS)
    finally:
        capture.release()
    return float(fps) if fps and 1 <= fps <= 240 else 30.0


def run_clip(path: Path, detect: Callable[[np.ndarray], list[Face]], configs: dict[str, ReuseConfig],
             max_frames: int, on_progress: Callable[[float], None] | None = None) -> ClipRun:
    """Every policy on the clip's first max_frames frames; ValueError when the clip cannot be decoded."""
    runs = {name: PolicyRun(name, config) for name, config in configs.items()}
    schedulers = {name: FrameReuseScheduler(detect, config) for name, config in configs.items()}
    width = height = 0
    start = time.perf_counter()
    for index, frame in iter_frames(path, max_frames=max_frames):
        height, width = frame.shape[:2]
        scale = DISPLAY_WIDTH / width
        small = cv2.resize(frame, (DISPLAY_WIDTH, max(1, round(height * scale))), interpolation=cv2.INTER_AREA)
        for name, scheduler in schedulers.items():
            t0 = time.perf_counter()
            decision = scheduler.step(frame)
            run = runs[name]
            run.ms.append(1000 * (time.perf_counter() - t0))
            run.ran.append(decision.ran_model)
            run.reasons.append(decision.reason)
            run.faces.append(list(decision.faces))
            shown = draw(small, [_scaled(f, scale) for f in decision.faces])
            ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(shown, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
            run.frames_jpeg.append(jpeg.tobytes() if ok else b"")
        if on_progress is not None and (index + 1) % PROGRESS_EVERY == 0:
            on_progress((index + 1) / max_frames)
    return ClipRun(Path(path).name, clip_fps(path), width, height, runs, time.perf_counter() - start)


def _scaled(face: Face, scale: float) -> Face:
    return replace(face, box=face.box * scale, keypoints=face.keypoints * scale)


@contextmanager
def uploaded_clip(data: bytes, name: str) -> Iterator[Path]:
    """The upload as a file in a temporary folder that is removed afterwards; PreviewInputError for a non-video."""
    suffix = Path(name).suffix.lower()
    if suffix not in VIDEO_SUFFIXES:
        raise PreviewInputError(f"{name} is not a video file: upload one of {', '.join(VIDEO_SUFFIXES)}.")
    if len(data) > MAX_VIDEO_MB * 1024 * 1024:
        raise PreviewInputError(f"{name} is {len(data) / 2**20:.0f} MB; the preview takes clips up to {MAX_VIDEO_MB} MB. "
                                "Cut it shorter (the page reads at most the first frames anyway).")
    with tempfile.TemporaryDirectory(prefix="facekit-preview-") as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(data)
        try:
            yield path
        except ValueError as error:  # name the upload, not the temporary file
            raise type(error)(str(error).replace(str(path), name)) from None


def timeline_rows(clip: ClipRun) -> list[dict]:
    """Per frame and policy: milliseconds and whether the model ran (for the latency timeline)."""
    return [{"frame": i, "policy": run.name, "ms": round(ms, 3), "model": "ran" if ran else "reused"}
            for run in clip.policies.values() for i, (ms, ran) in enumerate(zip(run.ms, run.ran))]


def player_html(clip: ClipRun, names: list[str]) -> str:
    """A self-contained player: the chosen policies' annotated frames side by side, with per-frame decisions.

    It holds no text from the user (names are the policies' own, frames are JPEGs encoded here), as the page
    embeds it with st.iframe, which runs it unsanitised.
    """
    runs = [clip.policies[name] for name in names]
    data = {"fps": clip.fps, "frames": clip.frames,
            "policies": [{"name": r.name, "jpeg": [base64.b64encode(j).decode() for j in r.frames_jpeg],
                          "ran": r.ran, "reason": r.reasons, "ms": [round(m, 2) for m in r.ms]} for r in runs]}
    panels = "".join(f'<figure><figcaption>{html.escape(r.name)}</figcaption><img id="img{i}" alt="{html.escape(r.name)}">'
                     f'<div class="state" id="state{i}"></div></figure>' for i, r in enumerate(runs))
    return _PLAYER.replace("__PANELS__", panels).replace("__DATA__", json.dumps(data))


_PLAYER = """<!doctype html><html><head><style>
body { font-family: sans-serif; margin: 0; color: #222; }
.row { display: flex; gap: 12px; } figure { margin: 0; } figcaption { font-weight: bold; margin-bottom: 4px; }
img { width: 360px; display: block; } .state { font-size: 13px; margin-top: 4px; }
.ran { color: #b00020; } .reused { color: #1b7f3b; } .controls { margin: 8px 0; display: flex; gap: 8px; align-items: center; }
</style></head><body><div class="row">__PANELS__</div>
<div class="controls"><button id="play">Play</button><input id="seek" type="range" min="0" value="0" style="width: 480px">
<span id="pos"></span></div>
<script>
const D = __DATA__; let i = 0, timer = null;
const seek = document.getElementById("seek"); seek.max = D.frames - 1;
function show(k) {
  i = k; seek.value = k; document.getElementById("pos").textContent = `frame ${k + 1} / ${D.frames}`;
  D.policies.forEach((p, n) => {
    document.getElementById("img" + n).src = "data:image/jpeg;base64," + p.jpeg[k];
    const s = document.getElementById("state" + n);
    s.className = "state " + (p.ran[k] ? "ran" : "reused");
    s.textContent = (p.ran[k] ? "model ran (" + p.reason[k] + ")" : "results reused") + ", " + p.ms[k] + " ms";
  });
}
document.getElementById("play").onclick = () => {
  if (timer) { clearInterval(timer); timer = null; document.getElementById("play").textContent = "Play"; return; }
  document.getElementById("play").textContent = "Pause";
  timer = setInterval(() => show((i + 1) % D.frames), 1000 / D.fps);
};
seek.oninput = () => show(parseInt(seek.value));
show(0);
</script></body></html>"""
