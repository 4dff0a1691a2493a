"""Palettization: at most 2^bits distinct values per conv, kept through BatchNorm folding and a checkpoint."""

from __future__ import annotations

import pytest
import torch

from exporter.checkpoint import load_model, save_checkpoint
from exporter.compress.palettize import distinct_values, kmeans_1d, palettize
from exporter.model import build_model


@pytest.mark.parametrize("bits", [4, 6])
def test_each_conv_has_at_most_two_to_the_bits_values(bits, tmp_path):
    model = build_model("facekit-xs").eval()
    small = palettize(model, bits)
    assert max(distinct_values(small).values()) <= 2**bits
    save_checkpoint(tmp_path / "p.pt", small)
    folded, _ = load_model(tmp_path / "p.pt", fold_batchnorm=True)  # what export converts
    counts = distinct_values(folded)
    assert max(counts.values()) <= 2**bits
    assert max(distinct_values(model.fold_batchnorm()).values()) > 2**bits  # the original had more


def test_palettized_model_stays_close_and_more_bits_is_closer():
    torch.manual_seed(0)
    model = build_model("facekit-xs").eval()
    x = torch.rand(2, 3, 128, 128) * 2 - 1
    with torch.no_grad():
        reference = model(x)[0]
        errors = [float((palettize(model, bits)(x)[0] - reference).abs().mean()) for bits in (2, 4, 6)]
    assert errors[0] > errors[1] > errors[2]


def test_kmeans_finds_well_separated_clusters():
    values = torch.cat([torch.full((50,), -1.0), torch.full((30,), 0.5), torch.full((20,), 2.0)]) + 1e-3 * torch.randn(100)
    snapped = kmeans_1d(values, 3)
    assert snapped.unique().numel() == 3
    assert (snapped - values).abs().max() < 0.01


@pytest.mark.parametrize("bits", [0, 9])
def test_bits_out_of_range_are_refused(bits):
    with pytest.raises(ValueError, match="between 1 and 8"):
        palettize(build_model("facekit-xs"), bits)
