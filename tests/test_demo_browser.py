"""The preview in a real browser: `streamlit run` on a free localhost port, Debian's Chromium driven by Playwright.

The test uploads a photo, waits for the annotated images and the latency chart, runs a clip on the frame-reuse
page, visits the other pages, saves a screenshot of each under runs/demo/screenshots/ and looks at them: the
box of the face must be drawn where the reference detector puts it. It prints (and writes to
runs/demo/e2e_figures.json) how long the first page took and how fast the photo and the clip went.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest

from exporter.checkpoint import load_model
from exporter.commands.detect import BOX_COLOUR
from exporter.data.media import iter_frames
from exporter.detector import Detector
from exporter.paths import DEFAULT_CHECKPOINT, REPO_ROOT
from exporter.image_io import read_rgb
from exporter.preview.clips import DISPLAY_WIDTH
from exporter.preview.settings import EXPORTS_ENV, REPORTS_ENV

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in requirements.lock: run `make test`")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
OUT = REPO_ROOT / "runs" / "demo"
CLIP = "lp_driving_d10.mp4"  # a talking head (one face, still camera), 30 fps, 448 frames: 300 are run
PHONE_EXAMPLE = Path(__file__).parent / "data" / "phone_report_example.json"
WAIT_MS = 150_000  # a busy 2-core machine loads every model on the first page

pytestmark = pytest.mark.skipif(not CHROMIUM.is_file(), reason=f"Debian's Chromium is not at {CHROMIUM}; `make test` "
                                "installs it (apt-get as root), and Playwright's own browser download does not work here")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, server: subprocess.Popen, log: Path, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"streamlit exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"streamlit did not answer on {url} within {timeout_s:.0f} s:\n{log.read_text()[-3000:]}")


def _box_coloured(pixels: np.ndarray) -> np.ndarray:
    """Pixels close to the drawn box colour (a pure primary), after the browser's scaling and blending."""
    main = int(np.argmax(BOX_COLOUR))
    channels = pixels.astype(int)
    others = np.delete(channels, main, axis=-1)
    return (channels[..., main] > 140) & (channels[..., main] > others.max(axis=-1) + 70)


def _box_drawn(shot_rgb: np.ndarray, box: np.ndarray) -> float:
    """Share of sampled points along the four edges of box (in shot pixels) with a box-coloured pixel near them.

    Near: within 6% of the box side (at least 4 pixels), as the backends' boxes differ a little (IoU >= 0.9).
    """
    h, w = shot_rgb.shape[:2]
    x0, y0, x1, y1 = box
    band = max(4, round(0.06 * max(x1 - x0, y1 - y0)))
    hits = []
    for t in np.linspace(0.1, 0.9, 17):
        for x, y in ((x0 + t * (x1 - x0), y0), (x0 + t * (x1 - x0), y1), (x0, y0 + t * (y1 - y0)), (x1, y0 + t * (y1 - y0))):
            xi, yi = int(round(x)), int(round(y))
            patch = shot_rgb[max(yi - band, 0):min(yi + band + 1, h), max(xi - band, 0):min(xi + band + 1, w)]
            hits.append(bool(patch.size and _box_coloured(patch).any()))
    return float(np.mean(hits))


def _png(data: bytes) -> np.ndarray:
    return cv2.cvtColor(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def _check_face_drawn(shot: np.ndarray, original: np.ndarray, box: np.ndarray, what: str) -> None:
    """The box is drawn at the reference face in the screenshot, and the same check fails on the undrawn picture."""
    scale = shot.shape[1] / original.shape[1]
    plain = cv2.resize(original, shot.shape[1::-1], interpolation=cv2.INTER_AREA)
    drawn, undrawn = _box_drawn(shot, box * scale), _box_drawn(plain, box * scale)
    assert drawn >= 0.8, f"{what}: the face's box is drawn at only {drawn:.0%} of the edge points"
    assert undrawn <= 0.2, f"{what}: the undrawn picture already looks drawn ({undrawn:.0%}): the check proves nothing"


def _settled(page) -> None:
    """Wait until the script run is over (no running indicator) and give the canvases a moment to draw."""
    page.wait_for_function("() => !document.querySelector('[data-testid^=stStatusWidgetRunning]')", timeout=WAIT_MS)
    page.wait_for_timeout(800)


def _shot(page, name: str) -> None:
    _settled(page)
    page.screenshot(path=str(OUT / "screenshots" / f"{name}.png"))


def _uploaded(page, name: str) -> None:
    """Wait until the file chip of name shows and its upload is over: a form submitted earlier would lack the file."""
    page.locator(f'[data-testid="stFileChipName"][title="{name}"]').wait_for(timeout=WAIT_MS)
    page.wait_for_function("() => !document.querySelector('[data-testid=stFileChipIconSpinner]')", timeout=WAIT_MS)


def _wait_or_error(page, locator) -> None:
    """Wait for locator; fail with the page's message when the preview shows an error instead."""
    alert = page.locator('[data-testid="stAlertContentError"], [data-testid="stException"]')
    locator.or_(alert).first.wait_for(timeout=WAIT_MS)
    if not locator.count():
        pytest.fail(f"the preview showed an error instead: {alert.first.inner_text()}")


def _open(page, name: str, title: str) -> None:
    """Go to a page and wait for its run to end, so that no element of the page before is still there."""
    page.get_by_role("link", name=name).click()
    page.get_by_role("heading", name=title).wait_for(timeout=WAIT_MS)
    _settled(page)


def test_the_preview_in_chromium(exported, datasets, assets, tmp_path):
    shots = OUT / "screenshots"
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    photo = assets["obama.jpg"]
    reference = Detector.from_torch(load_model(DEFAULT_CHECKPOINT, fold_batchnorm=True)[0])
    image = read_rgb(photo)
    photo_faces = reference(image)
    clip_frame = next(iter_frames(datasets / "videos" / CLIP, max_frames=1))[1]
    clip_faces = reference(clip_frame)
    assert len(photo_faces) == 1 and len(clip_faces) == 1  # the checks below look for one face each

    port, log = _free_port(), tmp_path / "streamlit.log"
    bench = REPO_ROOT / "runs" / "bench"  # the last `make bench`, read only, when there is one
    reports = bench if (bench / "report.json").is_file() else tmp_path / "bench"
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]),
           EXPORTS_ENV: str(exported[0]), REPORTS_ENV: str(reports), "FACEKIT_DATA": str(datasets)}
    figures: dict[str, float] = {}
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1700})
        started = time.perf_counter()
        with open(log, "w") as out:
            server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "demo_web/app.py",
                                       "--server.address", "127.0.0.1", "--server.port", str(port),
                                       "--server.headless", "true", "--browser.gatherUsageStats", "false",
                                       "--server.fileWatcherType", "none", "--client.toolbarMode", "viewer"],
                                      cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait_healthy(url, server, log)
            figures["server_answering_s"] = time.perf_counter() - started
            page.goto(url)
            page.get_by_text(re.compile(r"through \d+ backends in")).wait_for(timeout=WAIT_MS)
            page.locator('[data-testid="stImage"] img').first.wait_for(timeout=WAIT_MS)
            figures["first_page_ready_s"] = time.perf_counter() - started

            # Photo: upload, annotated images from every backend, the latency chart
            page.get_by_role("radiogroup", name="Picture").get_by_text("Upload").click()
            page.locator('input[type="file"]').set_input_files(str(photo))
            caption = page.get_by_text(re.compile(r"obama\.jpg: \d+ x \d+ pixels through (\d+) backends in ([\d.]+) s"))
            caption.wait_for(timeout=WAIT_MS)
            backends, seconds = re.search(r"through (\d+) backends in ([\d.]+) s", caption.inner_text()).groups()
            figures["photo_backends"], figures["photo_all_backends_s"] = int(backends), float(seconds)
            images = page.locator('[data-testid="stImage"] img')
            page.wait_for_function("n => { const imgs = [...document.querySelectorAll('[data-testid=stImage] img')];"
                                   " return imgs.length == n && imgs.every(i => i.complete && i.naturalWidth > 0); }",
                                   arg=int(backends), timeout=WAIT_MS)
            page.locator('[data-testid="stVegaLiteChart"]').first.wait_for(timeout=WAIT_MS)
            _shot(page, "photo")
            for k in range(images.count()):
                label = page.locator('[data-testid="stImage"]').nth(k).inner_text()
                _check_face_drawn(_png(images.nth(k).screenshot()), image, photo_faces[0].box, f"photo, {label}")

            # Frame reuse: upload the clip, run 300 frames, the player shows frame 0 with the face drawn
            _open(page, "Frame reuse", "Frame reuse")
            page.get_by_role("radiogroup", name="Clip").get_by_text("Upload").click()
            page.get_by_test_id("stForm").locator('input[type="file"]').set_input_files(str(datasets / "videos" / CLIP))
            _uploaded(page, CLIP)
            page.get_by_role("button", name="Run the clip").click()
            metric = page.get_by_text(re.compile(r"([\d.]+) frames/s processed"))
            _wait_or_error(page, metric)
            figures["reuse_frames_per_s"] = float(re.search(r"([\d.]+) frames/s", metric.inner_text()).group(1))
            player = page.frame_locator("iframe").first
            player.locator("#img0").wait_for(timeout=WAIT_MS)
            assert "model ran (first)" in player.locator("#state0").inner_text()
            metric.evaluate("element => element.scrollIntoView()")  # the results, the player and the timeline
            _shot(page, "frame_reuse")
            scale = DISPLAY_WIDTH / clip_frame.shape[1]
            small = cv2.resize(clip_frame, (DISPLAY_WIDTH, round(clip_frame.shape[0] * scale)), interpolation=cv2.INTER_AREA)
            player_shot = player.locator("#img0").screenshot(path=str(OUT / "player_frame0.png"))
            _check_face_drawn(_png(player_shot), small, clip_faces[0].box * scale, "frame-reuse player, frame 0")

            # The other pages
            _open(page, "Latency", "Latency")
            page.get_by_role("heading", name="This run").wait_for(timeout=WAIT_MS)
            page.locator('[data-testid="stVegaLiteChart"]').first.wait_for(timeout=WAIT_MS)
            _shot(page, "latency")
            _open(page, "Phones", "Phones")
            page.locator('input[type="file"]').set_input_files(str(PHONE_EXAMPLE))
            page.get_by_role("heading", name="Inference on the phones, by delegate, and on this host").wait_for(timeout=WAIT_MS)
            page.locator('[data-testid="stVegaLiteChart"]').first.wait_for(timeout=WAIT_MS)
            _shot(page, "phones")
            _open(page, "Model", "Model")
            page.get_by_role("heading", name="Verification of the last export").wait_for(timeout=WAIT_MS)
            _shot(page, "model")
            assert not page.locator('[data-testid="stException"]').count()
        finally:
            browser.close()
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
    (OUT / "e2e_figures.json").write_text(json.dumps(figures, indent=1) + "\n")
    print("preview figures:", json.dumps(figures))
    assert figures["photo_backends"] >= 8
