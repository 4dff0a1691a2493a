"""Latency-aware width search on the tiny variant with a synthetic latency table: the fit reproduces the table's
law and finds a host's channel granule, the search respects its budget and finds the best choice a brute force finds, and the cut model has the widths."""

from __future__ import annotations

import pytest
import torch

from exporter.compress.latency_table import (LatencyTable, Part, calibrate, candidate_parts, choose_granule, measure_part,
                                             mediapipe_file, parts_of, share_of_mediapipe)
from exporter.compress.prune import stream_widths
from exporter.compress.search import search_model
from exporter.model.registry import build_model
from width_brute_force import best_kept_importance

OVERHEAD = 0.002
OFFSET = 0.03  # what a whole model costs beyond its parts


def synthetic_ms(part: Part) -> float:
    """A latency law the per-part fit can represent: a constant plus work proportional to c_in x c_out x pixels."""
    pixels = (part.side // part.stride) ** 2
    return OVERHEAD + 0.01 + 2e-7 * pixels * (part.c_in * part.c_out + 3 * part.c_out)


def grouped_ms(part: Part) -> float:
    """The synthetic law on a host whose kernels work on channels in groups of 16."""
    rounded = Part(part.kind, part.side, part.stride, 16 * -(-part.c_in // 16), 16 * -(-part.c_out // 16))
    return synthetic_ms(rounded)


def measured_with(law, tiny) -> dict[str, list[tuple[int, int, float]]]:
    """The tiny model's candidate parts, 'measured' by a latency law."""
    measurements = {}
    for part in candidate_parts(tuple(tiny.config.block_channels())):
        if part.kind != "overhead":
            measurements.setdefault(part.key, []).append((part.c_in, part.c_out, law(part)))
    return measurements


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return build_model("facekit-xs").eval()


@pytest.fixture(scope="module")
def table(tiny) -> LatencyTable:
    measurements = measured_with(synthetic_ms, tiny)
    full = sum(synthetic_ms(p) for p in parts_of(tuple(tiny.config.block_channels())))
    # MediaPipe as fast as the unpruned tiny model; the whole-model offset counts against the budget like the parts
    return LatencyTable(measurements, OVERHEAD, mediapipe_ms=full, model_offset_ms=OFFSET)


def test_the_granule_is_found_from_the_measurements(tiny):
    assert choose_granule(measured_with(synthetic_ms, tiny)) == 1
    grouped = measured_with(grouped_ms, tiny)
    assert choose_granule(grouped) == 16
    table = LatencyTable(grouped, OVERHEAD, mediapipe_ms=1.0, granule=16)
    twelve, sixteen, twenty = (table.part_ms(Part("block", 32, 1, 8, c)) for c in (12, 16, 20))
    assert twelve == pytest.approx(sixteen) and twenty > sixteen


def predicted(channels: tuple[int, ...]) -> float:
    parts = parts_of(channels)
    return sum(synthetic_ms(p) for p in parts) - OVERHEAD * (len(parts) - 1) + OFFSET


def test_the_fit_reproduces_the_law_at_unmeasured_widths(table, tiny):
    for part in parts_of(tuple(tiny.config.block_channels())):
        odd = Part(part.kind, part.side, part.stride, part.c_in if part.kind == "stem" else part.c_in - 1, part.c_out - 1)
        assert table.part_ms(odd) == pytest.approx(synthetic_ms(odd), rel=1e-6)


@pytest.mark.parametrize("share", [0.6, 0.75, 0.9])
def test_the_search_respects_its_budget_and_matches_brute_force(table, tiny, share):
    pruned, choice = search_model(tiny, table, share)
    budget = share * table.mediapipe_ms
    assert choice.cost <= budget
    assert choice.cost == pytest.approx(predicted(choice.channels), rel=1e-6)
    assert choice.cost == pytest.approx(table.predict(choice.channels), rel=1e-6)
    assert stream_widths(pruned) == list(choice.channels)

    best = best_kept_importance(tiny, lambda channels: predicted(channels) <= budget)
    assert choice.value == pytest.approx(best, rel=1e-6)
    assert pruned(torch.zeros(1, 3, 128, 128))[1].shape == (1, 896, 1)


def test_a_budget_nothing_fits_is_refused(table, tiny):
    with pytest.raises(ValueError, match="no width choice fits"):
        search_model(tiny, table, 0.01)


@pytest.mark.slow
def test_a_real_part_is_converted_and_timed_in_litert():
    narrow, wide = (measure_part(Part("block", 16, 1, c, c)) for c in (16, 96))
    assert 0 < narrow < wide
    assert share_of_mediapipe(mediapipe_file()) == pytest.approx(1.0, abs=0.15)  # MediaPipe against itself


def test_the_calibrated_offset_makes_the_calibration_model_exact(table, tiny):
    channels = tuple(tiny.config.block_channels())
    calibrated = LatencyTable(table.measurements, table.overhead_ms, table.mediapipe_ms)
    calibrated.model_offset_ms = calibrate(calibrated, channels, measured_ms=table.predict(channels) + 0.25)
    assert calibrated.model_offset_ms == pytest.approx(OFFSET + 0.25)
    assert calibrated.predict(channels) == pytest.approx(table.predict(channels) + 0.25)


def test_a_table_measured_before_the_stem_rewrite_is_measured_again(table, tiny, tmp_path, monkeypatch):
    from exporter.compress import latency_table
    from exporter.jsonio import MB, load_json, write_json

    path = tmp_path / "latency_table.json"
    stale = table.to_json()
    del stale["int8_stem"]
    write_json(path, stale)
    measured = []
    monkeypatch.setattr(latency_table, "build_table", lambda shipped: measured.append(shipped) or table)
    monkeypatch.setattr(latency_table, "measure_model", lambda channels: 1.0)
    monkeypatch.setattr(latency_table, "check", lambda table, models: [])
    latency_table.load_or_build(tiny, path)
    assert measured and load_json(path, max_bytes=MB, what="table")["int8_stem"] == latency_table.INT8_STEM
    monkeypatch.setattr(latency_table, "build_table", lambda shipped: pytest.fail("a current table was measured again"))
    assert latency_table.load_or_build(tiny, path).granule == table.granule
