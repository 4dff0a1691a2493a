"""Layer merging: a merged block computes what the depthwise conv, the 1x1 conv (full or low-rank) and the residual
computed, at stride 1 (residual inside the conv) and stride 2 (max-pooled residual kept)."""

from __future__ import annotations

import pytest
import torch

from exporter.compress.lowrank import factorise
from exporter.compress.merge import MergedBlock, merge_blocks
from exporter.model.blazeface import BlazeBlock
from exporter.model.registry import build_model


def _trained_like(block: BlazeBlock) -> BlazeBlock:
    """The block in eval mode with non-trivial BatchNorm statistics, folded."""
    torch.manual_seed(0)
    block.norm.running_mean.normal_()
    block.norm.running_var.uniform_(0.5, 2)
    block.norm.weight.data.normal_()
    block.eval().fold()
    return block


@pytest.mark.parametrize("stride, c_in, c_out", [(1, 16, 16), (1, 16, 24), (2, 16, 24)])
def test_a_merged_block_computes_the_same(stride, c_in, c_out):
    block = _trained_like(BlazeBlock(c_in, c_out, stride))
    x = torch.randn(2, c_in, 16, 16)
    merged = MergedBlock(block)
    with torch.no_grad():
        assert torch.allclose(merged(x), block(x), atol=1e-5)
    assert sum(isinstance(m, torch.nn.Conv2d) for m in merged.modules()) == 1  # one conv instead of two


def test_a_merged_model_matches_including_low_rank_blocks():
    model = factorise(build_model("facekit-xs"), 0.5).eval()
    x = torch.rand(2, 3, 128, 128) * 2 - 1
    with torch.no_grad():
        reference = model(x)
        merged = merge_blocks(model, set(range(16)))
        for a, b in zip(reference, merged(x)):
            assert torch.allclose(a, b, atol=1e-4)


def test_an_unfolded_block_is_refused():
    with pytest.raises(ValueError, match="merge a folded block"):
        MergedBlock(BlazeBlock(8, 8, 1))
