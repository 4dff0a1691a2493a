"""Phone benchmark reports from the sample apps: validate, compare with the host report, store."""

from __future__ import annotations

import itertools
import re
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

from exporter.atomic import atomic_write
from exporter.bench.latency import MEDIAPIPE
from exporter.jsonio import MB, JsonFileError, dump_json, load_json

SCHEMA_ID = "facekit-phone-bench/1"
SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schemas" / "phone_bench.schema.json"
SCHEMA_SHOWN = "exporter/schemas/phone_bench.schema.json"
MAX_SHOWN = 5
MAX_REPORT_BYTES = 1 * MB  # a report of every backend, delegate and thread count is about 20 KB
MAX_SLUG = 60  # characters of the device name kept in the stored file's name
STAGES = ("pre_ms", "infer_ms", "post_ms")
FIX_HINT = ("Write it again with the FaceKit sample app or fix the field; "
            f"the schema is {SCHEMA_SHOWN}")


class PhoneReportError(ValueError):
    """A phone benchmark report that cannot be read or breaks its schema."""


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    """The schema's validator (loaded once)."""
    schema = load_json(SCHEMA_FILE, max_bytes=MAX_REPORT_BYTES, what="JSON schema")
    return jsonschema.Draft202012Validator(schema)  # "created" is checked in Python, whatever is installed


def _json_path(parts: Any) -> str:
    """`latency[2].infer_ms.median` for the path elements ('(top level)' for none)."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _sort_key(parts: list) -> tuple:
    """Orders paths with numbers and names mixed."""
    return tuple((0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in parts)


def _error_path(error: jsonschema.ValidationError) -> list:
    """The error's path, down to the missing or unexpected property where there is one."""
    parts = list(error.absolute_path)
    if isinstance(error.instance, dict):
        if error.validator == "required":
            names = [n for n in error.validator_value if n not in error.instance and repr(n) in error.message]
            parts += names[:1]
        elif error.validator == "additionalProperties":
            known = error.schema.get("properties", {})
            extra = [k for k in error.instance if k not in known]
            parts += extra[:1] if len(extra) == 1 else []
    return parts


def _fail(path: Path, problems: list[tuple[list, str]]) -> None:
    """Raise PhoneReportError listing up to MAX_SHOWN (path, complaint) pairs."""
    problems = sorted(problems, key=lambda p: (_sort_key(p[0]), p[1]))
    lines = [f"  - {_json_path(parts)}: {msg if len(msg) <= 200 else msg[:197] + '...'}"
             for parts, msg in problems[:MAX_SHOWN]]
    if len(problems) > MAX_SHOWN:
        lines.append(f"  (and {len(problems) - MAX_SHOWN} more)")
    noun = "problem" if len(problems) == 1 else "problems"
    raise PhoneReportError(f"{path}: not a valid FaceKit phone report ({len(problems)} {noun}):\n"
                           + "\n".join(lines) + f"\n{FIX_HINT}")


def _semantic_problems(report: dict) -> list[tuple[list, str]]:
    """Checks the schema cannot express: date-time, p90 >= median, model_runs <= frames, unique rows."""
    problems: list[tuple[list, str]] = []
    try:
        datetime.fromisoformat(report["created"].upper().replace(" ", "T"))
    except ValueError as e:
        problems.append((["created"], f"{report['created']!r} is not a valid date-time ({e})"))
    seen: dict[tuple, int] = {}
    for i, row in enumerate(report["latency"]):
        for stage in STAGES:
            t = row[stage]
            if t["p90"] < t["median"]:
                problems.append((["latency", i, stage, "p90"], f"p90 {t['p90']} is below the median {t['median']}"))
        key = (row["backend"], row["delegate"], row["threads"])
        if key in seen:
            problems.append((["latency", i], f"duplicate row: backend {key[0]!r}, delegate {key[1]!r}, "
                                             f"threads {key[2]} already in latency[{seen[key]}]"))
        else:
            seen[key] = i
    for i, row in enumerate(report.get("reuse", [])):
        if row["model_runs"] > row["frames"]:
            problems.append((["reuse", i, "model_runs"],
                             f"model_runs {row['model_runs']} is more than frames {row['frames']}"))
    return problems


def load_phone_report(path: Path) -> dict:
    """Read and validate a phone report; raise PhoneReportError saying what is wrong, where, and what to do."""
    try:
        report = load_json(path, max_bytes=MAX_REPORT_BYTES, what="phone report")
    except JsonFileError as e:
        raise PhoneReportError(f"{e}.\n{FIX_HINT}") from None
    errors = list(_validator().iter_errors(report))
    if errors:
        _fail(Path(path), [(_error_path(e), e.message) for e in errors])
    problems = _semantic_problems(report)
    if problems:
        _fail(Path(path), problems)
    return report


def _ratio(num: float | None, den: float | None) -> float | None:
    """num / den, or None when either is missing or den is not positive."""
    return None if num is None or den is None or den <= 0 else num / den


def compare(host: dict, phone: dict) -> list[dict]:
    """One row per phone latency row, beside the host's row with the same backend and thread count."""
    host_rows: dict[tuple, dict] = {}
    for row in host.get("latency", []):
        host_rows.setdefault((row["backend"], row["threads"]), row)
    mediapipe = {(r["delegate"], r["threads"]): r["infer_ms"]["median"]
                 for r in phone["latency"] if r["backend"] == MEDIAPIPE}
    out = []
    for row in phone["latency"]:
        infer = row["infer_ms"]["median"]
        h = host_rows.get((row["backend"], row["threads"]))
        host_infer = h["infer_ms"]["median"] if h else None
        out.append({
            "backend": row["backend"],
            "delegate": row["delegate"],
            "threads": row["threads"],
            "phone_infer_ms": infer,
            "phone_total_ms": sum(row[s]["median"] for s in STAGES),
            "host_infer_ms": host_infer,
            "host_total_ms": h["total_ms"]["median"] if h else None,
            "phone_to_host_infer": _ratio(infer, host_infer),
            "phone_ratio_to_mediapipe": _ratio(infer, mediapipe.get((row["delegate"], row["threads"]))),
        })
    return out


def _cell(value: Any, digits: int = 2) -> str:
    """A table cell: '—' for None, floats rounded."""
    if value is None:
        return "—"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def render_comparison(host: dict, phone: dict) -> str:
    """Markdown: a header line naming the phone and the host machine, then the compare() table."""
    dev, app = phone["device"], phone["app"]
    extra = ", ".join(str(x) for x in (dev.get("os"), dev.get("soc"),
                                       f"{dev['cores']} cores" if "cores" in dev else None) if x)
    header = (f"Phone: **{dev['model']}** ({extra}), FaceKit {app['platform']} app {app['version']}, "
              f"{phone['created']} — host: **{host.get('host', {}).get('cpu', '—')}**")
    cols = ["backend", "delegate", "threads", "phone infer ms", "phone total ms", "host infer ms",
            "host total ms", "phone / host infer", "phone / MediaPipe infer"]
    lines = [header, "", "| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for r in compare(host, phone):
        cells = [r["backend"], r["delegate"], r["threads"], r["phone_infer_ms"], r["phone_total_ms"],
                 r["host_infer_ms"], r["host_total_ms"], r["phone_to_host_infer"], r["phone_ratio_to_mediapipe"]]
        lines.append("| " + " | ".join(_cell(float(c) if isinstance(c, int) and i >= 3 else c)
                                       for i, c in enumerate(cells)) + " |")
    lines.append("")
    lines.append("Medians in ms; total = pre + infer + post. Host rows match on backend and thread count; "
                 "the MediaPipe ratio uses the phone's mediapipe-short row with the same delegate and threads.")
    return "\n".join(lines) + "\n"


def _slug(text: str) -> str:
    """Lower-case letters and digits joined by single dashes, at most MAX_SLUG characters ('phone' when nothing is left)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower())[:MAX_SLUG].strip("-") or "phone"


def store_phone_report(report_dir: Path, phone: dict) -> Path:
    """Write the report to report_dir/phones/<device-slug>-<created date>[-N].json atomically; return the path.

    The same report imported again lands on its earlier file; another report whose name and date clean to the
    same file name gets the next free -N, so no report overwrites another.
    """
    folder = Path(report_dir) / "phones"
    folder.mkdir(parents=True, exist_ok=True)
    date = datetime.fromisoformat(phone["created"].upper().replace(" ", "T")).date().isoformat()
    text = dump_json(phone, indent=2)
    stem = f"{_slug(phone['device']['model'])}-{date}"
    for n in itertools.count(1):
        target = folder / (f"{stem}.json" if n == 1 else f"{stem}-{n}.json")
        if not target.exists() or target.read_text(encoding="utf-8", errors="replace") == text:
            break
    atomic_write(target, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return target
