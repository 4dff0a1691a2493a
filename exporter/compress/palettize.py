"""Weight sharing (palettization): each conv's weights take at most 2^bits values, found by 1-D k-means.

The BatchNorms are folded into the convs first (folding rescales each output channel, which would multiply the
number of distinct values), and left as exact identities, so the checkpoint keeps the training layout while the
exported weights keep their palette. Biases stay in full precision, as in Core ML's palettized weights.
"""

from __future__ import annotations

import torch
from torch import nn

from exporter.compress.folding import fold_into_identity_norms
from exporter.model.blazeface import FaceKitNet

KMEANS_ITERATIONS = 30


def kmeans_1d(values: torch.Tensor, clusters: int, iterations: int = KMEANS_ITERATIONS) -> torch.Tensor:
    """The values replaced by the nearest of `clusters` centres (Lloyd's algorithm, started at the quantiles)."""
    flat = values.detach().flatten().double()
    if flat.numel() <= clusters:
        return values.clone()
    centres = torch.quantile(flat, torch.linspace(0, 1, clusters, dtype=torch.float64))
    for _ in range(iterations):
        nearest = (flat[:, None] - centres[None, :]).abs().argmin(1)
        sums = torch.zeros_like(centres).index_add_(0, nearest, flat)
        counts = torch.zeros_like(centres).index_add_(0, nearest, torch.ones_like(flat))
        centres = torch.where(counts > 0, sums / counts.clamp(min=1), centres)
    nearest = (flat[:, None] - centres[None, :]).abs().argmin(1)
    return centres[nearest].to(values.dtype).view_as(values)


def palettize(model: FaceKitNet, bits: int) -> FaceKitNet:
    """A copy of the model whose conv weights (BatchNorm folded in) each hold at most 2^bits distinct values."""
    if not 1 <= bits <= 8:
        raise ValueError(f"--bits for palettization must be between 1 and 8, got {bits}")
    result = fold_into_identity_norms(model)
    for module in result.modules():
        if isinstance(module, nn.Conv2d):
            module.weight.data = kmeans_1d(module.weight.data, 2**bits)
    return result


def distinct_values(model: nn.Module) -> dict[str, int]:
    """Number of distinct weight values of every conv, by module name."""
    return {name: int(m.weight.unique().numel()) for name, m in model.named_modules() if isinstance(m, nn.Conv2d)}
