"""Quantization-aware training: int8 fake quantization that trains, and checkpoints that export like any other."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from exporter.checkpoint import load_model, save_checkpoint
from exporter.compress.qat import (ActivationFakeQuant, InputFakeQuant, WeightFakeQuant, _round_half_away, calibrate,
                                   prepare_qat, recalibrate_while_training, simulated_int8, trained_for_int8)
from exporter.export.images import MIN_CALIBRATION
from exporter.model import build_model
from exporter.model.blazeface import BlazeBlock
from exporter.preprocess import to_nchw
from exporter.spec import FACEKIT


def _model():
    torch.manual_seed(0)
    return build_model("facekit-xs").eval()


def test_weights_are_on_a_symmetric_int8_grid_per_channel():
    weight = torch.randn(6, 4, 3, 3)
    quantised = WeightFakeQuant()(weight)
    scale = weight.abs().amax(dim=(1, 2, 3)) / 127
    steps = quantised / scale[:, None, None, None]
    torch.testing.assert_close(steps, steps.round(), atol=1e-4, rtol=0)
    assert steps.abs().max() <= 127 + 1e-4
    assert (quantised - weight).abs().max() <= scale.max() / 2 + 1e-6


def test_a_per_tensor_model_trains_on_one_grid_per_weight_tensor():
    weight = torch.randn(6, 4, 3, 3)
    steps = WeightFakeQuant(per_tensor=True)(weight) / (weight.abs().max() / 127)
    torch.testing.assert_close(steps, steps.round(), atol=1e-4, rtol=0)
    model = _model()
    model.config = replace(model.config, int8_per_tensor=True)
    quantisers = [m for m in prepare_qat(model).modules() if isinstance(m, WeightFakeQuant)]
    assert quantisers and all(q.per_tensor for q in quantisers)


def _squares(count: int = 8, seed: int = 0) -> np.ndarray:
    """Random uint8 calibration squares (NHWC)."""
    return np.random.default_rng(seed).integers(0, 256, (count, 128, 128, 3), dtype=np.uint8)


def test_activations_take_at_most_256_levels_of_the_range_they_observed():
    fake = ActivationFakeQuant()
    x = torch.linspace(-3, 5, 10_000)
    fake.observing = True
    assert torch.equal(fake(x[:5000]), x[:5000])  # observing: a float pass
    fake(x[5000:])
    fake.observing = False
    assert float(fake.low) == -3.0 and float(fake.high) == 5.0  # min and max over every pass, not an average
    out = fake(x)
    assert out.unique().numel() <= 256
    assert (out - x).abs().max() <= 8 / 255 / 2 + 1e-5


def test_zero_points_round_halves_away_from_zero_as_tflite_does():
    fake = ActivationFakeQuant()
    fake.low.fill_(-1.0)
    fake.high.fill_(1.0)  # -128 - low / scale = -0.5: TFLite's zero point is -1 (torch.round would give 0)
    assert float(fake(torch.tensor(-1.0))) == pytest.approx(-127 * 2 / 255)  # with a zero point of 0: -128 * 2 / 255
    assert _round_half_away(torch.tensor([-0.5, 0.5, 1.5, -2.5, 0.4])).tolist() == [-1, 1, 2, -3, 0]


def test_the_input_is_rounded_as_the_runners_round_it():
    fake = InputFakeQuant()
    fake.low.fill_(-1.0)
    fake.high.fill_(1.0)
    pixels = FACEKIT.input.normalise(np.arange(256, dtype=np.uint8))  # every one on a half step of the grid
    scale = np.float32(2 / 255)
    runner = (np.clip(np.round(pixels / scale + -1), -128, 127) - -1) * scale  # exporter.runner.litert_runner
    np.testing.assert_array_equal(fake(torch.from_numpy(pixels)).numpy(), runner.astype(np.float32))


def test_calibration_takes_the_float_models_min_and_max_over_the_images():
    model = _model()
    qat = prepare_qat(model)
    squares = _squares()
    calibrate(qat, squares)
    x = torch.from_numpy(to_nchw(FACEKIT.input.normalise(squares)))
    with torch.no_grad():
        stem = model.stem(x)  # conv, BatchNorm, ReLU: the converter fuses the ReLU into the conv's output
        scores = torch.cat([model.score16(model.stage16(stem)).flatten(), model.score8(model.stage8(model.stage16(stem))).flatten()])
    assert float(qat.stem[0].output_quant.low) == 0.0
    torch.testing.assert_close(qat.stem[0].output_quant.high, stem.max(), rtol=1e-4, atol=1e-5)
    assert qat.score16.output_quant is qat.score8.output_quant  # concatenated into one output: one range
    torch.testing.assert_close(qat.score16.output_quant.low, scores.min().clamp(max=0), rtol=1e-4, atol=1e-5)
    for block in (m for m in qat.modules() if isinstance(m, BlazeBlock)):
        assert float(block.pointwise.output_quant.high) >= float(block.output_quant.high)
    assert (float(qat.input_quant.low), float(qat.input_quant.high)) == (-1.0, 1.0)


def test_ranges_follow_the_weights_while_training():
    qat = recalibrate_while_training(prepare_qat(_model()), _squares(), every=2)
    x = torch.rand(2, 3, 128, 128) * 2 - 1
    high = float(qat.stem[0].output_quant.high)
    with torch.no_grad():
        qat.stem[0].weight.mul_(2)
        qat.stem[0].bias.mul_(2)
        qat.train()
        qat.forward_with_age_bins(x)  # the trainer's path
        qat.forward_with_age_bins(x)
        assert float(qat.stem[0].output_quant.high) == high  # two training passes: the same ranges
        qat.forward_with_age_bins(x)
        assert float(qat.stem[0].output_quant.high) == pytest.approx(2 * high, rel=1e-4)  # the third: calibrated again
        qat.stem[0].weight.mul_(2)
        qat.stem[0].bias.mul_(2)
        qat(x)
        qat.eval()(x)
        assert float(qat.stem[0].output_quant.high) == pytest.approx(4 * high, rel=1e-4)  # before evaluating, too


def test_qat_model_quantizes_and_stays_close_to_the_float_one():
    model = _model()
    qat = simulated_int8(model, _squares())
    x = torch.rand(4, 3, 128, 128) * 2 - 1
    with torch.no_grad():
        reference, quantised = model(x), qat(x)
    errors = [float((a - b).abs().max()) for a, b in zip(reference, quantised)]
    assert errors[0] > 0  # quantization is on
    assert errors[1] < 1.0 and errors[3] < 1.0  # score and gender logits stay close


def test_the_simulated_ranges_are_the_ones_in_the_converted_file(tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    from exporter.export import to_tflite
    from exporter.export.to_onnx import export_onnx

    model = _model()
    squares = _squares(MIN_CALIBRATION)
    np.save(tmp_path / "calibration.npy", squares)
    save_checkpoint(tmp_path / "model.pt", model)
    export_onnx(tmp_path / "model.pt", tmp_path / "model.onnx")
    to_tflite.main(["--checkpoint", str(tmp_path / "model.pt"), "--onnx", str(tmp_path / "model.onnx"), "--out",
                    str(tmp_path), "--precisions", "int8", "--calibration", str(tmp_path / "calibration.npy")])
    interpreter = Interpreter(model_path=str(tmp_path / "facekit_int8.tflite"))
    tensors = {t["index"]: t for t in interpreter.get_tensor_details()}
    in_file = {tensors[op["outputs"][0]]["quantization"] for op in interpreter._get_ops_details()
               if op["op_name"] in ("CONV_2D", "DEPTHWISE_CONV_2D", "ADD")}
    in_file.add(interpreter.get_input_details()[0]["quantization"])
    qat = simulated_int8(model, squares)
    simulated = set()
    for fake in (m for m in qat.modules() if isinstance(m, ActivationFakeQuant)):
        scale = float(fake.high - fake.low) / 255
        simulated.add((scale, int(_round_half_away(-128 - fake.low / scale))))
    assert len(in_file) == len(simulated) > 40

    def unmatched(ranges: set, others: set) -> list:
        return [r for r in ranges if not any(abs(r[0] - o[0]) <= 1e-3 * r[0] and r[1] == o[1] for o in others)]
    assert not unmatched(in_file, simulated) and not unmatched(simulated, in_file)


def test_gradients_pass_the_rounding_and_batchnorm_stays_frozen():
    qat = prepare_qat(_model()).train()
    optimiser = torch.optim.SGD([p for p in qat.parameters() if p.requires_grad], lr=0.1)
    before = qat.stage8[0].pointwise.weight.detach().clone()
    norm_before = qat.stage8[0].norm.running_var.clone()
    loss = sum(o.float().pow(2).mean() for o in qat(torch.rand(2, 3, 128, 128) * 2 - 1))
    loss.backward()
    optimiser.step()
    assert not torch.equal(qat.stage8[0].pointwise.weight, before)
    assert torch.equal(qat.stage8[0].norm.running_var, norm_before)


def test_qat_checkpoint_loads_as_a_plain_model(tmp_path):
    model = _model()
    qat = prepare_qat(model)
    save_checkpoint(tmp_path / "qat.pt", qat)
    loaded, _ = load_model(tmp_path / "qat.pt", fold_batchnorm=True)
    x = torch.rand(1, 3, 128, 128) * 2 - 1
    with torch.no_grad():  # no training yet: the float model itself, BatchNorm folded in
        for a, b in zip(model(x), loaded(x)):
            torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)


def test_only_eight_bits():
    with pytest.raises(ValueError, match="must be 8"):
        prepare_qat(_model(), 4)


def test_only_qat_checkpoints_are_verified_against_their_int8_forward():
    assert trained_for_int8({"compress": {"method": "qat", "amount": 8}})
    assert not trained_for_int8({"compress": {"method": "prune", "amount": 0.25}})
    assert not trained_for_int8({"train": {}})


def test_fidelity_refuses_a_file_that_is_not_tflite_saying_so(tmp_path, capsys):
    from exporter.compress import qat_fidelity
    from exporter.paths import DEFAULT_CHECKPOINT

    (tmp_path / "model.tflite").write_text("not a model")
    with pytest.raises(SystemExit) as exit_info:
        qat_fidelity.main([str(DEFAULT_CHECKPOINT), str(tmp_path / "model.tflite")])
    assert exit_info.value.code == 2 and "cannot be run by LiteRT" in capsys.readouterr().err
