"""The byte breakdown of the exported TFLite files adds up and puts each kind of content where it belongs."""

from __future__ import annotations

import pytest

from exporter.compress.tflite_bytes import SCALE_BYTES, ZERO_POINT_BYTES, main, tflite_bytes


def test_int8_file_parts_add_up_and_carry_per_channel_quantisation(exported):
    folder, _, _ = exported
    parts = tflite_bytes(folder / "facekit_int8.tflite")
    assert sum(v for k, v in parts.items() if k != "file") == parts["file"]
    assert all(v >= 0 for v in parts.values())
    # one int8 byte per weight of the exported model (BatchNorm folded): 109,520 parameters less the int32 biases
    assert 100_000 < parts["int8_constants"] < 109_520
    # every conv's weights and biases carry a scale and a zero point per output channel
    per_channel = SCALE_BYTES + ZERO_POINT_BYTES
    assert parts["quantisation"] % per_channel == 0 and parts["quantisation"] > 2 * 2000 * per_channel
    assert parts["metadata"] > 1000  # the embedded contract
    fp16 = tflite_bytes(folder / "facekit_fp16.tflite")
    assert fp16["int8_constants"] == 0 and fp16["quantisation"] == 0 and fp16["float_constants"] > 2 * 100_000


def test_command_refuses_files_that_are_not_tflite(tmp_path, capsys):
    (tmp_path / "notes.tflite").write_text("not a flatbuffer")
    for path, message in ((tmp_path / "missing.tflite", "is not a file"), (tmp_path / "notes.tflite", "is not a TFLite file")):
        with pytest.raises(SystemExit) as exit_info:
            main([str(path)])
        assert exit_info.value.code == 2 and message in capsys.readouterr().err
