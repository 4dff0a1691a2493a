"""`make paddle`: the checkpoint as a Paddle inference model, converted and run in .venv-paddle, verified against PyTorch.

Paddle Lite itself cannot run here (no paddlelite wheel for CPython 3.11; see README, Runtimes), so this stops at
the model its optimiser takes: ONNX (exported here) -> x2paddle -> facekit.pdmodel/.pdiparams, run with Paddle
Inference on the verification images and judged by the fp32 rules. The folder is replaced only when it passed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from exporter.checkpoint import load_model
from exporter.digest import sha256_of
from exporter.export.bundle import swap_into_place
from exporter.export.images import export_images
from exporter.export.to_onnx import export_onnx
from exporter.export.to_paddle import FILES
from exporter.export.verify import LATENCY_RUNS, LATENCY_WARMUP, Parity, compare
from exporter.jsonio import write_json
from exporter.paths import DEFAULT_CHECKPOINT, REPO_ROOT, data_root
from exporter.runner import nchw_input, torch_runner
from exporter.spec import OUTPUT_NAMES

LITE_OPT = ("paddle_lite_opt --model_file=facekit.pdmodel --param_file=facekit.pdiparams --valid_targets=arm "
            "--optimize_out=facekit")  # writes facekit.nb (Paddle Lite 2.12's optimiser; checked with Python 3.7)


class PaddleFailed(RuntimeError):
    """A step in .venv-paddle failed, or the model does not match PyTorch; nothing was written."""


def venv_python(venv: Path) -> Path:
    """The Paddle venv's interpreter; raises saying how to make it when it is missing."""
    python = venv / "bin" / "python"
    if not python.is_file():
        raise PaddleFailed(f"{python} is missing: `make paddle` sets up {venv} from requirements-paddle.lock")
    return python


def in_venv(python: Path, *arguments: str) -> None:
    """Run `python -m exporter.export.to_paddle ARGUMENTS` with the Paddle venv's interpreter; raise with its output's
    tail on failure."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run([str(python), "-m", "exporter.export.to_paddle", *arguments], capture_output=True,
                            text=True, errors="replace", env=env)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise PaddleFailed(f"to_paddle {arguments[0]} failed with {python} (exit {result.returncode}):\n{tail}")


def paddle_export(checkpoint: Path, data_root: Path | None, out: Path, venv: Path, log=print) -> tuple[Parity, float]:
    """Convert, run and verify; write facekit.pdmodel, facekit.pdiparams and paddle.json into `out` when it passes.
    Returns the parity and the median single-image latency in ms (1 thread)."""
    python = venv_python(venv)
    model = load_model(checkpoint, fold_batchnorm=True)[0]
    _, verification = export_images(data_root, calibrate=False)
    squares = verification.squares
    log(f"verification: {verification.source}")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".staging-{out.name}-") as tmp:
        staging, work = Path(tmp) / "bundle", Path(tmp) / "work"
        work.mkdir()
        export_onnx(checkpoint, work / "facekit.onnx")
        log(f"converting with x2paddle in {venv}...")
        in_venv(python, "convert", "--onnx", str(work / "facekit.onnx"), "--out", str(staging))
        np.save(work / "inputs.npy", np.concatenate([nchw_input(square) for square in squares]))
        log(f"running Paddle Inference on {len(squares)} images...")
        in_venv(python, "run", "--model", str(staging / "facekit"), "--inputs", str(work / "inputs.npy"),
                "--out", str(work / "outputs.npz"), "--runs", str(LATENCY_RUNS), "--warmup", str(LATENCY_WARMUP))
        with np.load(work / "outputs.npz") as outputs:
            candidate = [outputs[name] for name in OUTPUT_NAMES]
            latency = float(outputs["latency_ms"])
        parity = compare(torch_runner(model)(squares), candidate, "fp32")
        log(f"Paddle Inference against PyTorch: max abs error {max(parity.max_abs_error.values()):.1e}, "
            f"error/range {max(parity.max_error_over_range.values()):.1e}, faces {parity.faces_matched:.3f}; "
            f"{latency:.2f} ms (1 thread)")
        if not parity.passed:
            raise PaddleFailed(f"the Paddle model does not match PyTorch: {'; '.join(parity.failures)}")
        write_json(staging / "paddle.json", {
            "checkpoint_sha256": sha256_of(checkpoint), "files": {n: sha256_of(staging / n) for n in FILES},
            "verification": verification.source, "parity": parity.to_dict(), "host_latency_ms": latency,
            "runtime": "Paddle Inference (paddlepaddle, requirements-paddle.lock), CPU without oneDNN, 1 thread",
            "paddle_lite": f"not run here (no CPython 3.11 wheel); make facekit.nb with: {LITE_OPT}"})
        swap_into_place(staging, out)
    log(f"wrote {out}")
    return parity, latency


def main(argv=None) -> int:
    """Command line of `make paddle`."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    p.add_argument("--data", type=Path, default=None, help="datasets folder for the verification images "
                   "(default: FACEKIT_DATA or ../shared/datasets when present, else the built-in set)")
    p.add_argument("--out", type=Path, default=REPO_ROOT / "exports" / "paddle")
    p.add_argument("--venv", type=Path, default=REPO_ROOT / ".venv-paddle")
    args = p.parse_args(argv)
    default_data = data_root()
    try:
        paddle_export(args.checkpoint, args.data or (default_data if default_data.is_dir() else None), args.out, args.venv)
    except PaddleFailed as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
