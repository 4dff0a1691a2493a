"""Latency-aware width search: which of the shipped model's channels to keep so that its int8 TFLite file fits a
latency budget (a share of MediaPipe's time, both from the same latency table) with the most channel importance.

The candidates are those structured pruning can reach: from the channels born in the stem and in each block
(exporter/compress/prune.py), keep a multiple of 4 or all of them (the stem at least 8). A channel's importance is
pruning's score (the norm of the weights that write it times that of the weights that read it); a choice's value is
the share of the model's total importance it keeps. Latency is the table's per-part prediction. An exact dynamic
programme over the blocks keeps, for each stream width, the choices no other beats on both latency and value, and
returns the most valuable one within the budget. The chosen widths are then cut out of the shipped weights and
fine-tuned like any pruned model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from exporter.compress.latency_table import LatencyTable, Part, load_or_build, model_share, parts_of
from exporter.compress.prune import CHANNEL_MULTIPLE, births, channel_norms, prune_to_counts, refuse_unprunable
from exporter.model.blazeface import STAGE_16, FaceKitNet

MIN_STEM = 8


@dataclass(frozen=True)
class Choice:
    """Channels kept from each birth group, with the resulting stream widths, value and predicted cost."""

    counts: tuple[int, ...]
    channels: tuple[int, ...]
    value: float
    cost: float  # predicted latency (ms) or file size (bytes), the budget's unit


def options(born: int, stem: bool) -> list[int]:
    """How many of `born` channels a group may keep: multiples of 4 and all of them (the stem at least MIN_STEM)."""
    low = MIN_STEM if stem else 0
    return sorted({c for c in range(low, born + 1, CHANNEL_MULTIPLE)} | {born})


def widths_from_counts(births_at: list[int], counts: tuple[int, ...], blocks: int) -> tuple[int, ...]:
    """Stream widths (stem, then each block) when group j, born at position births_at[j], keeps counts[j]."""
    widths, total = [], 0
    added = dict(zip(births_at, counts))
    for position in range(blocks + 1):
        total += added.get(position, 0)
        widths.append(total)
    return tuple(widths)


def search(born: list[int], births_at: list[int], blocks: int, values: list[dict[int, float]],
           part_cost: Callable[[int, int, int], float], heads_cost: Callable[[int, int], float], overhead: float,
           model_offset: float, budget: float) -> Choice:
    """The most valuable choice whose predicted cost (latency or bytes) is within budget.

    born[j]: channels born in group j at stream position births_at[j] (0 = stem); values[j][k]: value of keeping k
    of them; part_cost(position, c_in, c_out): the stem (position 0, c_in 3) or block `position`; heads_cost(c16,
    c8); overhead: what every part after the first counts twice (the interpreter's per-call time); model_offset:
    what a whole model costs beyond its parts (LatencyTable.model_offset_ms, or a file's tables and names).
    """
    group_at = {position: j for j, position in enumerate(births_at)}
    if group_at.get(0) != 0:
        raise ValueError("the first birth group must be the stem's")
    fronts: dict[int, list[tuple[float, float, tuple[int, ...]]]] = {}  # width -> [(cost, value, counts)]
    for k in options(born[0], stem=True):
        fronts.setdefault(k, []).append((part_cost(0, 3, k), values[0][k], (k,)))
    groups16 = sum(1 for b in births_at if b <= len(STAGE_16))  # groups born up to the 16x16 map the heads read
    for position in range(1, blocks + 1):
        j = group_at.get(position)
        step: dict[int, list[tuple[float, float, tuple[int, ...]]]] = {}
        for c_in, front in fronts.items():
            for k in options(born[j], stem=False) if j is not None else [0]:
                c_out = c_in + k
                cost = part_cost(position, c_in, c_out) - overhead
                gain = values[j][k] if j is not None else 0.0
                for spent, value, counts in front:
                    step.setdefault(c_out, []).append((spent + cost, value + gain, counts + (k,) if j is not None else counts))
        fronts = {c: _pareto(front) for c, front in step.items()}
    best, cheapest = None, float("inf")
    for c8, front in fronts.items():
        for spent, value, counts in front:
            total = spent + heads_cost(sum(counts[:groups16]), c8) - overhead + model_offset
            cheapest = min(cheapest, total)
            if total <= budget and (best is None or value > best.value):
                best = Choice(counts, widths_from_counts(births_at, counts, blocks), value, total)
    if best is None:
        raise ValueError(f"no width choice fits a budget of {budget:.3f}; the narrowest costs {cheapest:.3f}")
    return best


def _pareto(front: list[tuple[float, float, tuple[int, ...]]]) -> list[tuple[float, float, tuple[int, ...]]]:
    """The entries no other entry beats on both cost (lower) and value (higher)."""
    kept, best_value = [], float("-inf")
    for cost, value, counts in sorted(front, key=lambda e: (e[0], -e[1])):
        if value > best_value:
            kept.append((cost, value, counts))
            best_value = value
    return kept


def search_model(model: FaceKitNet, table: LatencyTable, budget_share: float) -> tuple[FaceKitNet, Choice]:
    """(the model cut to the best widths within budget_share x MediaPipe's table latency, the choice)."""
    if not 0 < budget_share < 10:
        raise ValueError(f"--amount for search is the latency budget as a share of MediaPipe's (e.g. 0.7), got {budget_share}")
    born, births_at, values = importance(model)
    shipped = parts_of(tuple(model.config.block_channels()))

    def part_ms(position: int, c_in: int, c_out: int) -> float:
        p = shipped[position]
        return table.part_ms(Part(p.kind, p.side, p.stride, c_in, c_out))

    def heads_ms(c16: int, c8: int) -> float:
        return table.part_ms(Part("heads", 16, 1, c16, c8))

    choice = search(born, births_at, len(shipped) - 2, values, part_ms, heads_ms, table.overhead_ms,
                    table.model_offset_ms, budget_share * table.mediapipe_ms)
    return prune_to_counts(model, list(choice.counts)), choice


def importance(model: FaceKitNet) -> tuple[list[int], list[int], list[dict[int, float]]]:
    """Channels born in each group, the stream position (0 = stem, i = block i) where each is born, and the share of
    the model's channel importance that keeping k of a group's channels keeps."""
    groups = births(model)
    norms = channel_norms(model)
    total = float(norms.sum())
    values = []
    for start, count in groups:
        ranked = sorted((float(norms[c]) for c in range(start, start + count)), reverse=True)
        values.append({k: sum(ranked[:k]) / total for k in options(count, stem=start == 0)})
    widths = list(model.config.block_channels())
    births_at = [0] + [i for i in range(1, len(widths)) if widths[i] > widths[i - 1]]
    return [count for _, count in groups], births_at, values


def search_within_budget(model: FaceKitNet, budget_share: float) -> FaceKitNet:
    """The model cut to the best widths within budget_share x MediaPipe's latency (the table measured on first use),
    with the choice and its measured latency printed."""
    refuse_unprunable(model)  # before the latency table, which takes minutes to measure the first time
    table = load_or_build(model)
    pruned, choice = search_model(model, table, budget_share)
    predicted, measured = choice.cost / table.mediapipe_ms, model_share(choice.channels)
    print(f"search: widths {list(choice.channels)} keep {choice.value:.1%} of the channel importance; int8 latency "
          f"predicted {predicted:.3f} x MediaPipe's ({choice.cost:.3f} ms), measured now {measured:.3f} x "
          f"({predicted / measured - 1:+.1%}; `make pareto` times it again); budget {budget_share:g} x MediaPipe's")
    return pruned
