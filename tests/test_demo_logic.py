"""The preview's logic without Streamlit: upload checks, where backends differ, policy naming, temporary files."""

from __future__ import annotations

import json
import tempfile
import zlib
from pathlib import Path

import numpy as np
import pytest

from exporter.bench.phone import PhoneReportError
from exporter.detector import StageTimes
from exporter.postprocess import Face
from exporter.preview.clips import ClipRun, PolicyRun, name_of, player_html, policy_configs, uploaded_clip
from exporter.preview.phones import chart_rows, read_uploaded_report, reuse_rows
from exporter.preview.photo import (SHOWN_WIDTH, PhotoResult, PreviewInputError, annotate, decode_image, for_display,
                                    unmatched)
from exporter.reuse import ReuseConfig

PHONE_EXAMPLE = Path(__file__).parent / "data" / "phone_report_example.json"


def _face(x0: float, y0: float, side: float = 40.0, age: float | None = 30.0) -> Face:
    return Face(np.array([x0, y0, x0 + side, y0 + side], np.float32), np.full((6, 2), x0 + side / 2, np.float32),
                0.9, age, None if age is None else 0.2)


def _result(key: str, faces: list[Face]) -> PhotoResult:
    return PhotoResult(key, faces, StageTimes(0.001, 0.002, 0.0005))


def test_a_face_missing_from_one_backend_is_flagged_on_the_others():
    both, only_a = _face(10, 10), _face(100, 100)
    missing = unmatched([_result("a", [both, only_a]), _result("b", [_face(12, 11)]), _result("mp", [both, only_a])])
    assert missing == {"a": [[], ["b"]], "b": [[]], "mp": [[], ["b"]]}


def test_a_differing_face_gets_a_red_frame_and_the_others_none():
    image = np.zeros((200, 200, 3), np.uint8)
    out = annotate(image, [_face(20, 20, age=None), _face(120, 120)], [False, True])
    red = (out[..., 0] > 200) & (out[..., 1] < 50)
    assert red[100:180, 100:180].any() and not red[:90, :90].any()


def test_an_image_over_40_megapixels_is_refused_before_decoding():
    import cv2

    ok, png = cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))
    assert decode_image(png.tobytes(), "small.png").shape == (8, 8, 3)
    header = bytearray(png.tobytes())
    header[16:24] = (9000).to_bytes(4, "big") + (5000).to_bytes(4, "big")  # IHDR width and height...
    header[29:33] = zlib.crc32(bytes(header[12:29])).to_bytes(4, "big")  # ...and the chunk's CRC
    with pytest.raises(PreviewInputError, match=r"big\.png has 9000 x 5000 pixels \(45 MP\); the preview takes"):
        decode_image(bytes(header), "big.png")


def test_policy_names_tell_two_settings_of_one_policy_apart():
    a, b = ReuseConfig(policy="skip-N", skip=2), ReuseConfig(policy="skip-N", skip=5)
    configs = policy_configs([a, b])
    assert list(configs) == ["every-frame", "skip-N", "skip-N (skip=5)"]
    assert name_of(configs, b) == "skip-N (skip=5)"
    assert list(policy_configs([ReuseConfig(policy="every-frame"), a])) == ["every-frame", "skip-N"]


def test_an_uploaded_clip_lives_in_a_temporary_folder_that_is_removed():
    with uploaded_clip(b"\x00" * 16, "holiday.mp4") as path:
        assert path.read_bytes() == b"\x00" * 16 and Path(tempfile.gettempdir()) in path.parents
    assert not path.parent.exists()
    with pytest.raises(ValueError, match="cannot open video holiday.mp4"), uploaded_clip(b"x", "holiday.mp4") as path:
        raise ValueError(f"cannot open video {path}: missing, unreadable or an unsupported codec")
    assert not path.parent.exists()
    with pytest.raises(PreviewInputError, match="not a video file"), uploaded_clip(b"x", "notes.txt"):
        pass


def test_the_player_carries_every_frame_and_decision():
    runs = {name: PolicyRun(name, ReuseConfig(policy=name), [True, name == "every-frame"], ["first", "static"],
                            [2.0, 0.1], [[], []], [b"\xff\xd8a", b"\xff\xd8b"]) for name in ("every-frame", "skip-N")}
    page = player_html(ClipRun("clip.mp4", 30.0, 64, 48, runs, 0.1), ["skip-N"])
    data = json.loads(page.split("const D = ")[1].split("; let i")[0])
    assert data["frames"] == 2 and [p["name"] for p in data["policies"]] == ["skip-N"]
    assert data["policies"][0]["ran"] == [True, False] and len(data["policies"][0]["jpeg"]) == 2


def test_an_uploaded_phone_report_error_names_the_upload(tmp_path):
    assert read_uploaded_report(PHONE_EXAMPLE.read_bytes(), "pixel.json")["device"]["model"] == "Pixel 7"
    with pytest.raises(PhoneReportError, match=r"^my phone\.json: not valid JSON"):
        read_uploaded_report(b"{", "my phone.json")


def test_reuse_rows_give_the_speedup_on_the_same_device():
    report = json.loads(PHONE_EXAMPLE.read_text())
    rows = reuse_rows({"Pixel": report})
    every, tracking = (r["mean_ms"] for r in report["reuse"])
    assert [r["speedup"] for r in rows] == [1.0, round(every / tracking, 2)]


def test_phone_chart_rows_add_the_host_for_the_same_backends():
    report = json.loads(PHONE_EXAMPLE.read_text())
    host = {"latency": [{"backend": "tflite-int8", "threads": 1, "infer_ms": {"median": 0.8}},
                        {"backend": "onnx-fp32", "threads": 1, "infer_ms": {"median": 1.4}}]}
    rows = chart_rows({"Pixel": report}, host)
    assert len(rows) == len(report["latency"]) + 1
    assert rows[-1] == {"backend": "tflite-int8", "infer median ms": 0.8, "run": "host, 1 thread(s)"}
    assert {r["run"] for r in rows[:-1]} == {"xnnpack, 4 thread(s)", "xnnpack, 1 thread(s)", "gpu, 4 thread(s)"}


def test_wide_photos_are_shrunk_for_the_browser_and_small_ones_kept():
    wide, small = np.zeros((1000, 2000, 3), np.uint8), np.zeros((300, 400, 3), np.uint8)
    assert for_display(wide).shape == (400, SHOWN_WIDTH, 3)
    assert for_display(small) is small


def test_reuse_kind_rows_group_the_last_bench_by_kind_of_clip():
    from exporter.preview.bench_figures import reuse_kind_rows

    row = lambda speedup, kept: {"speedup": speedup, "faces_matched": kept, "model_runs": 10, "frames": 30}  # noqa: E731
    report = {"reuse": {"clips": [{"kind": "talking head"}, {"kind": "talking head"}, {"kind": "moving camera"}],
                        "overall": {"every-frame": row(1.0, 1.0), "motion-gated+tracking": row(2.6, 0.99)},
                        "kinds": {"talking head": {"every-frame": row(1.0, 1.0), "motion-gated+tracking": row(3.1, 1.0)},
                                  "moving camera": {"every-frame": row(1.0, 1.0), "motion-gated+tracking": row(1.9, 0.97)}}}}
    rows = reuse_kind_rows(report)
    assert [r["clips"] for r in rows] == ["all clips (3)"] * 2 + ["talking head (2)"] * 2 + ["moving camera (1)"] * 2
    assert rows[3] == {"clips": "talking head (2)", "policy": "motion-gated+tracking", "speedup": 3.1,
                       "faces kept (IoU 0.5)": 1.0, "model runs": 10, "frames": 30}
    assert reuse_kind_rows(None) == [] and reuse_kind_rows({"reuse": None}) == []
