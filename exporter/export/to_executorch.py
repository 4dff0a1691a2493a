"""PyTorch checkpoint -> ExecuTorch .pte delegated to XNNPACK: fp32, and int8 through the PT2E flow (XNNPACK
quantizer: symmetric int8 weights per channel, int8 activations from the min/max of the calibration images; float
input and outputs).

ExecuTorch works from the checkpoint (BatchNorm folded, eval mode), not from the ONNX file. Every op must run in
the XNNPACK delegate; each file is loaded and run once in ExecuTorch's runtime and compared with PyTorch. The model's
description is embedded as a constant method `facekit` returning its JSON (exporter/export/embedded.py reads it).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import replace
from importlib import metadata
from pathlib import Path

import numpy as np
import torch

from exporter.checkpoint import load_model
from exporter.export.artifacts import Artifact, converter_args, write_report
from exporter.export.formats import FORMATS
from exporter.export.images import MIN_CALIBRATION
from exporter.export.metadata import METADATA_KEY, as_json, describe, model_spec
from exporter.runner import executorch_runner, nchw_input, quiet_executorch_logs, torch_runner
from exporter.spec import OUTPUT_NAMES

FLOAT32 = 6  # c10::ScalarType::Float, the dtype code ExecuTorch's MethodMeta reports
quiet_executorch_logs()
warnings.filterwarnings("ignore", message=".*LeafSpec", category=FutureWarning)  # ExecuTorch's lowering, per node


def export_program(module: torch.nn.Module, size: int) -> torch.export.ExportedProgram:
    """torch.export of a module at batch 1."""
    return torch.export.export(module, (torch.zeros(1, 3, size, size),))


def quantise(model: torch.nn.Module, size: int, calibration: np.ndarray) -> torch.nn.Module:
    """The model with int8 weights and activations (XNNPACK quantizer, PT2E), calibrated on uint8 NHWC squares.

    The calibration graph takes any batch size; the lowered one takes batch 1. Activation ranges are the min/max
    over the calibration images, as for the full-int8 TFLite file: with the
    quantizer's default histogram observer (which clips the tails) the held-out faces matched were 0.966 (< 0.98).
    """
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
        XNNPACKQuantizer,
        get_symmetric_quantization_config,
    )
    from torchao.quantization.pt2e import MinMaxObserver
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    default = get_symmetric_quantization_config(is_per_channel=True)
    activations = replace(default.input_activation, observer_or_fake_quant_ctr=MinMaxObserver.with_args(eps=2**-12))
    config = replace(default, input_activation=activations, output_activation=activations)
    batch = torch.export.Dim("batch", min=1, max=max(2, len(calibration)))
    program = torch.export.export(model, (torch.zeros(2, 3, size, size),), dynamic_shapes=({0: batch},))
    prepared = prepare_pt2e(program.module(), XNNPACKQuantizer().set_global(config))
    threads = torch.get_num_threads()
    # One thread, batches of 50: the observers are thousands of tiny ops, and two threads on a busy 2-core host
    # spin-wait (30 images one at a time: 5.9 s on one thread, 59 s on two; 200: 6.4 s one at a time, 2.8 s batched)
    torch.set_num_threads(1)
    try:
        with torch.no_grad():
            for chunk in torch.from_numpy(np.concatenate([nchw_input(x) for x in calibration])).split(50):
                prepared(chunk)
    finally:
        torch.set_num_threads(threads)
    return convert_pt2e(prepared)


def lower(module: torch.nn.Module, size: int, description: dict) -> tuple[bytes, dict[str, int], int]:
    """(.pte bytes with the description embedded, ops left outside the XNNPACK delegate with their counts,
    delegated subgraphs)."""
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.devtools.backend_debug import get_delegation_info
    from executorch.exir import to_edge_transform_and_lower

    edge = to_edge_transform_and_lower(export_program(module, size), partitioner=[XnnpackPartitioner()],
                                       constant_methods={METADATA_KEY: as_json(description)})
    info = get_delegation_info(edge.exported_program().graph_module)
    outside = {op: b.non_delegated for op, b in sorted(info.delegation_by_operator.items())
               if b.non_delegated and op != "getitem"}  # getitem: the outputs taken from the delegate's tuple
    return edge.to_executorch().buffer, outside, info.num_delegated_subgraphs


def method_io(path: Path, reference: list[np.ndarray]) -> dict:
    """io of the file's `forward` as ExecuTorch's runtime reports it; raises unless it is one float32 NCHW input
    and four float32 outputs shaped as PyTorch's, in the canonical order."""
    from executorch.runtime import Runtime

    meta = Runtime.get().load_program(path).metadata("forward")
    inputs = [meta.input_tensor_meta(i) for i in range(meta.num_inputs())]
    outputs = [meta.output_tensor_meta(i) for i in range(meta.num_outputs())]
    got = [(list(t.sizes()), t.dtype()) for t in outputs]
    want = [(list(r.shape), FLOAT32) for r in reference]
    if len(inputs) != 1 or inputs[0].dtype() != FLOAT32 or got != want:
        raise RuntimeError(f"{path.name}: forward takes {inputs} and returns {outputs}; want one float32 input "
                           f"and float32 outputs {OUTPUT_NAMES} shaped {[w[0] for w in want]}")
    return {"method": "forward",
            "input": {"shape": list(inputs[0].sizes())[1:], "layout": "NCHW", "dtype": "float32", "range": [-1, 1]},
            "outputs": {n: {"shape": s[1:], "dtype": "float32"} for n, (s, _) in zip(OUTPUT_NAMES, got)},
            "fetch": "method.execute([input]) returns the outputs in this order (a .pte has no tensor names)"}


def convert(model: torch.nn.Module, precision: str, out: Path, calibration: np.ndarray | None,
            description: dict) -> Artifact:
    """Write facekit_<precision>.pte, check its delegation and io, run it once against PyTorch and describe it."""
    size = model.config.input_size
    module = quantise(model, size, calibration) if precision == "int8" else model
    program, outside, subgraphs = lower(module, size, description)
    if outside:
        raise RuntimeError(f"{precision}: ops left outside the XNNPACK delegate: {outside}")
    name = FORMATS["executorch"].artifact_name(precision)
    target = out / name
    target.write_bytes(program)
    square = np.random.default_rng(0).integers(0, 256, (size, size, 3), dtype=np.uint8)
    reference = torch_runner(model).run_one(square)
    io = method_io(target, reference)
    errors = {n: float(np.abs(got - ref).max())
              for n, ref, got in zip(OUTPUT_NAMES, reference, executorch_runner(target).run_one(square))}
    checks = {"executorch_version": metadata.version("executorch"), "delegate": "XnnpackBackend",
              "delegated_subgraphs": subgraphs, "ops_outside_delegate": outside,
              "max_abs_error_vs_pytorch": errors, "bytes": target.stat().st_size,
              "calibration_images": None if calibration is None else len(calibration)}
    return Artifact("executorch", precision, name, [name], io, checks)


def main(argv=None) -> int:
    """Write facekit_<precision>.pte for each precision, and the report."""
    args = converter_args(__doc__, argv)
    offered = FORMATS["executorch"].precisions
    unsupported = sorted(set(args.precisions) - set(offered))
    if unsupported:
        raise SystemExit(f"executorch precisions are {', '.join(offered)}; got {', '.join(unsupported)}")
    calibration = None
    if "int8" in args.precisions:
        if args.calibration is None:
            raise SystemExit(f"int8 needs --calibration: a .npy of at least {MIN_CALIBRATION} uint8 NHWC face images")
        calibration = np.load(args.calibration)
        if calibration.ndim != 4 or calibration.dtype != np.uint8 or len(calibration) < MIN_CALIBRATION:
            raise SystemExit(f"{args.calibration}: need uint8 (N, S, S, 3) with N >= {MIN_CALIBRATION}, "
                             f"got {calibration.dtype} {calibration.shape}")
    start = time.time()
    model, payload = load_model(args.checkpoint, fold_batchnorm=True)  # eval mode, as exported to every format
    description = describe(payload, model_spec(payload))
    args.out.mkdir(parents=True, exist_ok=True)
    artifacts = [convert(model, p, args.out, calibration if p == "int8" else None, description)
                 for p in args.precisions]
    write_report(args.out, "executorch", artifacts, time.time() - start)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
