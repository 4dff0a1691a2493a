"""Per-layer LiteRT latency table for the width search, in the spirit of FBNet's and MnasNet's lookup tables.

Each part of the model (the stem, each BlazeBlock, the heads) is built alone at candidate widths, converted to a
full-int8 TFLite file by the export's own path (ONNX, onnx2tf, TF's int8 converter; random weights and inputs:
int8 latency does not depend on the values) and timed in LiteRT at 1 thread. Between the measured widths a part's
latency is a least-squares fit t = a + b*c_in + c*c_in*c_out + d*c_out (+ e if the block widens, so that its
residual needs a channel pad); a model's prediction is the sum of its parts
less the interpreter's per-call overhead for every part after the first. `check` converts whole models and
compares their measured latency with the prediction.
"""

from __future__ import annotations

import functools
import os
import platform
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
import onnx
import onnxslim
import torch
from torch import nn
from tqdm import tqdm

from exporter.jsonio import MB, load_json, write_json
from exporter.model.blazeface import STAGE_16, STAGE_8, BlazeBlock, FaceKitNet, ModelConfig, SameConv2d
from exporter.paths import REPO_ROOT
from exporter.runner import native_output_silenced

INPUT = 128
TIMED_RUNS, WARMUP_RUNS, ROUNDS = 300, 30, 3
WIDTH_SHARES = (0.5, 0.75, 1.0)  # candidate widths measured for each part, as shares of the shipped ones


@dataclass(frozen=True)
class Part:
    """One separately timed piece of the model: its kind, input side, stride and widths."""

    kind: str  # "stem", "block", "heads" or "overhead"
    side: int  # input side in pixels (heads: the 16x16 map's)
    stride: int
    c_in: int  # input channels (heads: the 16x16 map's)
    c_out: int  # output channels (heads: the 8x8 map's)

    @property
    def key(self) -> str:
        """The table entry whose fit predicts this part: same kind, side and stride."""
        return f"{self.kind}-{self.side}-s{self.stride}"


def parts_of(channels: tuple[int, ...]) -> list[Part]:
    """The parts of a model with these stream widths (stem, then each block), in order."""
    parts, side = [Part("stem", INPUT, 2, 3, channels[0])], INPUT // 2
    for (_, stride), c_in, c_out in zip(STAGE_16 + STAGE_8, channels, channels[1:]):
        parts.append(Part("block", side, stride, c_in, c_out))
        side //= stride
    return parts + [Part("heads", 16, 1, channels[len(STAGE_16)], channels[-1])]


def part_module(part: Part, kernel: int = 3) -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    """The part as an eval-mode module with BatchNorm folded, and example inputs (NCHW)."""
    if part.kind == "overhead":
        return nn.ReLU(), (torch.zeros(1, part.c_in, 1, 1),)
    if part.kind == "stem":
        return nn.Sequential(SameConv2d(3, part.c_out, 5, stride=2), nn.ReLU()).eval(), (torch.zeros(1, 3, INPUT, INPUT),)
    if part.kind == "block":
        block = BlazeBlock(part.c_in, part.c_out, part.stride, kernel).eval()
        block.fold()
        return block, (torch.zeros(1, part.c_in, part.side, part.side),)
    blocks = len(STAGE_16) + len(STAGE_8)
    channels = (part.c_in,) * (len(STAGE_16) + 1) + (part.c_out,) * (blocks - len(STAGE_16))
    net = FaceKitNet(ModelConfig(channels=channels)).eval().fold_batchnorm()
    return _Heads(net), (torch.zeros(1, part.c_in, 16, 16), torch.zeros(1, part.c_out, 8, 8))


class _Heads(nn.Module):
    """A model's heads alone: (16x16 map, 8x8 map) -> the four outputs."""

    def __init__(self, net: FaceKitNet):
        super().__init__()
        self.net = net

    def forward(self, f16: torch.Tensor, f8: torch.Tensor):
        return self.net.heads(f16, f8)[0]


def int8_tflite(module: nn.Module, inputs: tuple[torch.Tensor, ...], work: Path) -> Path:
    """The module as a full-int8 TFLite file (ONNX, onnx2tf, TF's converter on random calibration inputs)."""
    with native_output_silenced():
        return _int8_tflite(module, inputs, work)


def _int8_tflite(module: nn.Module, inputs: tuple[torch.Tensor, ...], work: Path) -> Path:
    """int8_tflite's work, its output unsilenced."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    from exporter.export.to_onnx import OPSET
    from exporter.export.to_tflite import onnx2tf_convert

    raw, onnx_path = work / "part.raw.onnx", work / "part.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, inputs, str(raw), input_names=[f"in{i}" for i in range(len(inputs))],
                          opset_version=OPSET, dynamo=False)
    onnx.save(onnxslim.slim(onnx.load(str(raw))), str(onnx_path))  # as the export does: pads merge into the convs
    sample = np.zeros((20, INPUT, INPUT, 3), np.uint8)
    saved = onnx2tf_convert(onnx_path, work, sample)
    specs = tf.saved_model.load(str(saved)).signatures["serving_default"].structured_input_signature[1]
    rng = np.random.default_rng(0)
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved))
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: (
        {name: rng.standard_normal([d or 1 for d in spec.shape]).astype(np.float32) for name, spec in specs.items()}
        for _ in range(8))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = converter.inference_output_type = tf.int8
    path = work / "part_int8.tflite"
    path.write_bytes(converter.convert())
    return path


def time_tflite(path: Path, runs: int = TIMED_RUNS) -> float:
    """Median LiteRT inference time in ms at 1 thread, on random inputs, over `ROUNDS` rounds after a warm-up."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path), num_threads=1)
    interpreter.allocate_tensors()
    rng = np.random.default_rng(0)
    for detail in interpreter.get_input_details():
        dtype = np.dtype(detail["dtype"])
        value = rng.integers(-128, 128, detail["shape"]) if dtype.kind == "i" else rng.standard_normal(detail["shape"])
        interpreter.set_tensor(detail["index"], value.astype(dtype))
    for _ in range(WARMUP_RUNS):
        interpreter.invoke()
    samples = []
    for _ in range(ROUNDS):
        time.sleep(0.05)
        for _ in range(runs // ROUNDS):
            start = time.perf_counter()
            interpreter.invoke()
            samples.append(time.perf_counter() - start)
    return float(np.median(samples)) * 1000


def measure_part(part: Part, kernel: int = 3) -> float:
    """Build, convert and time one part (ms)."""
    with tempfile.TemporaryDirectory(prefix="facekit-latency-") as work:
        return time_tflite(int8_tflite(*part_module(part, kernel), Path(work)))


def measure_model(channels: tuple[int, ...]) -> float:
    """Build, convert and time a whole model with these stream widths (ms)."""
    net = FaceKitNet(ModelConfig(channels=tuple(channels))).eval().fold_batchnorm()
    with tempfile.TemporaryDirectory(prefix="facekit-latency-") as work:
        return time_tflite(int8_tflite(net, (torch.zeros(1, 3, INPUT, INPUT),), Path(work)))


def candidate_parts(shipped: tuple[int, ...]) -> list[Part]:
    """The parts to measure: each part of the shipped model at WIDTH_SHARES of its input and output widths
    (a block never narrows its input), each distinct one once, and the per-call overhead."""
    def widths(c: int) -> set[int]:
        return {max(8, 4 * round(c * share / 4)) for share in WIDTH_SHARES} | {c}

    wanted = {Part("overhead", 1, 1, 8, 8)}
    for part in parts_of(shipped):
        ins = {3} if part.kind == "stem" else widths(part.c_in)
        wanted |= {Part(part.kind, part.side, part.stride, i, o) for i in ins for o in widths(part.c_out)
                   if part.kind == "stem" or i <= o}
    return sorted(wanted, key=lambda p: (p.kind, p.side, p.stride, p.c_in, p.c_out))


@dataclass(eq=False)  # hashed by identity, for the cached fits
class LatencyTable:
    """Measured part latencies, a fit per part kind, and the per-call overhead (ms)."""

    measurements: dict[str, list[tuple[int, int, float]]]  # part key -> (c_in, c_out, ms)
    overhead_ms: float
    mediapipe_ms: float
    model_offset_ms: float = 0.0  # what a whole model costs beyond its parts, calibrated on the shipped model

    def part_ms(self, part: Part) -> float:
        """Predicted latency of one part, from the fit of its key's measurements."""
        coefficients = self._fit(part.key)
        features = _features(np.array([part.c_in]), np.array([part.c_out]))[:, :len(coefficients)]
        return float((features @ coefficients)[0])

    @functools.cache
    def _fit(self, key: str) -> np.ndarray:
        """Least-squares coefficients of one key's measurements; without the pad term where the measurements cannot
        tell it from the others (all widening, say)."""
        rows = np.array(self.measurements[key], dtype=np.float64)
        features = _features(rows[:, 0], rows[:, 1])
        if np.linalg.matrix_rank(features) < np.linalg.matrix_rank(features[:, :-1]) + 1:
            features = features[:, :-1]
        return np.linalg.lstsq(features, rows[:, 2], rcond=None)[0]

    def predict(self, channels: tuple[int, ...]) -> float:
        """Predicted latency of a whole model with these stream widths (ms)."""
        parts = parts_of(tuple(channels))
        return sum(self.part_ms(p) for p in parts) - self.overhead_ms * (len(parts) - 1) + self.model_offset_ms

    def to_json(self) -> dict:
        """A JSON-ready dict (see from_json)."""
        return {"host": platform.processor() or platform.machine(), "litert": metadata.version("ai-edge-litert"),
                "threads": 1, "overhead_ms": self.overhead_ms, "mediapipe_ms": self.mediapipe_ms,
                "model_offset_ms": self.model_offset_ms,
                "measurements": {k: [list(m) for m in v] for k, v in self.measurements.items()}}

    @classmethod
    def from_json(cls, data: dict) -> "LatencyTable":
        """The table back from to_json's dict."""
        return cls({k: [tuple(m) for m in v] for k, v in data["measurements"].items()}, data["overhead_ms"],
                   data["mediapipe_ms"], data["model_offset_ms"])


def _features(c_in: np.ndarray, c_out: np.ndarray) -> np.ndarray:
    """Regressors of the per-part fit: 1, c_in (depthwise), c_in * c_out (pointwise), c_out (the residual's add), and
    whether the block widens, so that its residual needs a channel pad (measured at 0.13 to 0.17 ms on a 64x64 map)."""
    c_in, c_out = np.asarray(c_in, np.float64), np.asarray(c_out, np.float64)
    return np.stack([np.ones_like(c_in), c_in, c_in * c_out, c_out, (c_out > c_in).astype(np.float64)], axis=1)


def build_table(shipped: tuple[int, ...], mediapipe: Path, measure: Callable[[Part], float] = measure_part,
                progress: bool = True) -> LatencyTable:
    """Measure every candidate part (a progress bar: about 2 s each) and MediaPipe's file."""
    measurements: dict[str, list[tuple[int, int, float]]] = {}
    overhead = 0.0
    for part in tqdm(candidate_parts(shipped), desc="latency table", unit="part", disable=not progress):
        ms = measure(part)
        if part.kind == "overhead":
            overhead = ms
        else:
            measurements.setdefault(part.key, []).append((part.c_in, part.c_out, ms))
    return LatencyTable(measurements, overhead, time_tflite(mediapipe))


def check(table: LatencyTable, models: Iterable[tuple[int, ...]],
          measure: Callable[[tuple[int, ...]], float] = measure_model) -> list[dict]:
    """Predicted against measured latency of whole models: channels, both figures and the relative error."""
    rows = []
    for channels in models:
        predicted, measured = table.predict(channels), measure(channels)
        rows.append({"channels": list(channels), "predicted_ms": round(predicted, 4), "measured_ms": round(measured, 4),
                     "error": round(predicted / measured - 1, 4)})
    return rows


TABLE_PATH = REPO_ROOT / "runs" / "compress" / "latency_table.json"


def load_or_build(model: FaceKitNet, path: Path = TABLE_PATH) -> LatencyTable:
    """The table in `path`, or a new one measured for this model's parts (about 5 min on 2 cores), its whole-model
    offset calibrated on the shipped model, checked on two uniformly pruned ones, and saved there with its checks."""
    from exporter.assets import ASSETS, assets_dir
    from exporter.compress.prune import prune_channels, stream_widths

    if path.is_file():
        return LatencyTable.from_json(load_json(path, max_bytes=MB, what="latency table"))
    shipped = tuple(model.config.block_channels())
    table = build_table(shipped, assets_dir() / ASSETS["blazeface_short_range.tflite"].name)
    shipped_ms = measure_model(shipped)
    table.model_offset_ms = calibrate(table, shipped, shipped_ms)
    checks = check(table, [tuple(stream_widths(prune_channels(model, amount))) for amount in (0.25, 0.5)])
    for row in checks:
        print(f"latency table check: predicted {row['predicted_ms']:.3f} ms, measured {row['measured_ms']:.3f} ms "
              f"({row['error']:+.1%}) for widths {row['channels']}")
    write_json(path, {**table.to_json(), "checks": checks,
                      "calibration": {"channels": list(shipped), "measured_ms": shipped_ms}})
    return table


def calibrate(table: LatencyTable, channels: tuple[int, ...], measured_ms: float) -> float:
    """The whole-model offset that makes the table predict `measured_ms` for these widths (the parts, timed alone,
    miss what a whole graph adds: about 5% of the shipped model)."""
    return measured_ms - (table.predict(channels) - table.model_offset_ms)
