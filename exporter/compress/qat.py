"""Quantization-aware training: fine-tune under the int8 scheme of FaceKit's full-int8 TFLite, then export as usual.

The scheme is the TFLite converter's: weights int8 symmetric per output channel (scale = max |w| / 127; one scale
per tensor for a model whose config says int8_per_tensor, as the converter then quantises it), activations
int8 affine per tensor over a range. BatchNorm is folded into the convs first and frozen as an identity, so the
weights that are fake-quantized are the ones the file holds. Every conv output and every block output (after its
residual add and ReLU) is fake-quantized; gradients pass straight through the rounding.

The activation ranges are the converter's own: its calibration runs the float model (float weights, nothing
quantized) over the export's calibration images and takes each tensor's min and max over all of them, so
`calibrate` does exactly that with the same images, and `recalibrate_while_training` repeats it as the weights move
(every few training steps, and before the first evaluation after training). The model that is trained and selected
is then the one the file holds, up to rounding. The observers hold no checkpoint state: the learned float weights go
through the same calibrated converter as post-training int8, which finds the same ranges again. Carrying ranges into
the file by other means needs litert-torch's PT2E flow (another virtual environment with its transformers, jax and
kagglehub dependencies, and graphs with 30+ TRANSPOSE ops on this model, see the toolchain notes) or ONNX QDQ nodes,
which onnx2tf 1.29 converts as float arithmetic.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import torch
from torch import nn

from exporter.compress.folding import fold_into_identity_norms
from exporter.model.blazeface import BlazeBlock, FaceKitNet
from exporter.preprocess import to_nchw
from exporter.spec import FACEKIT

RECALIBRATE_EVERY = 20  # training steps between two calibrations of the activation ranges
CALIBRATION_BATCH = 100  # calibration images per forward pass


class FrozenBatchNorm2d(nn.BatchNorm2d):
    """A BatchNorm that always uses its running statistics (here an exact identity) and learns nothing."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, self.eps)


class ActivationFakeQuant(nn.Module):
    """Per-tensor affine int8 fake quantization over [low, high]; while observing, a float pass that widens the range
    to the min and max it sees (the converter's calibration rule). No checkpoint state.

    With after_relu, the tensor is a conv output that a ReLU follows, which the converter fuses into the conv: the
    range is the ReLU's (from 0), and quantizing over it clamps the negatives as the ReLU would.
    """

    def __init__(self, after_relu: bool = False):
        super().__init__()
        self.register_buffer("low", torch.tensor(float("nan")), persistent=False)
        self.register_buffer("high", torch.tensor(float("nan")), persistent=False)
        self.observing = False
        self.after_relu = after_relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.observing:
            seen = x.detach().clamp(min=0.0) if self.after_relu else x.detach()
            low, high = seen.min().clamp(max=0.0), seen.max().clamp(min=0.0)
            first = torch.isnan(self.low)
            self.low.copy_(torch.where(first, low, torch.minimum(self.low, low)))
            self.high.copy_(torch.where(first, high, torch.maximum(self.high, high)))
            return x
        if torch.isnan(self.low):
            return x
        scale = float((self.high - self.low).clamp(min=1e-8) / 255.0)
        zero_point = int(torch.clamp(_round_half_away(-128 - self.low / scale), -128, 127))
        return self.quantise(x, scale, zero_point)

    def quantise(self, x: torch.Tensor, scale: float, zero_point: int) -> torch.Tensor:
        """x on the int8 grid (straight-through gradient inside the range)."""
        return torch.fake_quantize_per_tensor_affine(x, scale, zero_point, -128, 127)


class InputFakeQuant(ActivationFakeQuant):
    """The input's quantization, computed as FaceKit's runners and apps do: q = round(x / scale + zero_point) in
    float32. Every normalised pixel (p - 127.5) / 127.5 lies on a half step of the input's grid, so the rounding
    goes by the last bit of the arithmetic, and torch's fake quantization (x times 1 / scale) would round many
    pixels the other way from the file's runner."""

    def quantise(self, x: torch.Tensor, scale: float, zero_point: int) -> torch.Tensor:
        scale_32 = torch.tensor(scale, dtype=torch.float32)
        q = torch.clamp(torch.round(x / scale_32 + zero_point), -128, 127)
        return (q - zero_point) * scale_32


def _round_half_away(value: torch.Tensor) -> torch.Tensor:
    """Round halves away from zero, as TFLite nudges a zero point (std::round; torch.round goes to even). The input's
    range [-1, 1] gives -0.5, so the two rules differ there, by a zero point of -1 against 0."""
    return torch.sign(value) * torch.floor(value.abs() + 0.5)


class WeightFakeQuant(nn.Module):
    """Symmetric int8 fake quantization of a conv weight, per output channel or per tensor (off while observing)."""

    def __init__(self, per_tensor: bool = False):
        super().__init__()
        self.per_tensor = per_tensor
        self.observing = False

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        if self.observing:
            return weight
        if self.per_tensor:
            scale = float((weight.detach().abs().max() / 127.0).clamp(min=1e-12))
            return torch.fake_quantize_per_tensor_affine(weight, scale, 0, -127, 127)
        scale = (weight.detach().abs().amax(dim=(1, 2, 3)) / 127.0).clamp(min=1e-12)
        zero = torch.zeros_like(scale, dtype=torch.int32)
        return torch.fake_quantize_per_channel_affine(weight, scale, zero, 0, -127, 127)


class QatConv:
    """Mixed into a conv class: its weight and output are fake-quantized; its state dict stays the conv's."""

    def attach(self, per_tensor: bool) -> None:
        self.weight_quant = WeightFakeQuant(per_tensor)
        self.output_quant = ActivationFakeQuant()

    def _conv_forward(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        return super()._conv_forward(x, self.weight_quant(weight), bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output_quant(super().forward(x))


def _as(cls: type, module: nn.Module) -> nn.Module:
    """The same module object, re-classed (same parameters and buffers, so the same state dict keys)."""
    module.__class__ = cls
    return module


def _qat_class(conv_class: type) -> type:
    """The QAT version of a conv class (Conv2d or SameConv2d, whose padding it keeps)."""
    return type(f"Qat{conv_class.__name__}", (QatConv, conv_class), {})


def prepare_qat(model: FaceKitNet, bits: int = 8) -> FaceKitNet:
    """A copy ready for QAT: BatchNorm folded and frozen as identity, convs and block outputs fake-quantized (each
    activation in float until `calibrate` gives it a range)."""
    if bits != 8:
        raise ValueError(f"--amount for qat is the bits of the quantization scheme and must be 8 (full-int8 TFLite), got {bits}")
    qat = fold_into_identity_norms(model)
    for module in list(qat.modules()):
        if isinstance(module, nn.BatchNorm2d):
            _as(FrozenBatchNorm2d, module)
            module.weight.requires_grad_(False)
            module.bias.requires_grad_(False)
        elif isinstance(module, nn.Conv2d):
            _as(_qat_class(type(module)), module).attach(model.config.int8_per_tensor)
        elif isinstance(module, BlazeBlock):
            module.output_quant = ActivationFakeQuant()
            module.register_forward_hook(lambda block, _inputs, output: block.output_quant(output))
    qat.input_quant = InputFakeQuant()
    # on the stem, not the model: training calls forward_with_age_bins, which passes no model-level hook
    qat.stem.register_forward_pre_hook(lambda _stem, inputs: (qat.input_quant(inputs[0]),))
    _follow_the_converter(qat)
    return qat.train(model.training)


def _follow_the_converter(qat: FaceKitNet) -> None:
    """Where the converter's file quantizes differently from one range per conv output (read off its tensors):
    a ReLU after the stem and the attribute branches' 1x1 convs is fused, so their range starts at 0; and the
    outputs of the 16x16 and 8x8 heads are concatenated into one output tensor, so each pair shares one range.
    (`calibrate` applies one more: a block's 1x1 conv range reaches up to its block output's maximum.)
    Not simulated: the concatenation a fine_attributes model makes of the 8x8 map and the pooled 16x16 one (no
    shipped or recipe model has one)."""
    qat.stem[0].output_quant.after_relu = True
    for branch in (qat.attr16, qat.attr8):
        branch.pointwise.output_quant.after_relu = True
    for fine, coarse in ((qat.box16, qat.box8), (qat.score16, qat.score8), (qat.attr16.age, qat.attr8.age),
                         (qat.attr16.gender, qat.attr8.gender)):
        coarse.output_quant = fine.output_quant


def _last_conv(module: nn.Module) -> nn.Module:
    """The conv whose output a block's 1x1 part gives (the second of a low-rank pair)."""
    return [m for m in module.modules() if isinstance(m, nn.Conv2d)][-1]


@contextlib.contextmanager
def _observing(model: nn.Module) -> Iterator[None]:
    """Within: a float pass (weights and activations unquantized) in which every activation range widens to what it sees."""
    quantisers = [m for m in model.modules() if isinstance(m, (ActivationFakeQuant, WeightFakeQuant))]
    for q in quantisers:
        q.observing = True
        if isinstance(q, ActivationFakeQuant):
            q.low.fill_(float("nan"))
            q.high.fill_(float("nan"))
    try:
        yield
    finally:
        for q in quantisers:
            q.observing = False


def calibrate(model: FaceKitNet, squares: np.ndarray) -> None:
    """Set every activation range as the TFLite converter does: min and max of the float model's tensor over the
    calibration squares (uint8 NHWC, the export's calibration images)."""
    was_training = model.training
    device = next(model.parameters()).device
    model.eval()
    with torch.no_grad(), _observing(model):
        for start in range(0, len(squares), CALIBRATION_BATCH):
            batch = FACEKIT.input.normalise(squares[start:start + CALIBRATION_BATCH])
            model(torch.from_numpy(to_nchw(batch)).to(device))
    for block in (m for m in model.modules() if isinstance(m, BlazeBlock)):
        # the converter's range for a block's 1x1 conv output reaches up to the block output's (the residual add's)
        pointwise = _last_conv(block.pointwise).output_quant
        pointwise.high.copy_(torch.maximum(pointwise.high, block.output_quant.high))
    model.train(was_training)


class Recalibration:
    """A forward pre-hook on the model's stem (which every forward path passes) that calibrates the ranges again
    every `every` training passes and before the first evaluation pass after training, so the ranges follow the
    weights as the converter would find them."""

    def __init__(self, model: FaceKitNet, squares: np.ndarray, every: int = RECALIBRATE_EVERY):
        self.model, self.squares, self.every = model, squares, every
        self.passes_since = 0  # training passes since the last calibration
        self.busy = False

    def __call__(self, _stem: nn.Module, _inputs: tuple) -> None:
        if self.busy:
            return
        training = self.model.training
        if self.passes_since >= self.every or (not training and self.passes_since > 0):
            self.busy = True
            try:
                calibrate(self.model, self.squares)
            finally:
                self.busy = False
            self.passes_since = 0
        self.passes_since += training


def recalibrate_while_training(model: FaceKitNet, squares: np.ndarray, every: int = RECALIBRATE_EVERY) -> FaceKitNet:
    """Calibrate the QAT model's ranges on the squares now, and again as it trains; returns the model."""
    calibrate(model, squares)
    model.stem.register_forward_pre_hook(Recalibration(model, squares, every))
    return model


SIMULATED_ARTIFACT = ("tflite", "int8")  # (format, precision) of the file whose quantisation this module reproduces


def trained_for_int8(payload: dict) -> bool:
    """Whether a checkpoint comes from QAT: its weights were trained and chosen under the file's quantization."""
    return (payload.get("compress") or {}).get("method") == "qat"


def simulated_int8(model: FaceKitNet, calibration: np.ndarray) -> FaceKitNet:
    """The model as its full-int8 TFLite file computes it, up to rounding: fake-quantized, ranges calibrated on the
    file's calibration squares (model in its training layout, as load_model gives it unfolded)."""
    qat = prepare_qat(model).eval()
    calibrate(qat, calibration)
    return qat
