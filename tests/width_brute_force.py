"""The brute-force answer both width searches are checked against: the best share of channel importance that fits."""

from __future__ import annotations

from collections.abc import Callable
from itertools import product

from exporter.compress.prune import births, channel_norms
from exporter.compress.search import options, widths_from_counts
from exporter.model.blazeface import FaceKitNet


def best_kept_importance(model: FaceKitNet, fits: Callable[[tuple[int, ...]], bool]) -> float:
    """Over every width choice whose stream widths `fits`, the largest share of the channel norms kept."""
    groups = births(model)
    norms = channel_norms(model)
    widths = model.config.block_channels()
    positions = [0] + [i for i in range(1, len(widths)) if widths[i] > widths[i - 1]]
    best = 0.0
    for counts in product(*(options(n, stem=start == 0) for start, n in groups)):
        channels = widths_from_counts(positions, counts, len(widths) - 1)
        if fits(channels):
            kept = sum(sum(sorted(norms[s:s + n].tolist(), reverse=True)[:k]) for (s, n), k in zip(groups, counts))
            best = max(best, kept / float(norms.sum()))
    return best
