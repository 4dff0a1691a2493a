"""Low-rank factorisation: the 1x1 convs become pairs of the stated rank, cheaper, and exact at full rank."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from exporter.checkpoint import load_model, save_checkpoint
from exporter.compress.lowrank import chosen_ranks, factorise
from exporter.model import build_model
from exporter.model.summary import summarize


def _pairs(model) -> list[nn.Sequential]:
    return [b.pointwise for b in [*model.stage16, *model.stage8] if isinstance(b.pointwise, nn.Sequential)]


def test_factorised_convs_have_the_stated_rank():
    model = build_model("facekit-s").eval()
    low = factorise(model, 0.25)
    ranks = [r for r in low.config.ranks if r]
    pairs = _pairs(low)
    assert len(pairs) == len(ranks) > 0
    for pair, rank in zip(pairs, ranks):
        assert pair[0].out_channels == pair[1].in_channels == rank
        product = pair[1].weight[:, :, 0, 0] @ pair[0].weight[:, :, 0, 0]
        assert int(torch.linalg.matrix_rank(product.detach())) <= rank
    assert summarize(low).macs < summarize(model).macs


def test_only_blocks_where_the_pair_is_cheaper_are_factorised():
    model = build_model("facekit-s")
    for block, rank in zip([*model.stage16, *model.stage8], chosen_ranks(model, 0.45)):
        n_in, n_out = block.pointwise.in_channels, block.pointwise.out_channels
        assert (rank == 0) or rank * (n_in + n_out) < n_in * n_out


def test_svd_pair_is_the_best_approximation_of_its_rank():
    """At rank r the pair equals the truncated SVD, so the error is the norm of the dropped singular values."""
    model = build_model("facekit-s").eval()
    low = factorise(model, 0.25)
    block, pair = model.stage8[2], low.stage8[2].pointwise
    weight = block.pointwise.weight[:, :, 0, 0].detach()
    product = (pair[1].weight[:, :, 0, 0] @ pair[0].weight[:, :, 0, 0]).detach()
    dropped = torch.linalg.svdvals(weight)[pair[0].out_channels:]
    assert torch.linalg.norm(weight - product) == pytest.approx(float(torch.linalg.norm(dropped)), rel=1e-3)


def test_factorised_checkpoint_round_trips_and_folds(tmp_path):
    low = factorise(build_model("facekit-xs").eval(), 0.25).eval()
    save_checkpoint(tmp_path / "low.pt", low)
    loaded, _ = load_model(tmp_path / "low.pt", fold_batchnorm=True)
    x = torch.rand(1, 3, 128, 128) * 2 - 1
    with torch.no_grad():
        for a, b in zip(low(x), loaded(x)):
            torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)


def test_refactorising_is_refused():
    low = factorise(build_model("facekit-xs"), 0.25)
    with pytest.raises(ValueError, match="already factorised"):
        factorise(low, 0.25)
