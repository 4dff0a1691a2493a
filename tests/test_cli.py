"""The `facekit` command line: dispatch, detect's output and its errors on bad input."""

from __future__ import annotations

import subprocess
import sys

import pytest

from exporter.cli import COMMANDS, main
from exporter.commands import detect


def test_help_lists_every_command(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in COMMANDS)


def test_unknown_command(capsys):
    assert main(["frobnicate"]) == 2
    assert "unknown command 'frobnicate'" in capsys.readouterr().err


def test_detect_prints_faces_and_saves(assets, tmp_path, capsys):
    assert detect.main([str(assets["obama.jpg"]), "--save", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "1 face" in out and "age" in out and "score" in out
    assert (tmp_path / "obama_faces.jpg").stat().st_size > 1000
    assert not list(tmp_path.glob(".*"))


def test_detect_bad_inputs_are_reported_not_fatal(assets, tmp_path, capsys):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a picture")
    code = detect.main([str(broken), str(tmp_path / "missing.png"), str(assets["biden.jpg"])])
    captured = capsys.readouterr()
    assert code == 1
    assert "cannot decode image" in captured.err and "no such file" in captured.err
    assert "biden.jpg: " in captured.out  # the good file is still processed


def test_detect_missing_checkpoint_is_a_clear_error(assets, tmp_path, capsys):
    assert detect.main([str(assets["obama.jpg"]), "--checkpoint", str(tmp_path / "none.pt")]) == 1
    assert "make train" in capsys.readouterr().err


def test_console_script_runs():
    result = subprocess.run([sys.executable, "-m", "exporter.cli", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "detect" in result.stdout


@pytest.mark.parametrize("threshold", ["-0.1", "1.5"])
def test_detect_rejects_bad_threshold(threshold, assets):
    with pytest.raises(SystemExit):
        detect.parse_args([str(assets["obama.jpg"]), "--threshold", threshold])
