"""Per-layer LiteRT latency table for the width search, in the spirit of FBNet's and MnasNet's lookup tables.

Each part of the model (the stem, each BlazeBlock, the heads) is built alone at candidate widths, converted to a
full-int8 TFLite file by the export's own path (ONNX, onnx2tf, TF's int8 converter; random weights and inputs:
int8 latency does not depend on the values) and timed in LiteRT at 1 thread, in alternating blocks with MediaPipe's
file: a part's time is its share of MediaPipe's times MediaPipe's, so a host whose speed drifts over seconds still
gives one consistent table. Between the measured widths a part's
latency is a least-squares fit t = a + b*c_in + c*c_in*c_out + d*c_out (+ e if the block widens, so that its
residual needs a channel pad), in widths rounded up to the channel granule that best predicts measurements left out
of the fit (`choose_granule`: 16 on an AVX-512 host); a model's prediction is the sum of its parts
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

from exporter.export.stem_rewrite import space_to_depth_stem, strided_stem
from exporter.jsonio import MB, load_json, write_json
from exporter.model.blazeface import STAGE_16, STAGE_8, BlazeBlock, FaceKitNet, ModelConfig, SameConv2d
from exporter.paths import REPO_ROOT
from exporter.runner import native_output_silenced

INPUT = 128
TIMED_RUNS, WARMUP_RUNS, ROUNDS = 300, 30, 3
SHARE_ROUNDS, SHARE_RUNS = 10, 30  # alternating blocks of a file and MediaPipe's
GRANULES = (1, 4, 8, 16)  # channel groups the int8 kernels may work in, for choose_granule
INT8_STEM = "space_to_depth"  # the int8 files' stem (export.stem_rewrite); tables measured otherwise are remeasured
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


def int8_tflite(module: nn.Module, inputs: tuple[torch.Tensor, ...], work: Path, rewrite_stem: bool = True) -> Path:
    """The module as a full-int8 TFLite file (ONNX, onnx2tf, TF's converter on random calibration inputs), a strided
    conv on its input rewritten as the export's int8 files have it unless `rewrite_stem` is False."""
    with native_output_silenced():
        return _int8_tflite(module, inputs, work, rewrite_stem)


def _int8_tflite(module: nn.Module, inputs: tuple[torch.Tensor, ...], work: Path, rewrite_stem: bool) -> Path:
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
    graph = onnxslim.slim(onnx.load(str(raw)))  # as the export does: pads merge into the convs
    if rewrite_stem and strided_stem(graph.graph) is not None:  # and its int8 files read the image through SpaceToDepth
        graph = space_to_depth_stem(graph)
    onnx.save(graph, str(onnx_path))
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


def _ready_interpreter(path: Path):
    """A 1-thread LiteRT interpreter for `path` with random inputs set, warmed up."""
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
    return interpreter


def _block_median_ms(interpreter, runs: int) -> float:
    """Median time of `runs` back-to-back invocations (ms)."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        interpreter.invoke()
        samples.append(time.perf_counter() - start)
    return float(np.median(samples)) * 1000


def time_tflite(path: Path, runs: int = TIMED_RUNS) -> float:
    """Median LiteRT inference time in ms at 1 thread, on random inputs, over `ROUNDS` rounds after a warm-up."""
    interpreter = _ready_interpreter(path)
    medians = []
    for _ in range(ROUNDS):
        time.sleep(0.05)
        medians.append(_block_median_ms(interpreter, runs // ROUNDS))
    return float(np.median(medians))


def share_of_mediapipe(path: Path, rounds: int = SHARE_ROUNDS, runs: int = SHARE_RUNS) -> float:
    """LiteRT time of `path` as a share of MediaPipe's file, both at 1 thread in alternating blocks: the median of the
    blocks' ratios. Some hosts drift by 30% in speed over seconds; two files timed moments apart share the drift."""
    interpreter, reference = _ready_interpreter(path), _ready_interpreter(mediapipe_file())
    ratios = [_block_median_ms(interpreter, runs) / _block_median_ms(reference, runs) for _ in range(rounds)]
    return float(np.median(ratios))


def mediapipe_file() -> Path:
    """MediaPipe's BlazeFace short-range file, the table's unit of time."""
    from exporter.assets import ASSETS, assets_dir

    return assets_dir() / ASSETS["blazeface_short_range.tflite"].name


@functools.cache
def mediapipe_ms() -> float:
    """MediaPipe's inference time in this process (ms), measured once: the table turns shares of it into ms."""
    return time_tflite(mediapipe_file())


def measure_part(part: Part, kernel: int = 3) -> float:
    """Build, convert and time one part (ms, from its share of MediaPipe's time)."""
    with tempfile.TemporaryDirectory(prefix="facekit-latency-") as work:
        return share_of_mediapipe(int8_tflite(*part_module(part, kernel), Path(work))) * mediapipe_ms()


def model_share(channels: tuple[int, ...]) -> float:
    """Build, convert and time a whole model with these stream widths, as a share of MediaPipe's time."""
    net = FaceKitNet(ModelConfig(channels=tuple(channels))).eval().fold_batchnorm()
    with tempfile.TemporaryDirectory(prefix="facekit-latency-") as work:
        return share_of_mediapipe(int8_tflite(net, (torch.zeros(1, 3, INPUT, INPUT),), Path(work)))


def measure_model(channels: tuple[int, ...]) -> float:
    """Build, convert and time a whole model with these stream widths (ms, from its share of MediaPipe's time)."""
    return model_share(channels) * mediapipe_ms()


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
    granule: int = 1  # the fit sees widths rounded up to a multiple of this (see choose_granule)

    def part_ms(self, part: Part) -> float:
        """Predicted latency of one part, from the fit of its key's measurements."""
        return float(_predict(self._fit(part.key), np.array([[part.c_in, part.c_out]]), self.granule)[0])

    @functools.cache
    def _fit(self, key: str) -> np.ndarray:
        """Least-squares coefficients of one key's measurements."""
        return _fit_rows(np.array(self.measurements[key], dtype=np.float64), self.granule)

    def predict(self, channels: tuple[int, ...]) -> float:
        """Predicted latency of a whole model with these stream widths (ms)."""
        parts = parts_of(tuple(channels))
        return sum(self.part_ms(p) for p in parts) - self.overhead_ms * (len(parts) - 1) + self.model_offset_ms

    def to_json(self) -> dict:
        """A JSON-ready dict (see from_json)."""
        return {"host": platform.processor() or platform.machine(), "litert": metadata.version("ai-edge-litert"),
                "int8_stem": INT8_STEM, "threads": 1, "overhead_ms": self.overhead_ms,
                "mediapipe_ms": self.mediapipe_ms, "model_offset_ms": self.model_offset_ms, "granule": self.granule,
                "measurements": {k: [list(m) for m in v] for k, v in self.measurements.items()}}

    @classmethod
    def from_json(cls, data: dict) -> "LatencyTable":
        """The table back from to_json's dict."""
        return cls({k: [tuple(m) for m in v] for k, v in data["measurements"].items()}, data["overhead_ms"],
                   data["mediapipe_ms"], data["model_offset_ms"], data.get("granule", 1))  # tables before granules: 1


def _features(c_in: np.ndarray, c_out: np.ndarray, granule: int) -> np.ndarray:
    """Regressors of the per-part fit: 1, c_in (depthwise), c_in * c_out (pointwise), c_out (the residual's add), each
    width rounded up to a multiple of `granule`, and whether the block widens, so that its residual needs a channel
    pad (measured at 0.13 to 0.17 ms on a 64x64 map)."""
    c_in, c_out = np.asarray(c_in, np.float64), np.asarray(c_out, np.float64)
    g_in, g_out = np.ceil(c_in / granule) * granule, np.ceil(c_out / granule) * granule
    return np.stack([np.ones_like(c_in), g_in, g_in * g_out, g_out, (c_out > c_in).astype(np.float64)], axis=1)


def _fit_rows(rows: np.ndarray, granule: int) -> np.ndarray:
    """Least-squares coefficients for (c_in, c_out, ms) rows; without the pad term where the rows cannot tell it from
    the others (all widening, say)."""
    features = _features(rows[:, 0], rows[:, 1], granule)
    if np.linalg.matrix_rank(features) < np.linalg.matrix_rank(features[:, :-1]) + 1:
        features = features[:, :-1]
    return np.linalg.lstsq(features, rows[:, 2], rcond=None)[0]


def _predict(coefficients: np.ndarray, widths: np.ndarray, granule: int) -> np.ndarray:
    """The fit's latency for (c_in, c_out) rows."""
    return _features(widths[:, 0], widths[:, 1], granule)[:, :len(coefficients)] @ coefficients


def choose_granule(measurements: dict[str, list[tuple[int, int, float]]]) -> int:
    """The channel granule whose fits best predict each measurement left out of them (the smallest among equals).

    Int8 kernels work on channels in groups (16 on an AVX-512 host: 12 and 16 channels cost the same there, 20 as
    much as 32), so a fit in the raw widths mispredicts the widths between its measurements."""
    def left_out_error(granule: int) -> float:
        error = 0.0
        for rows in measurements.values():
            rows_array = np.array(rows, dtype=np.float64)
            for i in range(len(rows_array)):
                rest = np.delete(rows_array, i, axis=0)
                error += float(_predict(_fit_rows(rest, granule), rows_array[i:i + 1, :2], granule)[0]
                               - rows_array[i, 2]) ** 2
        return error

    return min(GRANULES, key=lambda g: (round(left_out_error(g), 12), g))


def build_table(shipped: tuple[int, ...], measure: Callable[[Part], float] = measure_part,
                progress: bool = True) -> LatencyTable:
    """Measure MediaPipe's file and every candidate part (a progress bar: about 3 s each)."""
    measurements: dict[str, list[tuple[int, int, float]]] = {}
    overhead = 0.0
    for part in tqdm(candidate_parts(shipped), desc="latency table", unit="part", disable=not progress):
        ms = measure(part)
        if part.kind == "overhead":
            overhead = ms
        else:
            measurements.setdefault(part.key, []).append((part.c_in, part.c_out, ms))
    return LatencyTable(measurements, overhead, mediapipe_ms(), granule=choose_granule(measurements))


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
    from exporter.compress.prune import prune_channels, stream_widths

    if path.is_file():
        data = load_json(path, max_bytes=MB, what="latency table")
        if data.get("int8_stem") == INT8_STEM:
            return LatencyTable.from_json(data)
        print(f"latency table {path} was measured with another int8 stem (before the SpaceToDepth rewrite); "
              "measuring it again")
    shipped = tuple(model.config.block_channels())
    table = build_table(shipped)
    shipped_ms = measure_model(shipped)
    table.model_offset_ms = calibrate(table, shipped, shipped_ms)
    checks = check(table, [tuple(stream_widths(prune_channels(model, amount))) for amount in (0.25, 0.5)])
    print(f"latency table: widths rounded up to multiples of {table.granule} (the granule that best predicts "
          f"measurements left out of the fit)")
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
