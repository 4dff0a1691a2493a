"""`facekit bench --adb` without a phone says so, and android_check.sh skips clearly without ../shared/android."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from exporter.commands.bench import main
from exporter.paths import REPO_ROOT


def test_a_missing_host_report_is_reported_before_anything_runs(tmp_path, capsys):
    assert main(["--adb", "--out", str(tmp_path)]) == 1
    assert "run `make bench` first" in capsys.readouterr().err


def test_adb_missing_is_reported(tmp_path, monkeypatch, capsys):
    (tmp_path / "report.json").write_text("{}")
    monkeypatch.setenv("PATH", str(tmp_path))  # a folder without adb
    assert main(["--adb", "--out", str(tmp_path)]) == 1
    assert "adb is not installed" in capsys.readouterr().err


def test_no_phone_is_reported(tmp_path, monkeypatch, capsys):
    (tmp_path / "report.json").write_text("{}")
    fake = tmp_path / "adb"
    fake.write_text("#!/bin/sh\necho 'List of devices attached'\necho\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}/bin:/usr/bin")
    assert main(["--adb", "--out", str(tmp_path)]) == 1
    assert "adb sees 0 phones ready" in capsys.readouterr().err


def test_android_check_skips_without_the_shared_android_folder(tmp_path):
    script = Path(REPO_ROOT) / "android_app" / "tools" / "android_check.sh"
    done = subprocess.run(["bash", str(script)], env={**os.environ, "FACEKIT_SHARED": str(tmp_path / "absent")},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert "skipped" in done.stdout and "absent" in done.stdout
