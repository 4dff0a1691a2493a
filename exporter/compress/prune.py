"""Structured channel pruning: whole channels leave the backbone, so the model gets smaller and faster.

BlazeBlocks add a max-pooled, zero-channel-padded residual, so the backbone is one residual stream: channel c of a
block's output is channel c of its input plus the block's conv, and each block appends its new channels at the
end. A channel is born in the stem or in one block and then runs through every later block and the heads that read
that feature map; removing it means removing it from all of them at once. torch-pruning (the dependency-graph
library) models F.pad on the channel axis as an element-wise op, so it couples a block's new channels with
channels of earlier layers that do not exist and fails on them: the surgery here follows the stream instead.

Each stream channel is ranked by the norm of the weights that write it times that of the weights that read it
(BatchNorm folded in); `amount` of the channels born up to each block are removed, the weakest first. The heads keep their outputs
and the age and gender branches keep their width.
"""

from __future__ import annotations

import copy
from dataclasses import replace

import torch
from torch import nn

from exporter.model.blazeface import STAGE_16, FaceKitNet

CHANNEL_MULTIPLE = 4  # stream widths kept at multiples of 4, which XNNPACK and GPU kernels prefer


def _conv_pair(pointwise: nn.Module) -> tuple[nn.Conv2d, nn.Conv2d]:
    """(first, last) conv of a block's 1x1 conv: the same conv twice, or the two convs of a low-rank pair."""
    return (pointwise[0], pointwise[-1]) if isinstance(pointwise, nn.Sequential) else (pointwise, pointwise)


def stream_widths(model: FaceKitNet) -> list[int]:
    """Stream width after the stem and after each block."""
    blocks = [*model.stage16, *model.stage8]
    return [model.stem[0].out_channels] + [_conv_pair(block.pointwise)[1].out_channels for block in blocks]


def refuse_unprunable(model: FaceKitNet) -> None:
    """Refuse a model whose stream channels are read where the surgery below does not follow them."""
    if model.config.fine_attributes:
        raise ValueError("pruning and the width search do not follow the 16x16 channels that a fine_attributes model's "
                         "8x8 age/gender branch reads; compress a model trained without --fine-attributes")


def _stream_layers(model: FaceKitNet) -> list[tuple[nn.Module, str, int]]:
    """(module, 'in' or 'out', stream width it sees) for every conv and BatchNorm that touches the stream."""
    refuse_unprunable(model)
    widths = stream_widths(model)
    width16, width8 = widths[len(STAGE_16)], widths[-1]
    layers = [(model.stem[0], "out", widths[0]), (model.stem[1], "out", widths[0])]
    for block, width, out in zip([*model.stage16, *model.stage8], widths, widths[1:]):
        first, last = _conv_pair(block.pointwise)
        layers += [(block.depthwise, "out", width), (first, "in", width), (last, "out", out), (block.norm, "out", out)]
    for heads, seen in (((model.score16, model.box16, model.attr16.pointwise), width16),
                        ((model.score8, model.box8, model.attr8.pointwise), width8)):
        layers += [(head, "in", seen) for head in heads]
    layers += [(model.attr16.depthwise, "out", width16), (model.attr8.depthwise, "out", width8)]
    return [(module, side, width) for module, side, width in layers if isinstance(module, (nn.Conv2d, nn.BatchNorm2d))]


def channel_norms(model: FaceKitNet) -> torch.Tensor:
    """Per stream channel: L2 norm of the weights that write it times that of the weights that read it.

    BatchNorm is folded in first. A channel nothing writes, or nothing reads, scores zero.
    """
    folded = copy.deepcopy(model).eval().fold_batchnorm()
    size = max(width for _, _, width in _stream_layers(model))
    written, read = torch.zeros(size), torch.zeros(size)
    for module, side, width in _stream_layers(folded):
        if isinstance(module, nn.BatchNorm2d):
            continue
        weight = module.weight.detach()
        if module.groups > 1:  # a depthwise conv reads the stream (what it writes stays inside its block)
            read[:width] += weight.pow(2).sum((1, 2, 3))
        elif side == "out":
            written[:width] += weight.pow(2).sum((1, 2, 3)) + module.bias.detach().pow(2)
        else:
            read[:width] += weight.pow(2).sum((0, 2, 3))
    return (written * read).sqrt()


def births(model: FaceKitNet) -> list[tuple[int, int]]:
    """(first index, count) of the stream channels born in the stem and in each block that widens the stream."""
    widths = stream_widths(model)
    births, previous = [(0, widths[0])], widths[0]
    for width in widths[1:]:
        if width > previous:
            births.append((previous, width - previous))
        previous = width
    return births


def counts_for_amount(model: FaceKitNet, amount: float) -> list[int]:
    """Channels kept from each birth group: about 1 - `amount` of those born up to it, a multiple of 4 in all."""
    if not 0 < amount < 1:
        raise ValueError(f"--amount for pruning must be between 0 and 1 (the share of channels removed), got {amount}")
    counts: list[int] = []
    born = 0
    for _, count in births(model):
        born += count
        target = CHANNEL_MULTIPLE * round((1 - amount) * born / CHANNEL_MULTIPLE)
        counts.append(min(count, max(CHANNEL_MULTIPLE if not counts else 0, target - sum(counts))))  # the stem keeps some
    return counts


def strongest_channels(model: FaceKitNet, counts: list[int]) -> list[int]:
    """Stream channels kept: the `counts[j]` strongest of birth group j, for each group."""
    groups = births(model)
    if len(counts) != len(groups) or any(not 0 <= k <= n for k, (_, n) in zip(counts, groups)) or counts[0] < 1:
        raise ValueError(f"need a count per birth group within {[n for _, n in groups]} (the stem's at least 1), got {counts}")
    norms = channel_norms(model)
    keep: list[int] = []
    for (start, count), kept_here in zip(groups, counts):
        ranked = sorted(range(start, start + count), key=lambda c: float(norms[c]), reverse=True)
        keep += sorted(ranked[:kept_here])
    return keep


def channels_to_keep(model: FaceKitNet, amount: float) -> list[int]:
    """Stream channels kept: about 1 - `amount` of those born up to each block (a multiple of 4), the strongest."""
    return strongest_channels(model, counts_for_amount(model, amount))


def _select(module: nn.Module, side: str, kept: torch.Tensor) -> None:
    """Keep only the `kept` channels of a conv's inputs or outputs (depthwise: both), or of a BatchNorm, in place."""
    if isinstance(module, nn.BatchNorm2d):
        for name in ("weight", "bias", "running_mean", "running_var"):
            getattr(module, name).data = getattr(module, name).data[kept].clone()
        module.num_features = len(kept)
        return
    depthwise = module.groups > 1
    if side == "out" or depthwise:
        module.weight.data = module.weight.data[kept].clone()
        if module.bias is not None:
            module.bias.data = module.bias.data[kept].clone()
        module.out_channels = len(kept)
    if depthwise:
        module.in_channels = module.groups = len(kept)
    elif side == "in":
        module.weight.data = module.weight.data[:, kept].clone()
        module.in_channels = len(kept)


def prune_to_counts(model: FaceKitNet, counts: list[int]) -> FaceKitNet:
    """A new, narrower model keeping the `counts[j]` strongest channels born in each group j."""
    keep = torch.tensor(strongest_channels(model, counts))
    work = copy.deepcopy(model).cpu()
    for module, side, width in _stream_layers(work):
        _select(module, side, keep[keep < width])
    pruned = FaceKitNet(replace(model.config, channels=tuple(stream_widths(work))))
    pruned.load_state_dict(work.state_dict())  # a fresh model, so each block's residual pad matches its new widths
    return pruned.train(model.training)


def prune_channels(model: FaceKitNet, amount: float) -> FaceKitNet:
    """A new, narrower model without `amount` (0-1) of the backbone's channels (the weakest born in each block)."""
    return prune_to_counts(model, counts_for_amount(model, amount))
