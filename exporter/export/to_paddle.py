"""ONNX -> Paddle inference model (facekit.pdmodel + .pdiparams, the input of Paddle Lite's optimiser) with x2paddle, and
the model run with Paddle Inference. Runs in .venv-paddle (`make paddle`): x2paddle 1.6.0 needs onnx < 1.17 and
paddlepaddle pins opt_einsum 3.3.0, both older than the main venv's.

  python -m exporter.export.to_paddle convert --onnx facekit.onnx --out DIR
  python -m exporter.export.to_paddle run --model DIR/facekit --inputs inputs.npy --out outputs.npz --runs 30 --warmup 5

x2paddle is called with disable_feedback (otherwise it reports each conversion to paddlepaddle.org.cn), and Paddle
writes the old program format (FLAGS_enable_pir_api=0): the PIR model x2paddle writes by default fails to load
(a Reshape output type mismatch), and Paddle Lite reads only the old format.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx

from exporter.export.paddle_onnx import for_paddle
from exporter.spec import OUTPUT_NAMES

FILES = ("facekit.pdmodel", "facekit.pdiparams")


def convert(onnx_path: Path, out: Path) -> list[Path]:
    """Write facekit.pdmodel and facekit.pdiparams into `out` (made from the ONNX file as `for_paddle` spells it)."""
    from x2paddle.convert import onnx2paddle

    outputs = [o.name for o in onnx.load(str(onnx_path)).graph.output]
    if outputs != list(OUTPUT_NAMES):
        raise ValueError(f"{onnx_path}: outputs {outputs}, expected {list(OUTPUT_NAMES)} (Paddle keeps the order, not the names)")
    with tempfile.TemporaryDirectory(prefix="facekit-paddle-") as tmp:
        source = Path(tmp) / "facekit.onnx"
        onnx.save(for_paddle(onnx.load(str(onnx_path))), str(source))
        log = io.StringIO()
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            onnx2paddle(str(source), str(Path(tmp) / "x2paddle"), disable_feedback=True)
        model = Path(tmp) / "x2paddle" / "inference_model" / "model"
        if not Path(f"{model}.pdmodel").is_file():
            raise RuntimeError(f"x2paddle wrote no inference model; its last output:\n{log.getvalue()[-2000:]}")
        out.mkdir(parents=True, exist_ok=True)
        for suffix, name in zip((".pdmodel", ".pdiparams"), FILES):
            shutil.move(f"{model}{suffix}", out / name)
    return [out / name for name in FILES]


def predictor(model: Path, threads: int = 1):
    """A Paddle Inference predictor on the CPU without oneDNN (with it, the default configuration corrupts the heap
    on this model: "malloc_consolidate(): invalid chunk size")."""
    import paddle.inference as paddle_inference

    config = paddle_inference.Config(f"{model}.pdmodel", f"{model}.pdiparams")
    config.disable_gpu()
    config.disable_mkldnn()
    config.set_cpu_math_library_num_threads(threads)
    config.disable_glog_info()
    return paddle_inference.create_predictor(config)


def run(model: Path, inputs: np.ndarray, runs: int, warmup: int) -> tuple[list[np.ndarray], float]:
    """Outputs for (N, 3, S, S) float inputs, one image at a time, in OUTPUT_NAMES order; and the median ms of one
    inference on the first input (after `warmup` runs)."""
    session = predictor(model)
    names = session.get_output_names()
    if len(names) != len(OUTPUT_NAMES):
        raise RuntimeError(f"{model}.pdmodel has outputs {names}, expected {len(OUTPUT_NAMES)}")
    handle = session.get_input_handle(session.get_input_names()[0])

    def infer(x: np.ndarray) -> list[np.ndarray]:
        handle.copy_from_cpu(np.ascontiguousarray(x))
        session.run()
        return [session.get_output_handle(name).copy_to_cpu() for name in names]

    per_image = [infer(x[None]) for x in inputs]
    for _ in range(warmup):
        infer(inputs[:1])
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        infer(inputs[:1])
        times.append(time.perf_counter() - start)
    return [np.concatenate(outputs) for outputs in zip(*per_image)], 1000 * float(np.median(times))


def main(argv=None) -> int:
    """convert or run, as the module docstring shows."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    c = commands.add_parser("convert")
    c.add_argument("--onnx", type=Path, required=True)
    c.add_argument("--out", type=Path, required=True)
    r = commands.add_parser("run")
    r.add_argument("--model", type=Path, required=True, help="path without .pdmodel/.pdiparams")
    r.add_argument("--inputs", type=Path, required=True, help=".npy of (N, 3, S, S) float32 model inputs")
    r.add_argument("--out", type=Path, required=True, help=".npz of the outputs by name, and latency_ms")
    r.add_argument("--runs", type=int, required=True)
    r.add_argument("--warmup", type=int, required=True)
    args = parser.parse_args(argv)
    os.environ["FLAGS_enable_pir_api"] = "0"  # the old program format; read when paddle is first imported, below
    if args.command == "convert":
        convert(args.onnx, args.out)
    else:
        outputs, latency = run(args.model, np.load(args.inputs), args.runs, args.warmup)
        np.savez(args.out, latency_ms=latency, **dict(zip(OUTPUT_NAMES, outputs)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
