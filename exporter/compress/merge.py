"""Layer merging beyond BatchNorm folding (in the spirit of DeepRebirth): a BlazeBlock's depthwise and 1x1 convs
have no nonlinearity between them, so they merge into one dense kxk conv; in a stride-1 block the residual (the
input, zero-padded with channels) merges into it as well, as an identity at the centre tap, which removes the block's
PAD and ADD ops. The merged conv does more arithmetic (c_in*c_out*k*k against c_in*k*k + c_in*c_out per pixel) in
fewer ops and memory passes; whether that is faster is measured per block in LiteRT, int8 at 1 thread
(`facekit compress --merge-report`), as is the int8 files' SpaceToDepth stem (export.stem_rewrite) against the
5x5 stride-2 one.
"""

from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from exporter.compress.latency_table import INPUT, int8_tflite, part_module, parts_of, time_tflite
from exporter.model.blazeface import BlazeBlock, FaceKitNet, SameConv2d


def _pointwise_matrix(pointwise: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    """(out x in matrix, bias) of a folded block's 1x1 conv, or of its low-rank pair multiplied out."""
    if isinstance(pointwise, nn.Sequential):
        first, last = pointwise[0].weight[:, :, 0, 0], pointwise[1].weight[:, :, 0, 0]
        return last @ first, pointwise[1].bias
    return pointwise.weight[:, :, 0, 0], pointwise.bias


class MergedBlock(nn.Module):
    """A folded BlazeBlock as one dense kxk conv (and, when strided, its max-pooled, channel-padded residual)."""

    def __init__(self, block: BlazeBlock):
        super().__init__()
        if not isinstance(block.norm, nn.Identity):
            raise ValueError("merge a folded block: call model.eval().fold_batchnorm() first")
        depthwise = block.depthwise
        c_in, k = depthwise.in_channels, depthwise.kernel_size[0]
        matrix, bias = _pointwise_matrix(block.pointwise)
        c_out = matrix.shape[0]
        self.stride, self.extra_channels = block.stride, c_out - c_in
        self.conv = SameConv2d(c_in, c_out, k, stride=block.stride)
        with torch.no_grad():
            weight = matrix[:, :, None, None] * depthwise.weight[:, 0][None]
            if self.stride == 1:  # the residual: input channel i adds to output channel i
                weight[torch.arange(c_in), torch.arange(c_in), k // 2, k // 2] += 1
            self.conv.weight.copy_(weight)
            self.conv.bias.copy_(matrix @ depthwise.bias + bias)
        self.pool = block.pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv(x)
        if self.stride == 1:
            return F.relu(h)
        return F.relu(h + F.pad(self.pool(x), (0, 0, 0, 0, 0, self.extra_channels)))


def merge_blocks(model: FaceKitNet, indices: set[int]) -> FaceKitNet:
    """A folded copy of the model with the blocks at these indices (0-based, over both stages) merged."""
    merged = copy.deepcopy(model).eval().fold_batchnorm()
    for offset, stage in ((0, merged.stage16), (len(merged.stage16), merged.stage8)):
        for i, block in enumerate(stage):
            if offset + i in indices:
                stage[i] = MergedBlock(block)
    return merged


def merge_report(model: FaceKitNet) -> dict:
    """The stem as the int8 files have it (SpaceToDepth + 3x3 conv) against the 5x5 stride-2 conv; per block: int8
    LiteRT latency unmerged and merged (measured alone, random weights); then whole models: unmerged with either stem,
    every block merged, and the blocks that were faster merged. Printed as it goes."""
    def timed(module: nn.Module, inputs: tuple[torch.Tensor, ...], rewrite_stem: bool = True) -> float:
        with tempfile.TemporaryDirectory(prefix="facekit-merge-") as work:
            return time_tflite(int8_tflite(module.eval(), inputs, Path(work), rewrite_stem))

    parts = parts_of(tuple(model.config.block_channels()))
    stem, stem_inputs = part_module(parts[0])
    stems = {"space_to_depth_ms": round(timed(stem, stem_inputs), 4),
             "conv5x5_ms": round(timed(stem, stem_inputs, rewrite_stem=False), 4)}
    print(f"stem: SpaceToDepth + 3x3 conv {stems['space_to_depth_ms']:.4f} ms, 5x5 stride-2 conv "
          f"{stems['conv5x5_ms']:.4f} ms")
    rows = []
    for index, part in enumerate(parts[1:-1]):
        block, inputs = part_module(part)
        plain, merged = timed(block, inputs), timed(MergedBlock(block), inputs)
        rows.append({"block": index, "side": part.side, "stride": part.stride, "c_in": part.c_in, "c_out": part.c_out,
                     "ms": round(plain, 4), "merged_ms": round(merged, 4)})
        print(f"block {index:2d} {part.side:3d}px s{part.stride} {part.c_in:3d}->{part.c_out:<3d} "
              f"{plain:.4f} ms, merged {merged:.4f} ms ({merged / plain - 1:+.0%})")
    faster = {r["block"] for r in rows if r["merged_ms"] < r["ms"]}
    image = (torch.zeros(1, 3, INPUT, INPUT),)
    folded = copy.deepcopy(model).eval().fold_batchnorm()
    models = {"unmerged": folded, "all merged": merge_blocks(model, set(range(len(rows)))),
              "faster blocks merged": merge_blocks(model, faster)}
    whole = {name: round(timed(m, image), 4) for name, m in models.items()}
    whole["unmerged, 5x5 stem"] = round(timed(folded, image, rewrite_stem=False), 4)
    print(json.dumps(whole))
    batch = torch.rand(2, 3, INPUT, INPUT, generator=torch.Generator().manual_seed(0)) * 2 - 1
    with torch.no_grad():
        reference = folded(batch)
        error = max(float((a - b).abs().max()) for m in models.values() for a, b in zip(reference, m(batch)))
    return {"stem": stems, "blocks": rows, "faster_merged": sorted(faster), "whole_model_ms": whole,
            "max_float_difference": error}
