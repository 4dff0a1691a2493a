"""Frame reuse: a clip through every-frame and two chosen policies, played with overlays, with speedup and fidelity."""

import altair as alt
import pandas as pd
import streamlit as st

from exporter.bench.suite import BenchSettings, find_videos
from exporter.preview import ui
from exporter.preview.bench_figures import last_bench_report, reuse_kind_rows
from exporter.preview.clips import (DISPLAY_WIDTH, MAX_FRAMES, REFERENCE, name_of, player_html, policy_configs,
                                    run_clip, timeline_rows, uploaded_clip)
from exporter.preview.photo import PreviewInputError
from exporter.reuse import POLICIES, ReuseConfig

DEFAULT_DETECTOR = BenchSettings().reuse_backend  # the full-int8 file, as in `make bench`
bundle = ui.bundle_or_stop()
ui.sidebar(bundle)
st.title("Frame reuse")
st.caption("The scheduler of exporter/reuse.py decides per frame to run the model or reuse earlier results. Each "
           "frame goes through every-frame and the two chosen policies with the same detector; fidelity compares "
           "a policy's faces with every-frame's on the same frame (faces matched at IoU 0.5).")


def policy_form(column, label: str, default: str) -> ReuseConfig:
    """A policy and its parameters."""
    base = ReuseConfig()
    with column:
        st.markdown(f"**{label}**")
        policy = st.selectbox("Policy", POLICIES, index=POLICIES.index(default), key=f"{label} policy")
        with st.expander("Parameters"):
            skip = st.number_input("N (skip-N)", 1, 30, base.skip, key=f"{label} skip")
            region = st.number_input("Region change threshold", 0.0, 1.0, base.region_threshold, 0.005,
                                     format="%.3f", key=f"{label} region")
            face = st.number_input("Face change threshold (tracking)", 0.0, 1.0, base.face_threshold, 0.005,
                                   format="%.3f", key=f"{label} face")
            max_reuse = st.number_input("Reuse a result at most (frames)", 0, 60, base.max_reuse, key=f"{label} max")
    return ReuseConfig(policy=policy, skip=int(skip), region_threshold=float(region), face_threshold=float(face),
                       max_reuse=int(max_reuse))


samples = find_videos([ui.paths().videos]) if ui.paths().videos.is_dir() else []
exported = ui.exported_keys(bundle)
with st.form("clip"):
    source = st.radio("Clip", ["Sample clip", "Upload"], horizontal=True)
    sample = st.selectbox("Sample clip", [p.name for p in samples] or ["(no sample clips: upload one)"])
    upload = st.file_uploader("Or upload a clip (mp4, mov, avi, mkv, webm)")
    frames = st.number_input("Frames to process", 10, MAX_FRAMES, 300, 10)
    backend_column, threads_column = st.columns(2)
    key = backend_column.selectbox("Detector", exported,
                                   index=exported.index(DEFAULT_DETECTOR) if DEFAULT_DETECTOR in exported else 0)
    threads = threads_column.radio("Threads", [1, 2], horizontal=True)
    first, second = st.columns(2)
    config_a = policy_form(first, "Policy A", "motion-gated+tracking")
    config_b = policy_form(second, "Policy B", "skip-N")
    started = st.form_submit_button("Run the clip", type="primary")

if started:
    configs = policy_configs([config_a, config_b])
    detector = ui.detector(bundle, key, threads)
    bar = st.progress(0.0, text="processing...")

    def progress(share: float) -> None:
        bar.progress(min(share, 1.0), text=f"processing... {100 * min(share, 1.0):.0f}%")

    try:
        with ui.MODEL_LOCK:
            if source == "Upload":
                if upload is None:
                    raise PreviewInputError("Choose a clip to upload first, or pick a sample clip.")
                with uploaded_clip(upload.getvalue(), upload.name) as path:
                    clip = run_clip(path, detector, configs, int(frames), progress)
                clip.name = upload.name
            else:
                chosen = next((p for p in samples if p.name == sample), None)
                if chosen is None:
                    raise PreviewInputError(f"No sample clips in `{ui.paths().videos}`: upload a clip instead.")
                clip = run_clip(chosen, detector, configs, int(frames), progress)
    except PreviewInputError as error:
        st.error(str(error))
        st.stop()
    except ValueError as error:  # a clip OpenCV cannot decode
        st.error(f"{error}. Try another clip (an H.264 or MPEG-4 mp4 decodes everywhere).")
        st.stop()
    finally:
        bar.empty()
    st.session_state["clip_run"] = (clip, [name_of(configs, config_a), name_of(configs, config_b)], key, threads)

with st.expander("Every policy per kind of clip, from the last `make bench`", expanded=False):
    kind_rows = reuse_kind_rows(last_bench_report(ui.paths().bench_report))
    if kind_rows:
        st.dataframe(pd.DataFrame(kind_rows), hide_index=True)
        st.caption("Targets: at least 0.95 of every-frame's faces kept on every clip; speedup at least 3x on talking "
                   "heads and 2x over all clips (speedup against an every-frame that runs nothing but the model).")
    else:
        st.info("No bench report with frame reuse yet: `make bench` writes one (runs/bench/report.json).")

if "clip_run" not in st.session_state:
    st.info("Pick a clip and two policies, then run it.")
    st.stop()
clip, shown, key, threads = st.session_state["clip_run"]

speed = clip.processing_fps
st.metric(f"{clip.name}: {clip.frames} frames ({clip.width} x {clip.height}) with {key}, {threads} thread(s)",
          f"{speed:.0f} frames/s processed", f"{speed / clip.fps:.1f}x real time at {clip.fps:.0f} fps")
reference = clip.policies[REFERENCE]
st.dataframe(pd.DataFrame([run.summary(reference) for run in clip.policies.values()]), hide_index=True)
st.caption("Speedup: every-frame's mean step time over the policy's (thumbnail, decision, tracking and the model when "
           "it runs; decoding the video is not timed). Fidelity against every-frame on the same frames.")

st.subheader("The clip")
st.iframe(player_html(clip, list(dict.fromkeys(shown))), height=round(DISPLAY_WIDTH * clip.height / clip.width) + 110)

st.subheader("Latency per frame")
timeline = pd.DataFrame(timeline_rows(clip))
st.altair_chart(alt.Chart(timeline).mark_point(filled=True, size=18).encode(
    x="frame:Q", y=alt.Y("ms:Q", title="step ms"), color="policy:N", shape="model:N",
    tooltip=["frame", "policy", "ms", "model"]), width="stretch")
