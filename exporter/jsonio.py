"""Bounded, strict JSON files: reads limited in size and nesting depth, writes atomic and valid (no NaN or inf)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from exporter.atomic import atomic_write

MAX_DEPTH = 64  # nesting of objects and arrays; FaceKit's own files use at most 6
KB, MB = 1 << 10, 1 << 20
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*+"?', re.DOTALL)  # possessive, closing quote optional: linear time
_BRACKETS = re.compile(r"[\[\]{}]")


class JsonFileError(ValueError):
    """A JSON file that cannot be read or written, with the file, the reason and what to do."""


def _finite_float(text: str) -> float:
    """parse_float that refuses numbers too large for a float (1e999 would become inf)."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is too large for a 64-bit float")
    return value


def _refuse_constant(name: str) -> Any:
    """JSON has no NaN or Infinity."""
    raise ValueError(f"{name} is not a JSON number")


def nesting_depth(text: str) -> int:
    """Deepest nesting of objects and arrays in JSON text (brackets inside strings do not count)."""
    depth = deepest = 0
    for match in _BRACKETS.finditer(_STRINGS.sub('""', text)):
        depth += 1 if match.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def parse_json(text: str, *, source: str, what: str) -> Any:
    """Parse JSON text strictly (depth at most MAX_DEPTH, finite numbers only); errors name the source."""
    fix = f"replace {source} with a valid {what}"
    depth = nesting_depth(text)
    if depth > MAX_DEPTH:
        raise JsonFileError(f"{source}: nested {depth} levels deep, more than the {MAX_DEPTH} FaceKit reads; {fix}")
    try:
        return json.loads(text, parse_float=_finite_float, parse_constant=_refuse_constant)
    except json.JSONDecodeError as e:
        raise JsonFileError(f"{source}: not valid JSON at line {e.lineno} column {e.colno}: {e.msg} "
                            f"(a truncated or edited file?); {fix}") from None
    except (ValueError, RecursionError) as e:  # NaN/Infinity, huge numbers, integers of over 4300 digits
        raise JsonFileError(f"{source}: not valid JSON: {str(e)[:200]}; {fix}") from None


def load_json(path: Path, *, max_bytes: int, what: str) -> Any:
    """Read a JSON file of at most max_bytes; JsonFileError says which file, what is wrong and what to do."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as e:
        reason = e.strerror or str(e)
        raise JsonFileError(f"{path}: cannot read the {what} ({reason}); check the path") from None
    if len(data) > max_bytes:
        raise JsonFileError(f"{path}: the {what} is larger than {_size(max_bytes)}, the most FaceKit reads "
                            f"(no {what} is that large: is it the right file?)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise JsonFileError(f"{path}: cannot read the {what} (not UTF-8 text at byte {e.start}); "
                            f"replace it with a valid {what}") from None
    return parse_json(text, source=str(path), what=what)


def _size(n: int) -> str:
    return f"{n / MB:g} MB" if n >= MB else f"{n / KB:g} KB" if n >= KB else f"{n} bytes"


def _first_bad_value(data: Any, where: str = "") -> tuple[str, Any] | None:
    """(JSON path, value) of the first value JSON cannot hold: NaN, inf or a non-JSON type."""
    if isinstance(data, dict):
        for key, value in data.items():
            if not isinstance(key, str):
                return f"{where}.{key!r}" if where else repr(key), key
            found = _first_bad_value(value, f"{where}.{key}" if where else key)
            if found:
                return found
        return None
    if isinstance(data, (list, tuple)):
        for i, value in enumerate(data):
            found = _first_bad_value(value, f"{where}[{i}]")
            if found:
                return found
        return None
    if isinstance(data, float) and not math.isfinite(data):
        return where or "(top level)", data
    if data is None or isinstance(data, (str, int, float, bool)):
        return None
    return where or "(top level)", data


def dump_json(data: Any, indent: int | None = 1) -> str:
    """JSON text (with a final newline); ValueError naming the first NaN, inf or non-JSON value."""
    bad = _first_bad_value(data)
    if bad is not None:
        where, value = bad
        kind = "is not a finite number" if isinstance(value, float) else f"is a {type(value).__name__}, not a JSON value"
        raise ValueError(f"cannot write JSON: {where} = {value!r} {kind}")
    separators = None if indent is not None else (",", ":")
    return json.dumps(data, indent=indent, separators=separators, ensure_ascii=False, allow_nan=False) + "\n"


def write_json(path: Path, data: Any, indent: int | None = 1) -> Path:
    """Write valid JSON atomically (whole or not at all); ValueError before anything is written if it cannot be."""
    text = dump_json(data, indent)
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
