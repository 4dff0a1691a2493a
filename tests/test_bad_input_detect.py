"""Bad input against `facekit detect` and checkpoint loading: a clear message and the right exit code, the good
inputs still processed, nothing overwritten, nothing left behind, and no code from a checkpoint ever run."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest
import torch

from cli_cases import (AS_ROOT, cut, hidden, huge_jpeg, huge_png, malicious_checkpoint, photo, run, snapshot,
                       video)
from exporter.atomic import current_umask
from exporter.checkpoint import save_checkpoint
from exporter.model import build_model
from exporter.image_io import MAX_PIXELS


@pytest.fixture
def good(tmp_path):
    """One readable photo."""
    return photo(tmp_path / "in" / "good.jpg")


# --- inputs that are missing, foreign, damaged or too large: reported, the good one still processed ---

BAD_FILES = {
    "missing file": (lambda d: d / "nope.jpg", "no such file or folder"),
    "not an image suffix": (lambda d: _write(d / "notes.txt", b"hello"), "is not an image or video"),
    "empty folder": (lambda d: _mkdir(d / "empty"), "holds no image or video files"),
    "random bytes": (lambda d: _write(d / "noise.jpg", bytes(range(256)) * 10), "cannot decode image"),
    "zero bytes": (lambda d: _write(d / "zero.png", b""), "cannot decode image"),
    "truncated jpeg": (lambda d: cut(photo(d / "cut.jpg"), 1 / 3), "is truncated"),
    "truncated png": (lambda d: cut(photo(d / "cut.png"), 0.5), "cannot decode image"),
    "truncated webp": (lambda d: cut(photo(d / "cut.webp"), 0.5), "cannot decode image"),
    "png declaring 50000x50000": (lambda d: huge_png(d / "huge.png"), "50000x50000 pixels"),
    "jpeg declaring 60000x60000": (lambda d: huge_jpeg(d / "huge.jpg"), "60000x60000 pixels"),
    "video of random bytes": (lambda d: _write(d / "noise.mp4", bytes(range(256)) * 10), "cannot open video"),
    "a folder named like an image": (lambda d: _mkdir(d / "folder.jpg"), "holds no image or video files"),
}


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


def _mkdir(path):
    path.mkdir()
    return path


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_file_is_reported_and_the_good_one_processed(tmp_path, good, capsys, case):
    make, message = BAD_FILES[case]
    bad = make(tmp_path)
    before = snapshot(tmp_path / "in")
    result = run(capsys, "detect", bad, good, "--save", tmp_path / "out")
    assert result.code == 1
    assert message in result.err and "facekit detect:" in result.err
    assert f"{good}: " in result.out  # the good image was still processed
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["good_faces.jpg"]
    assert snapshot(tmp_path / "in") == before and not hidden(tmp_path)


def test_pixel_limit_message_names_size_and_limit(tmp_path, capsys):
    result = run(capsys, "detect", huge_png(tmp_path / "huge.png"))
    assert result.code == 1
    assert f"limit of {MAX_PIXELS / 1e6:.0f} megapixels" in result.err and "shrink it first" in result.err


def test_folder_with_one_oversized_image_keeps_going(tmp_path, capsys):
    folder = tmp_path / "photos"
    for i in range(3):
        photo(folder / f"p{i}.jpg", seed=i)
    huge_png(folder / "p1b.png")
    result = run(capsys, "detect", folder, "--json")
    assert result.code == 1 and "p1b.png is 50000x50000 pixels" in result.err
    lines = [json.loads(line) for line in result.out.splitlines()]
    assert sorted(line["file"].rsplit("/", 1)[1] for line in lines) == ["p0.jpg", "p1.jpg", "p2.jpg"]


# --- videos cut short: a warning with the frame counts, or an error with --strict ---

def test_truncated_video_warns_with_frame_counts(tmp_path, capsys):
    clip = cut(video(tmp_path / "clip.avi"), 0.5)
    result = run(capsys, "detect", clip, "--save", tmp_path / "out")
    assert result.code == 0
    assert "warning" in result.err and "ended after" in result.err and "of the 30 frames" in result.err
    assert "frames read, saved as" in result.out
    assert (tmp_path / "out" / "clip_faces.mp4").is_file() and not hidden(tmp_path)


def test_truncated_video_strict_fails_and_writes_nothing(tmp_path, capsys):
    clip = cut(video(tmp_path / "clip.avi"), 0.5)
    result = run(capsys, "detect", clip, "--save", tmp_path / "out", "--strict")
    assert result.code == 1 and "skipped" in result.err and "of the 30 frames" in result.err
    assert list((tmp_path / "out").iterdir()) == []  # no short video, no temporary file


def test_whole_video_reports_every_frame(tmp_path, capsys):
    result = run(capsys, "detect", video(tmp_path / "clip.avi", frames=12), "--strict")
    assert result.code == 0 and "clip.avi: 12 frames read" in result.out and result.err == ""


# --- --save: one output per input, never over an input, a bad folder refused first ---

def test_same_stems_get_distinct_outputs(tmp_path, capsys):
    inputs = [photo(tmp_path / "a" / "x.jpg", seed=1), photo(tmp_path / "b" / "x.jpg", seed=2),
              photo(tmp_path / "a" / "y.png", seed=3), photo(tmp_path / "a" / "y.webp", seed=4),
              photo(tmp_path / "a" / "z.jpg", seed=5)]
    result = run(capsys, "detect", *inputs, "--save", tmp_path / "out")
    assert result.code == 0
    outputs = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert len(outputs) == 5 and "z_faces.jpg" in outputs, outputs


def test_outputs_never_replace_an_input(tmp_path, capsys):
    folder = tmp_path / "photos"
    photo(folder / "x.jpg", seed=1)
    existing = photo(folder / "x_faces.jpg", seed=2)  # a user's photo that happens to have an output's name
    before = existing.read_bytes()
    result = run(capsys, "detect", folder, "--save", folder)
    assert result.code == 0 and existing.read_bytes() == before
    assert len(list(folder.iterdir())) == 4  # two inputs, two annotated copies


def test_save_is_a_file(tmp_path, good, capsys):
    target = tmp_path / "out.txt"
    target.write_text("keep me")
    result = run(capsys, "detect", good, "--save", target)
    assert result.code == 2 and "--save" in result.err and "is a file" in result.err
    assert target.read_text() == "keep me"


def test_save_under_a_file(tmp_path, good, capsys):
    (tmp_path / "f").write_text("x")
    result = run(capsys, "detect", good, "--save", tmp_path / "f" / "sub")
    assert result.code == 2 and "cannot be created" in result.err


@AS_ROOT
def test_save_read_only(tmp_path, good, capsys):
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o555)
    result = run(capsys, "detect", good, "--save", folder)
    assert result.code == 2 and "not writable" in result.err


def test_save_folder_is_created_with_the_umask(tmp_path, good, capsys):
    result = run(capsys, "detect", good, "--save", tmp_path / "new" / "deeper")
    assert result.code == 0
    written = tmp_path / "new" / "deeper" / "good_faces.jpg"
    assert written.stat().st_mode & 0o777 == 0o666 & ~current_umask()  # not the 0600 of mkstemp


def test_same_file_twice_is_processed_once(tmp_path, good, capsys):
    result = run(capsys, "detect", good, good, good.parent)
    assert result.code == 0 and result.out.count(f"{good}: ") == 1


@pytest.mark.parametrize("option, value, message", [
    ("--threshold", "2", "between 0 and 1"),
    ("--threshold", "nan", "between 0 and 1"),
    ("--threshold", "abc", "invalid float value"),
    ("--every", "0", "at least 1"),
])
def test_bad_options(good, capsys, option, value, message):
    result = run(capsys, "detect", good, option, value)
    assert result.code == 2 and message in result.err


# --- checkpoints: refused with the reason, never executed ---

def _checkpoint(tmp_path, edit=None, state_edit=None):
    path = tmp_path / "m.pt"
    save_checkpoint(path, build_model("facekit-xs"))
    payload = torch.load(path, weights_only=True)
    if edit:
        edit(payload)
    if state_edit:
        state_edit(payload["state_dict"])
    torch.save(payload, path)
    return path


BAD_CHECKPOINTS = {
    "missing": (lambda d: d / "none.pt", "does not exist"),
    "a folder": (lambda d: d, "is a folder"),
    "truncated": (lambda d: cut(_checkpoint(d), 0.3), "is corrupt or not a PyTorch file"),
    "not a pytorch file": (lambda d: _write(d / "x.pt", b"hello"), "is corrupt or not a PyTorch file"),
    "foreign": (lambda d: _save(d / "other.pt", {"state_dict": {}}), "not a FaceKit checkpoint"),
    "other version": (lambda d: _checkpoint(d, lambda p: p.update(version=7)), "checkpoint version 7"),
    "input_size -5": (lambda d: _checkpoint(d, lambda p: p["model_config"].update(input_size=-5)),
                      "invalid model_config: model_config (input_size"),
    "width a string": (lambda d: _checkpoint(d, lambda p: p["model_config"].update(width="wide")),
                       "model_config.width must be a number"),
    "width 1000": (lambda d: _checkpoint(d, lambda p: p["model_config"].update(width=1000.0)),
                   "model_config.width must be between"),
    "unknown config field": (lambda d: _checkpoint(d, lambda p: p["model_config"].update(depth=3)),
                             "unexpected keyword argument 'depth'"),
    "weights of another shape": (lambda d: _checkpoint(d, lambda p: p["model_config"].update(width=1.0)),
                                 "does not match this version"),
    "NaN weights": (lambda d: _checkpoint(d, state_edit=lambda s: s["stem.0.weight"].fill_(float("nan"))),
                    "NaN or infinite weights"),
    "no state_dict": (lambda d: _checkpoint(d, lambda p: p.pop("state_dict")), "no state_dict of tensors"),
}


def _save(path, payload):
    torch.save(payload, path)
    return path


@pytest.mark.parametrize("case", BAD_CHECKPOINTS)
def test_bad_checkpoint(tmp_path, good, capsys, case):
    make, message = BAD_CHECKPOINTS[case]
    checkpoint = make(tmp_path)
    result = run(capsys, "detect", good, "--checkpoint", checkpoint, "--save", tmp_path / "out")
    assert result.code == 1 and message in result.err, result.err
    assert result.out == "" and list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("command", [["detect", "IMG"], ["eval", "--no-teachers"], ["export", "--target", "onnx"]])
def test_malicious_checkpoint_is_refused_without_running_it(tmp_path, good, capsys, command):
    marker = tmp_path / "pwned"
    checkpoint = malicious_checkpoint(tmp_path / "evil.pt", marker)
    argv = [good if a == "IMG" else a for a in command]
    extra = ["--out", tmp_path / "exports", "--no-install"] if command[0] == "export" else []
    result = run(capsys, *argv, "--checkpoint", checkpoint, *extra)
    assert result.code == 1
    assert "was refused: it holds Python objects or code" in result.err
    assert not marker.exists()
    assert not (tmp_path / "exports").exists() or not list((tmp_path / "exports").iterdir())


def test_training_checkpoint_round_trip_keeps_plain_types(tmp_path):
    """What train writes (config dicts, rng state, optimiser state) loads under weights_only."""
    import numpy as np

    from exporter.checkpoint import read_checkpoint
    from exporter.train.config import TrainConfig

    model = build_model("facekit-xs")
    optimizer = torch.optim.AdamW(model.parameters())
    model(torch.rand(1, 3, 128, 128))[0].sum().backward()
    optimizer.step()
    extra = {"train": {"config": TrainConfig(data_root=tmp_path).to_dict(), "history": [{"step": 1}]},
             "resume": {"optimizer": optimizer.state_dict(), "numpy_rng": np.random.default_rng(0).bit_generator.state,
                        "torch_rng": torch.get_rng_state()}}
    save_checkpoint(tmp_path / "last.pt", model, extra)
    payload = read_checkpoint(tmp_path / "last.pt")
    assert payload["train"]["config"]["mix"] == asdict(TrainConfig(data_root=tmp_path).mix)
    assert payload["resume"]["numpy_rng"]["bit_generator"] == "PCG64"
