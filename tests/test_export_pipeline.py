"""End to end: export the shipped checkpoint to every format, verified in LiteRT, onnxruntime and ncnn.

One export of TARGET=all (about a minute) feeds every test here: the manifest against its schema and
the files' sha256, the TFLite op census, the golden vectors, the app installs; and a converter that
crashes must leave the previous bundle untouched.
"""

from __future__ import annotations

import json
from dataclasses import replace

import jsonschema
import numpy as np
import pytest

from exporter.export import bundle
from exporter.export.formats import FORMATS
from exporter.export.pipeline import FAILED, NOT_VERIFIED, VERIFIED, ExportFailed, export
from exporter.paths import DEFAULT_CHECKPOINT
from exporter.postprocess import FRONT_ANCHORS, decode_faces, generate_anchors
from exporter.export.reuse_golden import replay

pytestmark = pytest.mark.needs_data


@pytest.fixture(scope="module")
def manifest(exported) -> dict:
    return json.loads((exported[0] / "manifest.json").read_text())


def test_every_runnable_artifact_verified(exported):
    _, rows, _ = exported
    statuses = {(r.artifact.format, r.artifact.precision): r.status for r in rows}
    assert set(statuses) == {("onnx", "fp32"), ("tflite", "fp32"), ("tflite", "fp16"), ("tflite", "int8-dynamic"),
                             ("tflite", "int8"), ("coreml", "fp16"), ("ncnn", "fp32"), ("ncnn", "fp16")}
    assert FAILED not in statuses.values()
    assert statuses[("coreml", "fp16")] in (VERIFIED, NOT_VERIFIED)
    for row in rows:
        if row.artifact.format != "coreml":
            assert row.status == VERIFIED and row.parity.images >= 50 and row.parity.reference_faces >= 40


def test_parity_thresholds(exported):
    for row in exported[1]:
        p = row.parity
        if p is None:
            continue
        if row.artifact.precision == "fp32":
            assert max(p.max_abs_error.values()) <= 5e-4 and max(p.max_error_over_range.values()) <= 1e-5
        elif row.artifact.precision == "fp16":
            assert max(p.max_error_over_range.values()) <= 5e-3
        else:
            assert p.faces_matched >= 0.98 and p.mean_age_difference <= 1.5 and p.gender_agreement >= 0.97


def test_manifest_schema_and_hashes(exported, manifest):
    folder = exported[0]
    bundle.validate_manifest(manifest)
    for model in manifest["models"]:
        for name, digest in model["files"].items():
            assert bundle.sha256_of(folder / name) == digest
    with pytest.raises(jsonschema.ValidationError):
        bundle.validate_manifest({**manifest, "models": []})
    assert manifest["anchors"]["count"] == 896 and len(manifest["keypoints"]) == 6
    assert (folder / "README.md").read_text().count("manifest.json") >= 1


def test_tflite_census_and_io(manifest):
    tflite = {m["precision"]: m for m in manifest["models"] if m["format"] == "tflite"}
    for precision, model in tflite.items():
        ops = model["checks"]["ops"]
        assert "TRANSPOSE" not in ops
        assert ops["DEPTHWISE_CONV_2D"] == model["checks"]["depthwise_convs_expected"] > 0
        assert [o["name"] for o in model["io"]["outputs"]] == ["regressors", "scores", "age", "gender"]
    assert tflite["fp32"]["checks"]["ops_outside_gpu_set"] == []
    assert tflite["int8"]["checks"]["non_int8_tensors"] == []
    assert tflite["int8"]["io"]["inputs"][0]["dtype"] == "int8" and "scale" in tflite["int8"]["io"]["inputs"][0]
    assert tflite["int8"]["checks"]["calibration_images"] >= 200


def test_fp16_tflite_size_against_mediapipe(exported, assets):
    fp16 = next(r for r in exported[1] if r.artifact.format == "tflite" and r.artifact.precision == "fp16")
    assert fp16.size <= 1.3 * assets["blazeface_short_range.tflite"].stat().st_size


def test_golden_vectors_decode_to_their_faces(exported, manifest):
    anchors = generate_anchors(FRONT_ANCHORS)
    assert len(manifest["golden"]) >= 3
    found = 0
    for entry in manifest["golden"]:
        if entry["file"] == "golden/reuse_traces.json":  # scheduler traces, not model outputs: tested below
            continue
        golden = json.loads((exported[0] / entry["file"]).read_text())
        out = {k: np.asarray(v["data"], np.float32).reshape(v["shape"])[0] for k, v in golden["outputs"].items()}
        faces = decode_faces(out["regressors"], out["scores"], anchors, 128, age_raw=out["age"], gender_logits=out["gender"])
        assert len(faces) == len(golden["faces"])
        for face, expected in zip(faces, golden["faces"]):
            np.testing.assert_allclose(face.box, expected["box"], atol=1e-4)
            assert face.age == pytest.approx(expected["age"], abs=1e-2)
        found += len(faces)
        assert len(golden["input"]["data"]) == 128 * 128 * 3
    assert found >= 3  # one face per sample photo at least


def test_reuse_traces_are_listed_and_replay(exported, manifest):
    entry = next(e for e in manifest["golden"] if e["file"] == "golden/reuse_traces.json")
    path = exported[0] / entry["file"]
    assert bundle.sha256_of(path) == entry["sha256"]
    assert replay(path) == [p["trace"] for p in json.loads(path.read_text())["policies"]]


def test_apps_receive_their_files(exported, manifest):
    _, _, apps = exported
    android = apps / FORMATS["tflite"].app_folder
    assert {p.name for p in android.glob("*.tflite")} == {"facekit_fp32.tflite", "facekit_fp16.tflite",
                                                          "facekit_int8_dynamic.tflite", "facekit_int8.tflite"}
    assert json.loads((android / "manifest.json").read_text())["checkpoint"] == manifest["checkpoint"]
    assert (apps / FORMATS["coreml"].app_folder / "FaceKit.mlpackage").is_dir()
    assert len(list((apps / FORMATS["ncnn"].app_folder).glob("*.bin"))) == 2
    assert not [p for p in apps.rglob(".*")]  # no temporary files left


def test_crashing_converter_leaves_previous_bundle(exported, datasets, monkeypatch):
    folder = exported[0]
    before = {p.relative_to(folder): bundle.sha256_of(p) for p in folder.rglob("*") if p.is_file()}
    monkeypatch.setitem(FORMATS, "tflite", replace(FORMATS["tflite"], converter="exporter.export.no_such_converter"))
    with pytest.raises(ExportFailed, match="tflite conversion failed"):
        export("all", DEFAULT_CHECKPOINT, datasets, folder.parent, app_root=None, log=lambda *_: None)
    after = {p.relative_to(folder): bundle.sha256_of(p) for p in folder.rglob("*") if p.is_file()}
    assert after == before
    assert [p.name for p in folder.parent.iterdir()] == ["all"]  # no staging folder left
