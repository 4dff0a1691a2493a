"""Low-rank factorisation of the blocks' 1x1 convolutions: W (out x in) ~ B (out x r) @ A (r x in), by SVD.

A block is factorised only where the pair is cheaper than the conv it replaces (r * (in + out) < in * out), so
the rank is a fraction of min(in, out) below the break-even point; fine-tuning then recovers the accuracy.
"""

from __future__ import annotations

import copy
from dataclasses import replace

import torch
from torch import nn

from exporter.model.blazeface import FaceKitNet


def _blocks(model: FaceKitNet) -> list[nn.Module]:
    return [*model.stage16, *model.stage8]


def chosen_ranks(model: FaceKitNet, fraction: float) -> tuple[int, ...]:
    """Rank per block: `fraction` of min(in, out), or 0 (kept whole) where the pair would not be cheaper."""
    if not 0 < fraction < 1:
        raise ValueError(f"--amount for low-rank must be between 0 and 1 (the rank as a share of full rank), got {fraction}")
    ranks = []
    for block in _blocks(model):
        if isinstance(block.pointwise, nn.Sequential):
            raise ValueError("this model is already factorised; start from a full-rank checkpoint")
        n_in, n_out = block.pointwise.in_channels, block.pointwise.out_channels
        rank = max(1, round(fraction * min(n_in, n_out)))
        ranks.append(rank if rank * (n_in + n_out) < n_in * n_out else 0)
    return tuple(ranks)


def factorise(model: FaceKitNet, fraction: float) -> FaceKitNet:
    """A new model whose 1x1 block convs are SVD pairs at `fraction` of full rank (where that is cheaper)."""
    ranks = chosen_ranks(model, fraction)
    source = copy.deepcopy(model).cpu()
    factorised = FaceKitNet(replace(model.config, ranks=ranks))
    state = source.state_dict()
    for index, (block, rank) in enumerate(zip(_blocks(source), ranks)):
        if not rank:
            continue
        prefix = f"stage16.{index}" if index < len(source.stage16) else f"stage8.{index - len(source.stage16)}"
        weight = state.pop(f"{prefix}.pointwise.weight")[:, :, 0, 0]
        u, s, vh = torch.linalg.svd(weight, full_matrices=False)
        root = s[:rank].sqrt()
        state[f"{prefix}.pointwise.0.weight"] = (root[:, None] * vh[:rank])[:, :, None, None].contiguous()
        state[f"{prefix}.pointwise.1.weight"] = (u[:, :rank] * root)[:, :, None, None].contiguous()
        state[f"{prefix}.pointwise.1.bias"] = state.pop(f"{prefix}.pointwise.bias")
    factorised.load_state_dict(state)
    return factorised.train(model.training)
