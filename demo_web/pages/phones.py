"""Phones: on-device latency from the sample apps' benchmark reports, per delegate, beside the host figures."""

import pandas as pd
import streamlit as st

from exporter.bench.phone import PhoneReportError, load_phone_report
from exporter.preview import ui
from exporter.preview.bench_figures import last_bench_report
from exporter.preview.phones import (chart_rows, device_label, latency_rows, read_uploaded_report, reuse_rows,
                                     stored_reports)

st.title("Phones")
st.caption("The FaceKit sample apps write their benchmark as JSON (exporter/schemas/phone_bench.schema.json). "
           "Upload one, or pick reports stored by `facekit bench --import FILE`; several reports compare devices.")

where = ui.paths()
stored = stored_reports(where.phone_reports)
picked = st.multiselect("Stored reports", list(stored), default=list(stored),
                        help=f"from {where.phone_reports}" if stored else "none stored yet")
uploads = st.file_uploader("Upload phone reports (JSON)", accept_multiple_files=True)

reports: dict[str, dict] = {}
for name in picked:
    try:
        report = load_phone_report(stored[name])
        reports[device_label(report)] = report
    except PhoneReportError as error:
        st.error(str(error))
for upload in uploads or []:
    try:
        report = read_uploaded_report(upload.getvalue(), upload.name)
        reports[device_label(report)] = report
    except PhoneReportError as error:
        st.error(str(error))

if not reports:
    hint = "" if stored else f", or store one with `facekit bench --import FILE` (into `{where.phone_reports}`)"
    st.info(f"No phone report yet: upload the JSON a sample app wrote{hint}.")
    st.stop()

host = last_bench_report(where.bench_report) or {}
if not host:
    st.info(f"No host report at `{where.bench_report}`: run `make bench` to see host figures beside the phones'.")
rows = pd.DataFrame(latency_rows(reports, host))
st.subheader("Inference on the phones, by delegate, and on this host")
st.bar_chart(pd.DataFrame(chart_rows(reports, host)), x="backend", y="infer median ms", color="run", stack=False,
             horizontal=True)
st.dataframe(rows.rename(columns=lambda c: c.replace("_", " ")), hide_index=True)
st.caption("Medians in ms; total = pre + infer + post. Host rows match on backend and thread count; the MediaPipe "
           "ratio uses the phone's mediapipe-short row with the same delegate and threads.")

reuse = reuse_rows(reports)
if reuse:
    st.subheader("Frame reuse on the phones")
    st.dataframe(pd.DataFrame(reuse), hide_index=True)
for label, report in reports.items():
    with st.expander(f"{label}: device and app"):
        st.json({k: report[k] for k in ("created", "device", "app") if k in report})
