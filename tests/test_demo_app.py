"""The Streamlit preview's pages through streamlit.testing's AppTest, on a freshly exported bundle."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import pytest

pytest.importorskip("streamlit", reason="streamlit is in requirements.lock: run `make test` to install it")
from streamlit.testing.v1 import AppTest  # noqa: E402

from exporter.bench.latency import MEDIAPIPE  # noqa: E402
from exporter.export.runners import RUNTIMES  # noqa: E402
from exporter.paths import data_root  # noqa: E402
from exporter.preview.settings import EXPORTS_ENV, REPORTS_ENV  # noqa: E402

APP = str(Path(__file__).resolve().parents[1] / "demo_web" / "app.py")
PHONE_EXAMPLE = Path(__file__).parent / "data" / "phone_report_example.json"
TIMEOUT_S = 180  # the first run loads every model on a busy 2-core machine


@pytest.fixture()
def preview(exported, tmp_path, monkeypatch) -> Path:
    """The preview reading the shared test export, the datasets (when present: its sample clips) and an empty report
    folder; returns that folder."""
    monkeypatch.setenv(EXPORTS_ENV, str(exported[0]))
    monkeypatch.setenv(REPORTS_ENV, str(tmp_path / "bench"))
    monkeypatch.setenv("FACEKIT_DATA", str(data_root() if data_root().is_dir() else tmp_path / "no-datasets"))
    return tmp_path / "bench"


def _page(page: str | None = None) -> AppTest:
    """The app run once, then switched to a page (None: the first page, Photo)."""
    app = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    app.run()
    if page is not None:
        app.switch_page(f"pages/{page}.py")
        app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def _by_label(widgets, label: str):
    return next(w for w in widgets if w.label == label)


def _png_header(width: int, height: int) -> bytes:
    """A PNG that declares width x height pixels but holds none (readers refuse it before decoding)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = lambda kind, data: struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))  # noqa: E731
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


@pytest.mark.parametrize("page, title", [(None, "Photo"), ("latency", "Latency"), ("frame_reuse", "Frame reuse"),
                                         ("phones", "Phones"), ("model", "Model")])
def test_every_page_renders_with_the_bundle(preview, page, title):
    app = _page(page)
    assert [t.value for t in app.title] == [title]
    assert not app.error, [e.value for e in app.error]


def test_a_photo_gives_faces_from_every_backend(preview):
    app = _page()
    backends = _by_label(app.multiselect, "Backends").value
    assert {"pytorch-fp32", "onnx-fp32", "tflite-fp32", "tflite-int8", "ncnn-fp32", MEDIAPIPE} <= set(backends)
    faces = app.dataframe[-1].value
    assert set(faces["backend"]) == set(backends)  # every backend found the sample photo's face
    latency = app.dataframe[-2].value
    assert list(latency["backend"]) == backends and (latency["infer ms"] > 0).all()
    images = [e for e in app.main if type(e).__name__ == "Image"]
    assert len(images) == len(backends)
    assert app.success and "same 1 face" in app.success[0].value


def test_a_rerun_does_not_reload_the_models(preview, monkeypatch):
    app = _page()
    loads: list[str] = []
    for runtime, make in list(RUNTIMES.items()):
        monkeypatch.setitem(RUNTIMES, runtime, lambda *args, make=make, runtime=runtime: loads.append(runtime) or make(*args))
    _by_label(app.slider, "NMS IoU").set_value(0.4).run()
    assert not app.exception and app.success and loads == []  # same files, same threads: cached runners
    _by_label(app.radio, "Threads").set_value(4).run()
    assert not app.exception and sorted(set(loads)) == ["executorch", "litert", "mnn", "ncnn", "onnxruntime",
                                                           "opencv"]  # new threads: new runners


def test_thresholds_change_the_faces(preview):
    app = _page()
    _by_label(app.slider, "Score threshold").set_value(0.95).run()
    assert app.info and "No backend found a face" in app.info[0].value


@pytest.mark.parametrize("name, data, message", [
    ("notes.txt", b"not a picture", "is not a readable image"),
    ("huge.png", _png_header(10_000, 5_000), "10000 x 5000 pixels (50 MP)"),
    ("cut.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 64, "not a readable image"),
], ids=["not an image", "50 megapixels", "truncated jpeg"])
def test_a_bad_photo_gives_a_message(preview, name, data, message):
    app = _page()
    _by_label(app.radio, "Picture").set_value("Upload").run()
    _by_label(app.file_uploader, "Photo (JPEG, PNG, BMP or WebP, up to 40 megapixels)").upload(name, data).run()
    assert not app.exception
    assert len(app.error) == 1 and message in app.error[0].value


def test_a_clip_runs_two_policies_against_every_frame(preview, datasets):  # a sample clip of the datasets
    app = _page("frame_reuse")
    _by_label(app.number_input, "Frames to process").set_value(30)
    _by_label(app.button, "Run the clip").click().run()
    assert not app.error, [e.value for e in app.error]
    summary = app.dataframe[0].value
    assert list(summary["policy"]) == ["every-frame", "motion-gated+tracking", "skip-N"]
    assert (summary["frames"] == 30).all() and summary["model runs"][0] == 30
    skip = summary[summary["policy"] == "skip-N"].iloc[0]
    assert skip["model runs"] == 10  # frames 0, 3, ..., 27
    assert "frames/s processed" in app.metric[0].value


def test_an_undecodable_clip_gives_a_message(preview):
    app = _page("frame_reuse")
    _by_label(app.radio, "Clip").set_value("Upload")
    _by_label(app.file_uploader, "Or upload a clip (mp4, mov, avi, mkv, webm)").upload("broken.mp4", b"\x00" * 2048)
    _by_label(app.button, "Run the clip").click().run()
    assert not app.exception
    assert len(app.error) == 1
    assert "cannot open video broken.mp4" in app.error[0].value and "facekit-preview" not in app.error[0].value


def test_a_phone_report_renders_beside_nothing_else(preview):
    app = _page("phones")
    uploader = _by_label(app.file_uploader, "Upload phone reports (JSON)")
    uploader.upload("pixel7.json", PHONE_EXAMPLE.read_bytes(), "application/json").run()
    assert not app.error, [e.value for e in app.error]
    table = app.dataframe[0].value
    example = json.loads(PHONE_EXAMPLE.read_text())
    assert len(table) == len(example["latency"]) and set(table["delegate"]) == {"xnnpack", "gpu"}
    assert len(app.dataframe) == 2  # the reuse rows of the example


def test_two_phone_reports_compare_devices(preview):
    other = json.loads(PHONE_EXAMPLE.read_text())
    other["device"] = {"model": "iPhone15,2", "os": "iOS 17.4"}
    app = _page("phones")
    uploader = _by_label(app.file_uploader, "Upload phone reports (JSON)")
    uploader.upload("pixel7.json", PHONE_EXAMPLE.read_bytes()).upload("iphone.json", json.dumps(other).encode()).run()
    assert not app.error, [e.value for e in app.error]
    devices = app.dataframe[0].value["device"]
    assert sorted(set(devices)) == ["Pixel 7 (Android 14), 2025-03-14", "iPhone15,2 (iOS 17.4), 2025-03-14"]
    assert len(devices) == 2 * len(other["latency"])


def test_a_malformed_phone_report_names_each_problem(preview):
    report = json.loads(PHONE_EXAMPLE.read_text())
    del report["device"]["model"]
    report["latency"][0]["infer_ms"]["median"] = -1
    app = _page("phones")
    uploader = _by_label(app.file_uploader, "Upload phone reports (JSON)")
    uploader.upload("bad.json", json.dumps(report).encode(), "application/json").run()
    assert len(app.error) == 1
    message = app.error[0].value
    assert message.startswith("bad.json: not a valid FaceKit phone report (2 problems)")
    assert "device.model" in message and "latency[0].infer_ms.median" in message and "facekit-preview" not in message


def test_a_missing_bundle_says_which_command_makes_it(preview, tmp_path, monkeypatch):
    monkeypatch.setenv(EXPORTS_ENV, str(tmp_path / "exports" / "all"))
    app = _page("model")
    assert not app.exception and not app.title
    assert len(app.warning) == 1 and "make export TARGET=all" in app.warning[0].value
    assert [b.label for b in app.button] == ["Export every format now"]
