"""Phone benchmark reports: schema and semantic validation, host comparison, atomic storage."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest

from exporter.bench.phone import (PhoneReportError, compare, load_phone_report, render_comparison,
                                  store_phone_report)

EXAMPLE = Path(__file__).parent / "data" / "phone_report_example.json"


@pytest.fixture()
def example() -> dict:
    """A fresh copy of the example report."""
    return json.loads(EXAMPLE.read_text())


def _write(tmp_path: Path, report: dict, name: str = "phone.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(report, indent=2))
    return path


def _host() -> dict:
    """A small host report: the same backends as the phone at some thread counts, not all."""
    def row(backend: str, threads: int, infer: float, total: float) -> dict:
        return {"backend": backend, "threads": threads,
                "pre_ms": {"median": 0.4, "p90": 0.5}, "infer_ms": {"median": infer, "p90": infer * 1.1},
                "post_ms": {"median": 0.2, "p90": 0.3}, "total_ms": {"median": total, "p90": total * 1.1},
                "ratio_to_mediapipe": None}
    return {"host": {"cpu": "x86_64 test host"},
            "latency": [row("tflite-int8", 1, 4.0, 4.7), row("tflite-int8", 2, 2.5, 3.2),
                        row("tflite-int8", 4, 1.1, 1.8), row("tflite-fp32", 1, 6.0, 6.7),
                        row("mediapipe-short", 4, 1.3, 2.0), row("tflite-fp16", 4, 1.6, 2.3)]}


def test_example_report_loads(example: dict) -> None:
    report = load_phone_report(EXAMPLE)
    assert report == example
    assert report["device"]["model"] == "Pixel 7"
    assert {r["delegate"] for r in report["latency"]} == {"xnnpack", "gpu"}


def _missing_model(r: dict) -> None:
    del r["device"]["model"]


def _wrong_tag(r: dict) -> None:
    r["schema"] = "facekit-phone-bench/2"


def _negative_median(r: dict) -> None:
    r["latency"][2]["infer_ms"]["median"] = -1.0


def _p90_below_median(r: dict) -> None:
    r["latency"][1]["pre_ms"]["p90"] = 0.5  # median is 0.63


def _runs_over_frames(r: dict) -> None:
    r["reuse"][1]["model_runs"] = 901  # frames is 900


def _duplicate_row(r: dict) -> None:
    r["latency"].append(copy.deepcopy(r["latency"][1]))


def _bad_date(r: dict) -> None:
    r["created"] = "2025-13-14T09:26:53Z"


def _not_a_date(r: dict) -> None:
    r["created"] = "yesterday"


def _unknown_row_field(r: dict) -> None:
    r["latency"][0]["gpu_ms"] = {"median": 1.0, "p90": 1.2}


def _bad_delegate(r: dict) -> None:
    r["latency"][4]["delegate"] = "metal"


def _empty_latency(r: dict) -> None:
    r["latency"] = []


@pytest.mark.parametrize(("mutate", "where", "complaint"), [
    (_missing_model, "device.model:", "required"),
    (_wrong_tag, "schema:", "facekit-phone-bench/1"),
    (_negative_median, "latency[2].infer_ms.median:", "minimum of 0"),
    (_p90_below_median, "latency[1].pre_ms.p90:", "below the median 0.63"),
    (_runs_over_frames, "reuse[1].model_runs:", "more than frames 900"),
    (_duplicate_row, "latency[6]:", "already in latency[1]"),
    (_bad_date, "created:", "month must be in 1..12"),
    (_not_a_date, "created:", "does not match"),
    (_unknown_row_field, "latency[0].gpu_ms:", "'gpu_ms' was unexpected"),
    (_bad_delegate, "latency[4].delegate:", "'metal' is not one of"),
    (_empty_latency, "latency:", "non-empty"),
])
def test_malformed_report_names_the_field(tmp_path: Path, example: dict, mutate, where: str,
                                          complaint: str) -> None:
    mutate(example)
    path = _write(tmp_path, example)
    with pytest.raises(PhoneReportError) as info:
        load_phone_report(path)
    message = str(info.value)
    assert str(path) in message
    assert where in message
    assert complaint in message
    assert "(1 problem)" in message
    assert message.rstrip().endswith("the schema is exporter/schemas/phone_bench.schema.json")
    assert "FaceKit sample app" in message


def test_schema_errors_are_collected_sorted_and_capped(tmp_path: Path, example: dict) -> None:
    for row in example["latency"]:
        row["post_ms"]["median"] = -0.1
    example["schema"] = "facekit-bench/1"  # validated first, sorts last
    example["app"]["platform"] = "windows"
    path = _write(tmp_path, example)
    with pytest.raises(PhoneReportError) as info:
        load_phone_report(path)
    lines = [line for line in str(info.value).splitlines() if line.startswith("  - ")]
    assert "(8 problems)" in str(info.value)
    assert [line.split(":")[0] for line in lines] == [
        "  - app.platform", "  - latency[0].post_ms.median", "  - latency[1].post_ms.median",
        "  - latency[2].post_ms.median", "  - latency[3].post_ms.median"]
    assert "(and 3 more)" in str(info.value)


@pytest.mark.parametrize(("text", "where"), [
    ("this is not JSON\n", "line 1 column 1"),
    ('{"schema": "facekit-phone-bench/1", "latency": [NaN]}', "NaN is not a JSON number"),
])
def test_not_json(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(PhoneReportError, match="not valid JSON") as info:
        load_phone_report(path)
    assert str(path) in str(info.value)
    assert where in str(info.value)


def test_truncated_file(tmp_path: Path) -> None:
    text = EXAMPLE.read_text()
    cut = text[: len(text) // 2]
    path = tmp_path / "cut.json"
    path.write_text(cut)
    with pytest.raises(PhoneReportError) as info:
        load_phone_report(path)
    message = str(info.value)
    assert f"{path}: not valid JSON at line" in message
    line = int(message.split(" at line ")[1].split()[0])
    assert 1 < line <= cut.count("\n") + 1
    assert "truncated" in message


def test_unreadable_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.json"
    with pytest.raises(PhoneReportError, match="cannot read the phone report") as info:
        load_phone_report(missing)
    assert str(missing) in str(info.value)
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(PhoneReportError, match="cannot read the phone report"):
        load_phone_report(binary)


def test_phone_report_error_is_a_value_error() -> None:
    assert issubclass(PhoneReportError, ValueError)


def test_compare_matches_backend_and_threads(example: dict) -> None:
    rows = compare(_host(), example)
    assert len(rows) == len(example["latency"])
    by_key = {(r["backend"], r["delegate"], r["threads"]): r for r in rows}

    int8_4 = by_key[("tflite-int8", "xnnpack", 4)]
    assert int8_4["phone_infer_ms"] == pytest.approx(1.87)
    assert int8_4["phone_total_ms"] == pytest.approx(0.63 + 1.87 + 0.31)
    assert int8_4["host_infer_ms"] == pytest.approx(1.1)  # the 4-thread host row, not the 1- or 2-thread one
    assert int8_4["host_total_ms"] == pytest.approx(1.8)
    assert int8_4["phone_to_host_infer"] == pytest.approx(1.87 / 1.1)
    assert int8_4["phone_ratio_to_mediapipe"] == pytest.approx(1.87 / 2.08)

    int8_1 = by_key[("tflite-int8", "xnnpack", 1)]
    assert int8_1["host_infer_ms"] == pytest.approx(4.0)
    assert int8_1["phone_to_host_infer"] == pytest.approx(5.12 / 4.0)
    assert int8_1["phone_ratio_to_mediapipe"] is None  # no 1-thread mediapipe row on the phone

    fp32_4 = by_key[("tflite-fp32", "xnnpack", 4)]
    assert fp32_4["host_infer_ms"] is None  # the host measured fp32 at 1 thread only
    assert fp32_4["host_total_ms"] is None
    assert fp32_4["phone_to_host_infer"] is None
    assert fp32_4["phone_ratio_to_mediapipe"] == pytest.approx(2.64 / 2.08)

    gpu = by_key[("tflite-fp16", "gpu", 4)]
    assert gpu["phone_ratio_to_mediapipe"] == pytest.approx(3.48 / 3.21)  # the gpu mediapipe row, not xnnpack
    assert gpu["phone_to_host_infer"] == pytest.approx(3.48 / 1.6)
    assert by_key[("mediapipe-short", "gpu", 4)]["phone_ratio_to_mediapipe"] == pytest.approx(1.0)


def test_render_comparison(example: dict) -> None:
    text = render_comparison(_host(), example)
    lines = text.splitlines()
    assert "Pixel 7" in lines[0]
    assert "x86_64 test host" in lines[0]
    table = [line for line in lines if line.startswith("| ")]
    assert len(table) == 1 + len(example["latency"])  # header row + one per phone row
    fp32 = next(line for line in table if "tflite-fp32" in line)
    assert fp32.count("—") == 3  # host infer, host total, phone/host
    int8_1 = next(line for line in table if "tflite-int8 | xnnpack | 1 " in line)
    assert "| 5.12 | 6.07 | 4.00 | 4.70 | 1.28 | — |" in int8_1


def test_store_phone_report_round_trip(tmp_path: Path, example: dict) -> None:
    out = store_phone_report(tmp_path / "report", example)
    assert out == tmp_path / "report" / "phones" / "pixel-7-2025-03-14.json"
    assert load_phone_report(out) == example
    assert [p.name for p in out.parent.iterdir()] == [out.name]
    again = store_phone_report(tmp_path / "report", example)  # overwrite in place
    assert again == out
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]


def test_store_phone_report_leaves_nothing_on_failure(tmp_path: Path, example: dict,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_replace(src, dst):
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        store_phone_report(tmp_path, example)
    assert list((tmp_path / "phones").iterdir()) == []
