"""The format table drives targets and precisions; bad options fail early with the valid values listed."""

from __future__ import annotations

import json

import pytest

from exporter.commands.export import main as export_main
from exporter.export.bundle import MANIFEST_SCHEMA
from exporter.export.runners import RUNTIMES
from exporter.export.formats import FORMATS, PRECISIONS, TARGETS, ExportOptionError, formats_for, precisions_for


@pytest.mark.parametrize("target", TARGETS)
def test_every_target_starts_with_onnx(target):
    names = [f.name for f in formats_for(target)]
    assert names[0] == "onnx" and len(names) == len(set(names))


def test_all_covers_every_format():
    assert {f.name for f in formats_for("all")} == set(FORMATS)


@pytest.mark.parametrize("fmt", list(FORMATS.values()), ids=list(FORMATS))
def test_table_rows_are_consistent(fmt):
    assert set(fmt.precisions) <= set(PRECISIONS)
    assert fmt.artifact_name(fmt.precisions[0]).endswith(fmt.suffix)
    assert fmt.converter.startswith("exporter.export.to_")


def test_manifest_schema_lists_every_target_and_format():
    schema = json.loads(MANIFEST_SCHEMA.read_text())
    assert schema["properties"]["target"]["enum"] == list(TARGETS)
    models = schema["properties"]["models"]["items"]["properties"]
    assert set(models["format"]["enum"]) == set(FORMATS) and models["precision"]["enum"] == list(PRECISIONS)


def test_every_runtime_has_a_host_runner():
    assert {f.runtime for f in FORMATS.values()} - {None} <= set(RUNTIMES)


def test_unknown_target_suggests_the_closest():
    with pytest.raises(ExportOptionError, match=r"did you mean 'android'.*android, ios, executorch, mnn, ncnn, onnx, opencv, all"):
        formats_for("andriod")


def test_unknown_target_from_the_cli_exits_non_zero(capsys):
    assert export_main(["--target", "iso"]) == 1
    assert "did you mean 'ios'" in capsys.readouterr().err


def test_precisions():
    assert precisions_for(FORMATS["tflite"], ["int8"]) == ("int8",)
    assert precisions_for(FORMATS["onnx"], ["int8"]) == ("fp32",)  # the source of the others, always
    assert precisions_for(FORMATS["tflite"], None) == FORMATS["tflite"].precisions
    with pytest.raises(ExportOptionError, match="coreml offers precisions fp16"):
        precisions_for(FORMATS["coreml"], ["int8"])
    with pytest.raises(ExportOptionError, match="did you mean 'fp16'"):
        precisions_for(FORMATS["tflite"], ["fp61"])


def test_missing_or_corrupt_checkpoint_is_a_clear_error(tmp_path, capsys):
    assert export_main(["--target", "onnx", "--checkpoint", str(tmp_path / "none.pt"), "--out", str(tmp_path)]) == 1
    assert "does not exist" in capsys.readouterr().err
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"\x80\x02 truncated")
    assert export_main(["--target", "onnx", "--checkpoint", str(corrupt), "--out", str(tmp_path)]) == 1
    assert "corrupt" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["corrupt.pt"]  # nothing written
