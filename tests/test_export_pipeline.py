"""End to end: export the shipped checkpoint to every format, verified in LiteRT, onnxruntime, ncnn, OpenCV DNN, MNN
and ExecuTorch.

One export of TARGET=all with the built-in image set (what a fresh clone without datasets gets; about a minute)
feeds every test here: the manifest against its schema and the files' sha256, the TFLite op census, the contract
folder against the committed tests/golden, the metadata embedded in each model file, the app installs; and a
converter that crashes must leave the previous bundle untouched.
"""

from __future__ import annotations

import json
from dataclasses import replace

import jsonschema
import numpy as np
import pytest

from exporter.digest import sha256_of
from exporter.export import bundle, pipeline
from exporter.export.artifacts import Artifact
from exporter.export.formats import FORMATS, formats_for
from exporter.commands.golden import GOLDEN_DIR
from exporter.export.contract import TOLERANCES, compare_faces, read_outputs
from exporter.export.embedded import read_coreml, read_executorch, read_onnx, read_tflite
from exporter.export.pipeline import CONTRACT_FOLDER, FAILED, NOT_VERIFIED, VERIFIED, ExportFailed, export
from exporter.paths import DEFAULT_CHECKPOINT
from exporter.postprocess import Face


@pytest.fixture(scope="module")
def manifest(exported) -> dict:
    return json.loads((exported[0] / "manifest.json").read_text())


def test_every_runnable_artifact_verified(exported):
    _, rows, _ = exported
    statuses = {(r.artifact.format, r.artifact.precision): r.status for r in rows}
    assert set(statuses) == {("onnx", "fp32"), ("tflite", "fp32"), ("tflite", "fp16"), ("tflite", "int8-dynamic"),
                             ("tflite", "int8"), ("coreml", "fp16"), ("ncnn", "fp32"), ("ncnn", "fp16"),
                             ("opencv", "fp32"), ("mnn", "fp32"), ("mnn", "fp16"), ("mnn", "int8-dynamic"),
                             ("mnn", "int8"), ("executorch", "fp32"), ("executorch", "int8")}
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


def test_a_qat_checkpoints_int8_tflite_is_judged_against_its_int8_forward(exported):
    from exporter.checkpoint import load_model
    from exporter.compress.qat import simulated_int8
    from exporter.export.images import export_images
    from exporter.runner import torch_runner

    folder, rows, _ = exported
    calibration, verification = export_images(None, calibrate=True)  # the built-in set, as `exported` used
    model = load_model(DEFAULT_CHECKPOINT)[0]
    images = verification.squares
    reference = torch_runner(load_model(DEFAULT_CHECKPOINT, fold_batchnorm=True)[0])(images)
    simulated = torch_runner(simulated_int8(model, calibration.squares))(images)
    int8_rows = [r for r in rows if r.artifact.precision.startswith("int8")]
    judged = {(r.artifact.format, r.artifact.precision): r for r in pipeline.verify(
        [r.artifact for r in int8_rows], folder, images, reference, simulated)}
    assert judged[("tflite", "int8")].status == VERIFIED
    assert judged[("tflite", "int8")].note == "against the QAT model's int8 forward"
    assert judged[("tflite", "int8-dynamic")].note == "" and judged[("mnn", "int8")].note == ""
    older = [simulated[0], simulated[1], simulated[2] + 0.1, simulated[3]]  # every age 10 years more (years = 100 x raw)
    judged = {(r.artifact.format, r.artifact.precision): r for r in pipeline.verify(
        [r.artifact for r in int8_rows], folder, images, reference, older)}
    assert judged[("tflite", "int8")].status == FAILED and "mean age difference" in judged[("tflite", "int8")].note
    assert all(r.status == VERIFIED for key, r in judged.items() if key != ("tflite", "int8"))


def test_the_qat_simulation_is_nearer_the_int8_file_than_the_float_model(exported):
    from exporter.compress.qat_fidelity import mean_differences
    from exporter.runner import litert_runner

    differences = mean_differences(DEFAULT_CHECKPOINT, litert_runner(exported[0] / "facekit_int8.tflite"), None)
    for output, simulated in differences["simulated"].items():
        assert simulated < differences["float"][output], output


def test_manifest_schema_and_hashes(exported, manifest):
    folder = exported[0]
    bundle.validate_manifest(manifest)
    for model in manifest["models"]:
        for name, digest in model["files"].items():
            assert sha256_of(folder / name) == digest
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
    # the int8 files read the image through SpaceToDepth (stem_rewrite), the float files through the 5x5 stem
    assert {p: m["checks"]["ops"].get("SPACE_TO_DEPTH", 0) for p, m in tflite.items()} == {
        "fp32": 0, "fp16": 0, "int8-dynamic": 1, "int8": 1}
    assert tflite["int8"]["checks"]["non_int8_tensors"] == []
    assert tflite["int8"]["io"]["inputs"][0]["dtype"] == "int8" and "scale" in tflite["int8"]["io"]["inputs"][0]
    assert tflite["int8"]["checks"]["calibration_images"] >= 200


def test_fp16_tflite_size_against_mediapipe(exported, assets):
    fp16 = next(r for r in exported[1] if r.artifact.format == "tflite" and r.artifact.precision == "fp16")
    assert fp16.size <= 1.3 * assets["blazeface_short_range.tflite"].stat().st_size


def test_bundle_contract_is_the_committed_one(exported):
    """The export's contract/ folder equals tests/golden: same photos and squares, outputs and faces within tolerance."""
    contract, golden = exported[0] / CONTRACT_FOLDER, GOLDEN_DIR
    assert sorted(p.name for p in contract.iterdir()) == sorted(p.name for p in golden.iterdir())
    for name in [p.name for p in golden.glob("*.png")] + ["reuse_traces.json"]:
        assert (contract / name).read_bytes() == (golden / name).read_bytes(), name
    made, committed = (json.loads((folder / "contract.json").read_text()) for folder in (contract, golden))
    assert {k: v for k, v in made.items() if k != "cases"} == {k: v for k, v in committed.items() if k != "cases"}
    for new, old in zip(made["cases"], committed["cases"]):
        assert {k: new[k] for k in ("name", "letterbox", "float_input_sha256", "recipe")} == \
               {k: old[k] for k in ("name", "letterbox", "float_input_sha256", "recipe")}
        for got, want in zip(read_outputs(contract, new, made), read_outputs(golden, old, committed)):
            assert np.abs(got - want).max() <= TOLERANCES["raw_outputs_fp32"] * max(float(np.ptp(want)), 1e-6)
        assert compare_faces([Face.from_dict(f) for f in new["faces_input"]], old["faces_input"]) == []


def test_model_files_describe_themselves_as_the_manifest_does(exported, manifest):
    folder = exported[0]
    readers = {"tflite": lambda path: read_tflite(path)["description"], "onnx": read_onnx, "coreml": read_coreml,
               "executorch": read_executorch}
    checked = 0
    for model in manifest["models"]:
        if model["format"] not in readers:
            continue  # ncnn and MNN files have no metadata field
        embedded = readers[model["format"]](folder / model["file"])
        assert embedded == {key: manifest[key] for key in embedded}, model["file"]
        checked += 1
    assert checked == 8
    tflite = read_tflite(folder / "facekit_int8.tflite")
    assert tflite["normalisation"] == {"mean": [manifest["input"]["mean"]], "std": [manifest["input"]["std"]]}
    assert tflite["outputs"] == [o["name"] for o in manifest["outputs"]]


def test_verification_says_which_images_it_used(manifest):
    assert manifest["verification"]["source"].startswith("built-in set")
    assert manifest["verification"]["calibration"].startswith("built-in set (calibration): 1000 windows")


def test_apps_receive_their_files(exported, manifest):
    _, _, apps = exported
    android = apps / FORMATS["tflite"].app_folder
    assert {p.name for p in android.glob("*.tflite")} == {"facekit_fp32.tflite", "facekit_fp16.tflite",
                                                          "facekit_int8_dynamic.tflite", "facekit_int8.tflite"}
    assert json.loads((android / "manifest.json").read_text())["checkpoint"] == manifest["checkpoint"]
    assert (apps / FORMATS["coreml"].app_folder / "FaceKit.mlpackage").is_dir()
    assert len(list((apps / FORMATS["ncnn"].app_folder).glob("*.bin"))) == 2
    assert not [p for p in apps.rglob(".*")]  # no temporary files left


def test_crashing_converter_leaves_previous_bundle(exported, monkeypatch):
    folder = exported[0]
    before = {p.relative_to(folder): sha256_of(p) for p in folder.rglob("*") if p.is_file()}
    for name in set(FORMATS) - {"onnx", "tflite"}:  # ONNX (the source) and a crashing TFLite: the rest only cost time
        monkeypatch.delitem(FORMATS, name)
    monkeypatch.setitem(FORMATS, "tflite", replace(FORMATS["tflite"], converter="exporter.export.no_such_converter"))
    with pytest.raises(ExportFailed, match="tflite conversion failed"):
        export("all", DEFAULT_CHECKPOINT, None, folder.parent, app_root=None, log=lambda *_: None)
    after = {p.relative_to(folder): sha256_of(p) for p in folder.rglob("*") if p.is_file()}
    assert after == before
    assert [p.name for p in folder.parent.iterdir()] == ["all"]  # no staging folder left


def _recording_converter(started: list, failing: str | None = None):
    def convert(fmt, precisions, checkpoint, staging, calibration, log, threads=None):
        started.append((fmt.name, threads))
        if fmt.name == failing:
            raise ExportFailed(f"{fmt.name} conversion failed (exit 1)")
        return [Artifact(fmt.name, p, fmt.artifact_name(p), [fmt.artifact_name(p)]) for p in precisions]
    return convert


def test_converters_run_slowest_first_on_a_share_of_the_cores_and_report_in_table_order(monkeypatch, tmp_path):
    started = []
    monkeypatch.setattr(pipeline, "run_converter", _recording_converter(started))
    monkeypatch.setattr(pipeline.os, "cpu_count", lambda: 2)
    formats = formats_for("all")
    chosen = {f.name: f.precisions for f in formats}
    artifacts = pipeline.run_converters(formats, chosen, tmp_path / "m.pt", tmp_path, None, log=lambda *_: None)
    assert started[0] == ("onnx", None)  # alone: every other converter reads its file
    slowest = max(formats[1:], key=lambda f: f.convert_seconds).name
    assert started[1] == (slowest, 1) and {t for _, t in started[1:]} == {1}
    assert [(a.format, a.precision) for a in artifacts] == [(f.name, p) for f in formats for p in f.precisions]


def test_a_failing_converter_is_raised_after_the_others_end(monkeypatch, tmp_path):
    started = []
    monkeypatch.setattr(pipeline, "run_converter", _recording_converter(started, failing="ncnn"))
    formats = formats_for("all")
    with pytest.raises(ExportFailed, match="ncnn conversion failed"):
        pipeline.run_converters(formats, {f.name: f.precisions for f in formats}, tmp_path / "m.pt", tmp_path, None,
                                log=lambda *_: None)
    assert sorted(name for name, _ in started) == sorted(f.name for f in formats)
