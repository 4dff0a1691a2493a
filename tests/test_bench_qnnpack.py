"""QNNPACK: the shipped model quantised for PyTorch's QNNPACK engine is int8 from input to outputs and keeps the float
model's faces, age and gender by the int8 rules."""

from __future__ import annotations

import io

import pytest
import torch
import torch.nn.functional as F

from exporter.bench.latency import with_threads
from exporter.bench.qnnpack import BACKEND, ENGINE, qnnpack_backend, quantise_checked
from exporter.checkpoint import load_model
from exporter.export.images import MIN_CALIBRATION
from exporter.paths import DEFAULT_CHECKPOINT
from exporter.spec import OUTPUT_NAMES


@pytest.fixture(scope="module")
def model() -> torch.nn.Module:
    """The shipped checkpoint, BatchNorm folded as exported."""
    return load_model(DEFAULT_CHECKPOINT, fold_batchnorm=True)[0]


@pytest.fixture(scope="module")
def quantised(model, assets):
    """Quantised on the fewest built-in calibration images the converters take (the test stays short), checked on
    the built-in verification images."""
    return quantise_checked(model, None, MIN_CALIBRATION)


def test_keeps_the_float_models_faces(quantised):
    parity = quantised.parity
    assert quantised.calibration_images == MIN_CALIBRATION and "built-in" in quantised.calibration
    assert parity.images >= 50 and parity.reference_faces >= 40 and parity.passed, parity.failures
    assert 0 < max(parity.max_abs_error.values())  # int8 activations: not the float model


def test_int8_from_input_to_outputs(quantised):
    nodes = list(quantised.model.graph.nodes)
    quantize = [n for n in nodes if n.target is torch.quantize_per_tensor]
    dequantize = [n for n in nodes if n.target == "dequantize"]
    pads = [n for n in nodes if n.target is F.pad]
    assert len(quantize) == 1 and quantize[0].args[0].op == "placeholder"  # the input, once
    cats = [n for n in nodes if n.target is torch.cat]  # float: each joins the 16x16 and 8x8 heads of one output
    assert len(cats) == len(OUTPUT_NAMES) and all(next(iter(n.users)).op == "output" for n in cats)
    assert len(dequantize) == 2 * len(cats) and {next(iter(n.users)) for n in dequantize} == set(cats)
    assert len(pads) >= 20  # every spatial and channel pad kept, on int8 tensors
    assert torch.backends.quantized.engine == ENGINE


def test_backend_is_smaller_and_runs_at_its_thread_count(quantised, model):
    threads = torch.get_num_threads() + 1  # not the process's count, so the check can fail
    backend = qnnpack_backend(quantised, threads)
    float_state = io.BytesIO()
    torch.save(model.state_dict(), float_state)
    assert backend.key == BACKEND == "pytorch-qnnpack-int8" and backend.format == "pytorch"
    assert backend.size_bytes < 0.5 * float_state.tell()
    assert with_threads(backend, lambda: [torch.get_num_threads()]) == [threads]
    outputs = backend.make_runner()(torch.zeros(1, 128, 128, 3, dtype=torch.uint8).numpy())
    assert [o.shape for o in outputs] == [(1, 896, 16), (1, 896, 1), (1, 896, 1), (1, 896, 1)]
