"""The sub-commands' one error line: an OSError reads as its reason and file, anything else as its message."""

from __future__ import annotations

import errno

from exporter.commands import error_text, fail


def test_an_os_error_reads_as_its_reason_and_file():
    error = OSError(errno.ENOSPC, "No space left on device", "runs/train/last.pt")
    assert error_text(error) == "No space left on device: runs/train/last.pt"
    assert error_text(PermissionError(errno.EACCES, "Permission denied")) == "Permission denied"


def test_an_error_raised_with_a_message_keeps_it():
    assert error_text(FileNotFoundError("no bundle in exports/android; run `make export` first")) == (
        "no bundle in exports/android; run `make export` first")
    assert error_text(ValueError("--steps must be positive")) == "--steps must be positive"


def test_fail_prints_one_line_naming_the_command_and_returns_1(capsys):
    assert fail("train", ValueError("bad --lr")) == 1
    assert capsys.readouterr().err == "facekit train: bad --lr\n"
