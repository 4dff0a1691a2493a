"""Bounded, strict JSON: size and depth limits, no NaN/inf in or out, atomic writes; property tests on any input."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exporter.bench.phone import PhoneReportError, load_phone_report
from exporter.export.bundle import load_bundle
from exporter.jsonio import MAX_DEPTH, JsonFileError, dump_json, load_json, nesting_depth, parse_json, write_json
from exporter.postprocess import FRONT_ANCHORS, DecodeConfig, decode_faces, generate_anchors
from exporter.pseudo_labels import PseudoLabelCache
from exporter.train.pools import _detections

ANCHORS = generate_anchors(FRONT_ANCHORS)
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)


@pytest.mark.parametrize("text, complaint", [
    ('{"a": 1e999}', "too large for a 64-bit float"),
    ('{"a": NaN}', "NaN is not a JSON number"),
    ('[Infinity]', "Infinity is not a JSON number"),
    ('{"a": [1, 2', "not valid JSON at line 1"),
    ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), f"nested {MAX_DEPTH + 1} levels deep"),
    ("[" * 100_000, "nested 100000 levels deep"),  # would raise RecursionError in json.loads
    ("1" * 5000, "not valid JSON"),  # an integer of more than 4300 digits
])
def test_bad_text_is_refused_naming_the_file(tmp_path, text, complaint):
    path = tmp_path / "x.json"
    path.write_text(text)
    with pytest.raises(JsonFileError, match=complaint) as info:
        load_json(path, max_bytes=1 << 20, what="test file")
    assert str(path) in str(info.value)


def test_size_is_bounded_before_parsing(tmp_path):
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"pad": "x" * 2000}))
    with pytest.raises(JsonFileError, match="larger than 1 KB, the most FaceKit reads"):
        load_json(path, max_bytes=1024, what="test file")
    assert load_json(path, max_bytes=4096, what="test file")["pad"] == "x" * 2000


def test_unreadable_paths(tmp_path):
    with pytest.raises(JsonFileError, match="cannot read the test file"):
        load_json(tmp_path / "missing.json", max_bytes=100, what="test file")
    with pytest.raises(JsonFileError, match="cannot read the test file"):
        load_json(tmp_path, max_bytes=100, what="test file")  # a folder
    (tmp_path / "latin1.json").write_bytes(b'{"a": "\xe9"}')
    with pytest.raises(JsonFileError, match="not UTF-8"):
        load_json(tmp_path / "latin1.json", max_bytes=100, what="test file")


def test_brackets_inside_strings_do_not_count():
    assert nesting_depth('{"a": "[[[[{{{{", "b": [1, {"c": "]]"}]}') == 3
    assert nesting_depth('"unterminated [[[') == 0


def test_write_refuses_nan_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "out.json"
    write_json(path, {"ok": 1})
    with pytest.raises(ValueError, match=r"rows\[1\]\.ms = nan is not a finite number"):
        write_json(path, {"rows": [{"ms": 1.0}, {"ms": float("nan")}]})
    with pytest.raises(ValueError, match="float32, not a JSON value"):
        dump_json({"x": np.float32(1.0)})
    assert json.loads(path.read_text()) == {"ok": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]  # no temporary file left


def test_written_files_follow_the_umask(tmp_path):
    path = write_json(tmp_path / "m.json", {"a": 1})
    assert path.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    from exporter.atomic import current_umask

    return current_umask()


@PROPERTY
@given(st.binary(max_size=400))
def test_any_bytes_give_a_value_or_a_clear_error(tmp_path, data):
    path = tmp_path / "any.json"
    path.write_bytes(data)
    try:
        load_json(path, max_bytes=300, what="test file")
    except JsonFileError as error:
        assert str(path) in str(error)


@PROPERTY
@given(st.text(alphabet='[]{}",:0123456789.eE+-tfnrulaNIy \\', max_size=300))
def test_any_json_like_text_gives_a_value_or_a_clear_error(text):
    try:
        parse_json(text, source="t", what="test file")
    except JsonFileError as error:
        assert str(error).startswith("t: ")


@PROPERTY
@given(json_values)
def test_write_then_load_round_trips(tmp_path, value):
    path = write_json(tmp_path / "v.json", {"v": value})
    assert load_json(path, max_bytes=1 << 20, what="test file") == {"v": value}


@PROPERTY
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_phone_report_reader_never_raises_anything_else(tmp_path, data):
    path = tmp_path / "phone.json"
    path.write_bytes(data)
    with pytest.raises(PhoneReportError, match=str(path)):
        load_phone_report(path)


special_floats = st.floats(width=32, allow_nan=True, allow_infinity=True)
finite_floats = st.floats(allow_nan=False, allow_infinity=False, width=32)


def _raw_output(data, shape: tuple[int, ...], elements) -> np.ndarray:
    """A random array (seed and scale drawn) with up to 20 entries replaced by drawn values."""
    seed, scale = data.draw(st.integers(0, 2**32 - 1)), data.draw(st.sampled_from([0.0, 1.0, 10.0, 1e3, 1e30]))
    out = (np.random.default_rng(seed).normal(size=shape) * scale).astype(np.float32).reshape(-1)
    for index, value in data.draw(st.lists(st.tuples(st.integers(0, out.size - 1), elements), max_size=20)):
        out[index] = value
    return out.reshape(shape)


@settings(max_examples=20, deadline=None)
@given(st.data())
def test_decode_faces_on_arbitrary_outputs(data):
    """Any raw outputs give well-formed faces, or (for NaN/inf where it matters) a clear ValueError."""
    n = len(ANCHORS)
    elements = data.draw(st.sampled_from([special_floats, finite_floats]))
    regressors = _raw_output(data, (n, 16), elements)
    logits, age, gender = (_raw_output(data, (n,), elements) for _ in range(3))
    threshold = data.draw(st.floats(0.2, 1.0))  # lower ones keep most anchors: slow, and no other code path
    config = DecodeConfig(score_threshold=threshold)
    try:
        faces = decode_faces(regressors, logits, ANCHORS, 128, config, age, gender)
    except ValueError as error:
        assert "NaN or infinite" in str(error)
        assert not (np.isfinite(regressors).all() and np.isfinite(logits).all() and np.isfinite(age).all()
                    and np.isfinite(gender).all())
        return
    assert len(faces) <= n
    scores = [f.score for f in faces]
    assert scores == sorted(scores, reverse=True)
    for face in faces:
        assert threshold <= face.score <= 1.0 or math.isclose(face.score, threshold, rel_tol=1e-6)
        assert face.box.shape == (4,) and face.keypoints.shape == (6, 2)
        assert np.isfinite(face.box).all() and np.isfinite(face.keypoints).all()
        assert math.isfinite(face.age) and 0.0 <= face.female <= 1.0


def test_decode_faces_refuses_nan_scores():
    with pytest.raises(ValueError, match="NaN or infinite"):
        decode_faces(np.zeros((896, 16)), np.full(896, np.nan), ANCHORS, 128)


def test_example_phone_report_still_loads():
    report = load_phone_report(Path(__file__).parent / "data" / "phone_report_example.json")
    assert report["device"]["model"] == "Pixel 7"


@PROPERTY
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_manifest_reader_never_raises_anything_else(tmp_path, data):
    (tmp_path / "manifest.json").write_bytes(data)
    with pytest.raises(ValueError, match="manifest.json is damaged"):
        load_bundle(tmp_path)


@PROPERTY
@given(st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()))
def test_any_pseudo_label_entry_is_used_or_rebuilt(tmp_path, stored):
    cache = PseudoLabelCache("teacher-p", root=tmp_path)
    path = cache.path_for(b"key")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(stored)
    fresh = {"boxes": [], "keypoints": [], "scores": []}
    result = cache.get_or_compute(b"key", lambda: fresh, parse=_detections)
    assert result["boxes"].shape[1:] == (4,) and len(result["boxes"]) == len(result["scores"])
