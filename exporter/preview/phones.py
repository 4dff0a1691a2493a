"""Phones page logic: read an uploaded phone report with the bench's validation, list stored ones, table rows."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from exporter.bench.phone import PhoneReportError, compare, load_phone_report

MAX_REPORT_MB = 5


def read_uploaded_report(data: bytes, name: str) -> dict:
    """Validate an uploaded report (checked like `facekit bench --import`); PhoneReportError names each problem."""
    if len(data) > MAX_REPORT_MB * 1024 * 1024:
        raise PhoneReportError(f"{name}: {len(data) / 2**20:.0f} MB is far too large for a phone report "
                               f"(at most {MAX_REPORT_MB} MB); upload the JSON file the FaceKit app wrote.")
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).name) or "report.json"
    with tempfile.TemporaryDirectory(prefix="facekit-preview-") as folder:
        path = Path(folder) / safe
        path.write_bytes(data)
        try:
            return load_phone_report(path)
        except PhoneReportError as error:  # name the upload, not the temporary file
            raise PhoneReportError(str(error).replace(str(path), name)) from None


def stored_reports(folder: Path) -> dict[str, Path]:
    """Reports stored by `facekit bench --import`, by file name."""
    return {p.name: p for p in sorted(Path(folder).glob("*.json"))} if Path(folder).is_dir() else {}


def device_label(report: dict) -> str:
    """'Pixel 7 (Android 14), 2025-03-14': tells reports apart in tables and charts."""
    device = report["device"]
    return f"{device['model']} ({device['os']}), {report['created'][:10]}"


def latency_rows(reports: dict[str, dict], host: dict) -> list[dict]:
    """Per device and phone latency row: phone figures beside the host's (same backend and threads)."""
    rows = []
    for label, report in reports.items():
        for row in compare(host, report):
            rows.append({"device": label, **row})
    return rows


def chart_rows(reports: dict[str, dict], host: dict) -> list[dict]:
    """Median inference per backend: one bar per device, delegate and threads, and the host's for those backends."""
    several = len(reports) > 1
    rows = [{"backend": r["backend"], "infer median ms": r["infer_ms"]["median"],
             "run": f"{label + ': ' if several else ''}{r['delegate']}, {r['threads']} thread(s)"}
            for label, report in reports.items() for r in report["latency"]]
    backends = {r["backend"] for r in rows}
    rows += [{"backend": r["backend"], "infer median ms": r["infer_ms"]["median"], "run": f"host, {r['threads']} thread(s)"}
             for r in host.get("latency", []) if r["backend"] in backends]
    return rows


def reuse_rows(reports: dict[str, dict]) -> list[dict]:
    """The frame-reuse rows of the reports that have them, with the speedup over every-frame on the same device."""
    rows = []
    for label, report in reports.items():
        reuse = report.get("reuse", [])
        every = next((r["mean_ms"] for r in reuse if r["policy"] == "every-frame"), None)
        for row in reuse:
            speedup = every / row["mean_ms"] if every and row["mean_ms"] > 0 else None
            rows.append({"device": label, **row, "speedup": None if speedup is None else round(speedup, 2)})
    return rows
