"""Photo: every backend the host can run on one picture, side by side, with faces, latency and differences."""

import time

import pandas as pd
import streamlit as st

from exporter.assets import ASSETS, asset_path
from exporter.postprocess import DecodeConfig
from exporter.preview import ui
from exporter.preview.photo import (TIMED_RUNS, PreviewInputError, annotate, decode_image, face_rows, for_display,
                                    latency_rows, run_photo, unmatched)

SAMPLES = [name for name, asset in ASSETS.items() if asset.purpose.startswith("sample photo")]
COLUMNS = 3

bundle = ui.bundle_or_stop()
ui.sidebar(bundle)
st.title("Photo")
st.caption("Every backend the host can run, through the same letterbox and decoding (exporter/detector.py). "
           "Boxes are green with the 6 keypoints; a red frame marks a face that some backend did not find.")

keys = ui.backend_keys(bundle)
defaults = DecodeConfig()
with st.sidebar:
    threshold = st.slider("Score threshold", 0.05, 0.95, defaults.score_threshold, 0.05)
    nms_iou = st.slider("NMS IoU", 0.1, 0.9, defaults.iou_threshold, 0.05)
    threads = st.radio("Threads", [1, 2, 4], horizontal=True)
    chosen = st.multiselect("Backends", keys, default=keys)

source = st.radio("Picture", ["Sample photo", "Upload", "Camera"], horizontal=True)
if source == "Sample photo":
    name = st.selectbox("Sample photo", SAMPLES)
    data = asset_path(name).read_bytes()
elif source == "Upload":
    upload = st.file_uploader("Photo (JPEG, PNG, BMP or WebP, up to 40 megapixels)")
    if upload is None:
        st.info("Upload a photo with faces to run it through every backend.")
        st.stop()
    name, data = upload.name, upload.getvalue()
else:
    shot = st.camera_input("Take a photo")
    if shot is None:
        st.stop()
    name, data = "camera photo", shot.getvalue()

try:
    image = decode_image(data, name)
except PreviewInputError as error:
    st.error(str(error))
    st.stop()
if not chosen:
    st.info("Choose at least one backend in the sidebar.")
    st.stop()

backends = ui.cached_backends(bundle, threads, chosen)
with ui.MODEL_LOCK:
    start = time.perf_counter()
    results = run_photo(backends, image, DecodeConfig(score_threshold=threshold, iou_threshold=nms_iou))
    wall = time.perf_counter() - start
missing = unmatched(results)
st.caption(f"{name}: {image.shape[1]} x {image.shape[0]} pixels through {len(results)} backends in {wall:.2f} s "
           f"(models loaded; {TIMED_RUNS} timed runs each, medians shown).")

differs = {r.backend: sum(bool(m) for m in missing[r.backend]) for r in results}
if any(differs.values()):
    st.warning("The backends differ: " + "; ".join(f"{k} has {n} face(s) that another backend did not find"
                                                    for k, n in differs.items() if n))
elif results[0].faces:
    st.success(f"Every backend found the same {len(results[0].faces)} face(s) (boxes overlapping by IoU 0.5 or more).")

for row_start in range(0, len(results), COLUMNS):
    for column, result in zip(st.columns(COLUMNS), results[row_start:row_start + COLUMNS]):
        flags = [bool(m) for m in missing[result.backend]]
        column.image(for_display(annotate(image, result.faces, flags)), width="stretch", output_format="JPEG",
                     caption=f"{result.backend}: {len(result.faces)} face(s), {1000 * result.times.total:.2f} ms")

st.subheader("Latency on this photo")
table = pd.DataFrame(latency_rows(results))
st.bar_chart(table.melt(id_vars="backend", value_vars=["pre ms", "infer ms", "post ms"], var_name="stage",
                        value_name="ms"), x="backend", y="ms", color="stage", horizontal=True)
st.dataframe(table, hide_index=True)

st.subheader("Faces")
faces = [{"backend": r.backend, **row} for r in results for row in face_rows(r, missing[r.backend])]
if faces:
    st.dataframe(pd.DataFrame(faces), hide_index=True)
else:
    st.info("No backend found a face at this score threshold.")
