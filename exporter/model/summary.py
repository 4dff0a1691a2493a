"""Parameter and multiply-accumulate counts of a model, printed as a small table."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class ModelSummary:
    """Totals for one model at one input size."""

    parameters: int
    macs: int
    input_size: int

    def __str__(self) -> str:
        return f"{self.parameters:,} parameters, {self.macs / 1e6:.1f} M MACs at {self.input_size}x{self.input_size}"


def summarize(model: nn.Module, input_size: int = 128) -> ModelSummary:
    """Count parameters and conv MACs with forward hooks on one dummy input."""
    macs = 0

    def count(module: nn.Conv2d, _inputs, output: torch.Tensor) -> None:
        nonlocal macs
        kh, kw = module.kernel_size
        macs += output.numel() // output.shape[0] * (module.in_channels // module.groups) * kh * kw

    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, nn.Conv2d)]
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, input_size, input_size))
    model.train(was_training)
    for hook in hooks:
        hook.remove()
    return ModelSummary(sum(p.numel() for p in model.parameters()), macs, input_size)
