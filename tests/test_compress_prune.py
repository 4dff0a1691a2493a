"""Channel pruning: the model really loses channels, and removing dead channels changes no output."""

from __future__ import annotations

import pytest
import torch

from exporter.checkpoint import load_model, save_checkpoint
from exporter.compress.prune import channels_to_keep, prune_channels, stream_widths
from exporter.model import build_model
from exporter.model.summary import summarize


def _trained_like(variant: str = "facekit-xs", seed: int = 0):
    """A model with random (not initial) BatchNorm statistics, so folding and pruning are not trivial."""
    torch.manual_seed(seed)
    model = build_model(variant).eval()
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.2, 0.2)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.1, 0.1)
    return model


def _kill(model, channels: list[int]) -> None:
    """Make stream channels exactly zero everywhere: no conv or BatchNorm writes them, no depthwise bias lifts them."""
    dead = torch.tensor(channels)
    norms = [model.stem[1]] + [b.norm for b in [*model.stage16, *model.stage8]]
    for norm in norms:
        here = dead[dead < norm.num_features]
        norm.weight.data[here] = 0.0
        norm.bias.data[here] = 0.0
    for conv in [b.depthwise for b in [*model.stage16, *model.stage8]] + [model.attr16.depthwise, model.attr8.depthwise]:
        conv.bias.data[dead[dead < conv.out_channels]] = 0.0


def test_pruned_model_is_narrower_and_smaller():
    model = _trained_like("facekit-s")
    pruned = prune_channels(model, 0.5)
    before, after = stream_widths(model), stream_widths(pruned)
    assert all(a < b for a, b in zip(after, before)), (before, after)
    assert all(w % 4 == 0 for w in after)
    assert summarize(pruned).parameters < 0.5 * summarize(model).parameters
    assert summarize(pruned).macs < 0.5 * summarize(model).macs
    assert pruned.config.channels == tuple(after)


def test_removing_dead_channels_keeps_every_output():
    """Kill the channels pruning would remove; they stay the weakest, and removing them changes no output."""
    model = _trained_like()
    kept = channels_to_keep(model, 0.3)
    dead = [c for c in range(stream_widths(model)[-1]) if c not in kept]
    _kill(model, dead)
    assert channels_to_keep(model, 0.3) == kept
    pruned = prune_channels(model, 0.3).eval()
    assert stream_widths(pruned)[-1] == len(kept) < stream_widths(model)[-1]
    x = torch.rand(2, 3, 128, 128) * 2 - 1
    with torch.no_grad():
        for full, narrow in zip(model(x), pruned(x)):
            torch.testing.assert_close(narrow, full, atol=1e-4, rtol=1e-4)


def test_the_weakest_channels_go():
    """Silence a channel pruning would have kept: it is removed instead, beside others born with it."""
    model = _trained_like()
    kept = channels_to_keep(model, 0.25)
    stem = stream_widths(model)[0]
    victim = next(c for c in kept if c < stem)  # the stem loses some of its channels at this amount
    assert len([c for c in kept if c < stem]) < stem
    _kill(model, [victim])
    now = channels_to_keep(model, 0.25)
    assert victim not in now and len(now) == len(kept)


def test_pruned_checkpoint_round_trips(tmp_path):
    pruned = prune_channels(_trained_like(), 0.25).eval()
    save_checkpoint(tmp_path / "p.pt", pruned)
    loaded, _ = load_model(tmp_path / "p.pt")
    x = torch.rand(1, 3, 128, 128) * 2 - 1
    with torch.no_grad():
        for a, b in zip(pruned(x), loaded(x)):
            torch.testing.assert_close(a, b)


@pytest.mark.parametrize("amount", [0, 1, -0.1, 1.5])
def test_amount_outside_zero_one_is_refused(amount):
    with pytest.raises(ValueError, match="between 0 and 1"):
        prune_channels(build_model("facekit-xs"), amount)
