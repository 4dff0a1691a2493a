"""Latency: `facekit bench`'s timing, live, for the chosen backends and thread counts, beside the last `make bench`."""

import pandas as pd
import streamlit as st

from exporter.assets import asset_path
from exporter.bench.suite import LATENCY_PHOTO
from exporter.image_io import read_rgb
from exporter.preview import ui
from exporter.preview.bench_figures import chart_rows, last_bench_report, live_rows, table_rows

bundle = ui.bundle_or_stop()
ui.sidebar(bundle)
st.title("Latency")
st.caption(f"The timing of `facekit bench` on {LATENCY_PHOTO}: pre-processing, inference and decoding timed "
           "separately, runs interleaved across backends in 5 rounds after warm-up, median and p90, and the "
           "inference time as a ratio to MediaPipe's BlazeFace at the same thread count.")

keys = ui.backend_keys(bundle)
with st.form("timing"):
    chosen = st.multiselect("Backends", keys, default=keys)
    threads = st.multiselect("Thread counts", [1, 2, 4], default=[1])
    runs = st.slider("Timed runs per backend and thread count", 10, 200, 20, 10,
                     help="`make bench` times 200 runs at 1 and 2 threads; a first look needs fewer")
    started = st.form_submit_button("Run the timing", type="primary")

if started or "latency_rows" not in st.session_state:
    if not chosen or not threads:
        st.info("Choose at least one backend and one thread count.")
        st.stop()
    backends = [b for n in sorted(threads) for b in ui.cached_backends(bundle, n, chosen)]
    bar = st.progress(0.0, text=f"timing {len(backends)} backend/thread combinations...")
    with ui.MODEL_LOCK:
        rows = live_rows(backends, read_rgb(asset_path(LATENCY_PHOTO)), runs,
                         lambda share: bar.progress(share, text=f"timing... {100 * share:.0f}%"))
    bar.empty()
    st.session_state["latency_rows"] = rows
rows = st.session_state["latency_rows"]

report = last_bench_report(ui.paths().bench_report)
chart = pd.DataFrame(chart_rows(rows, report))
left, right = st.columns([3, 2])
with left:
    st.subheader("Median inference, ms")
    st.bar_chart(chart, x="backend", y="infer median ms", color="source", stack=False, horizontal=True)
with right:
    st.subheader("Last `make bench`")
    if report is None:
        st.info(f"No bench report at `{ui.paths().bench_report}`: run `make bench` to show its figures here.")
    else:
        st.caption(f"{report.get('created', '?')} on {report.get('host', {}).get('cpu', '?')}, "
                   f"{report.get('settings', {}).get('runs', '?')} runs per backend.")
        st.dataframe(pd.DataFrame(table_rows(report["latency"]))[["backend", "threads", "infer median ms",
                                                                   "infer x MediaPipe"]], hide_index=True)
st.subheader("This run")
st.dataframe(pd.DataFrame(table_rows(rows)), hide_index=True)
