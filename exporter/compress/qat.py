"""Quantization-aware training: fine-tune under the int8 scheme of FaceKit's full-int8 TFLite, then export as usual.

The scheme is the TFLite converter's: weights int8 symmetric per output channel (scale = max |w| / 127; one scale
per tensor for a model whose config says int8_per_tensor, as the converter then quantises it), activations
int8 affine per tensor over their min/max. BatchNorm is folded into the convs first and frozen as an identity, so
the weights that are fake-quantized are the ones the file holds. Every conv output and every block output (after
its residual add and ReLU) is fake-quantized with a moving-average min/max observer; gradients pass straight
through the rounding.

Path chosen: the fine-tuned float weights go through the same calibrated converter as post-training int8, which
computes each tensor's range as min/max over the calibration faces, the rule the observers follow, so the ranges in
the file match the trained ones up to the calibration sample. The observers hold no checkpoint state. Carrying
observer ranges into the file directly needs litert-torch's PT2E flow (another virtual environment with its
transformers, jax and kagglehub dependencies, and graphs with 30+ TRANSPOSE ops on this model, see the toolchain
notes) or ONNX QDQ nodes, which onnx2tf 1.29 converts as float arithmetic.
"""

from __future__ import annotations

import torch
from torch import nn

from exporter.compress.folding import fold_into_identity_norms
from exporter.model.blazeface import BlazeBlock, FaceKitNet

MOMENTUM = 0.01  # moving-average weight of a batch's min/max in each activation observer


class FrozenBatchNorm2d(nn.BatchNorm2d):
    """A BatchNorm that always uses its running statistics (here an exact identity) and learns nothing."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, self.eps)


class ActivationFakeQuant(nn.Module):
    """Per-tensor affine int8 fake quantization with a moving-average min/max observer (no checkpoint state)."""

    def __init__(self):
        super().__init__()
        self.register_buffer("low", torch.tensor(float("nan")), persistent=False)
        self.register_buffer("high", torch.tensor(float("nan")), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            low, high = x.detach().min().clamp(max=0.0), x.detach().max().clamp(min=0.0)
            first = torch.isnan(self.low)
            self.low.copy_(torch.where(first, low, torch.lerp(self.low, low, MOMENTUM)))
            self.high.copy_(torch.where(first, high, torch.lerp(self.high, high, MOMENTUM)))
        if torch.isnan(self.low):
            return x
        scale = float((self.high - self.low).clamp(min=1e-8) / 255.0)
        zero_point = int(torch.clamp(torch.round(-128 - self.low / scale), -128, 127))
        return torch.fake_quantize_per_tensor_affine(x, scale, zero_point, -128, 127)


class WeightFakeQuant(nn.Module):
    """Symmetric int8 fake quantization of a conv weight, per output channel or per tensor (a parametrization)."""

    def __init__(self, per_tensor: bool = False):
        super().__init__()
        self.per_tensor = per_tensor

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
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
    """A copy ready for QAT: BatchNorm folded and frozen as identity, convs and block outputs fake-quantized."""
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
    return qat.train(model.training)
