"""The committed app contract (tests/golden): today's reference code must reproduce it, and a change must show.

A change to the letterbox, the normalisation, the decoding or the frame-reuse schedulers fails here until the
goldens are regenerated on purpose (`facekit golden --update`), so the diff shows what the app ports must change.
"""

from __future__ import annotations

import json
import shutil

import cv2
import numpy as np
import pytest

from exporter.commands import golden as golden_command
from exporter.commands.golden import GOLDEN_DIR
from exporter.export.contract import CASES, INDEX, check_reference, read_outputs
from exporter.image_io import read_rgb
from exporter.preprocess import halvings

INDEX_DATA = json.loads((GOLDEN_DIR / INDEX).read_text())


def test_todays_reference_reproduces_every_golden_file():
    assert check_reference(GOLDEN_DIR) == []


def test_the_cases_cover_every_letterbox_path():
    sizes = {c["name"]: (c["width"], c["height"]) for c in INDEX_DATA["cases"]}
    size = INDEX_DATA["input"]["size"]
    assert sizes["portrait"][1] > sizes["portrait"][0] and sizes["landscape"][0] > sizes["landscape"][1]
    assert halvings(max(sizes["large"]), size) >= 2 and max(sizes["small"]) < size
    assert sum(len(c["faces"]) for c in INDEX_DATA["cases"]) >= 4  # every photo shows a face


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_photos_follow_their_recipes(case, assets):
    np.testing.assert_array_equal(case.image(), read_rgb(GOLDEN_DIR / f"{case.name}.png"))


def test_a_changed_pixel_or_output_is_reported(tmp_path):
    folder = tmp_path / "golden"
    shutil.copytree(GOLDEN_DIR, folder)
    case = INDEX_DATA["cases"][0]
    square = read_rgb(folder / case["square"])
    square[64, 64, 0] ^= 1
    cv2.imwrite(str(folder / case["square"]), cv2.cvtColor(square, cv2.COLOR_RGB2BGR))
    outputs = read_outputs(folder, case, INDEX_DATA)
    best = int(np.argmax(outputs[1][0, :, 0]))
    outputs[0][0, best, 0] += 1.0  # move the best anchor's box by one input pixel
    (folder / case["outputs"]).write_bytes(b"".join(o.astype("<f4").tobytes() for o in outputs))
    problems = check_reference(folder)
    assert any("letterbox gives other pixels" in p for p in problems)
    assert any("box/keypoints differ" in p for p in problems)


def test_the_cases_cover_the_second_look():
    looks = {c["name"]: c["second_look"] for c in INDEX_DATA["cases"]}
    assert looks["small"] == [] and all(looks[name] for name in ("portrait", "landscape", "large"))
    assert all(entry["chosen"] is not None for entries in looks.values() for entry in entries)


def test_a_changed_second_look_is_reported(tmp_path):
    folder = tmp_path / "golden"
    shutil.copytree(GOLDEN_DIR, folder)
    index = json.loads((folder / INDEX).read_text())
    case = next(c for c in index["cases"] if c["second_look"])
    entry = case["second_look"][0]
    square = read_rgb(folder / entry["square"])
    square[10, 10, 1] ^= 1
    cv2.imwrite(str(folder / entry["square"]), cv2.cvtColor(square, cv2.COLOR_RGB2BGR))
    outputs = read_outputs(folder, entry, index)
    outputs[2][...] += 0.05  # every anchor's age (years / 100) five years older
    (folder / entry["outputs"]).write_bytes(b"".join(o.astype("<f4").tobytes() for o in outputs))
    problems = check_reference(folder)
    assert any("cut and letterbox give other pixels" in p for p in problems)
    assert any("(crop pixels)" in p and "age" in p for p in problems)
    assert any("after it:" in p and "age" in p for p in problems)
    index["second_look"]["crop_scale"] = 1.5
    (folder / INDEX).write_text(json.dumps(index))
    assert any("it plans the looks" in p for p in check_reference(folder))


def test_golden_command_checks_and_explains(capsys, tmp_path):
    assert golden_command.main([]) == 0
    assert "reproduces every golden file" in capsys.readouterr().out
    assert golden_command.main(["--folder", str(tmp_path)]) == 1
    assert "facekit golden --update" in capsys.readouterr().err


def test_contract_stays_small():
    total = sum(p.stat().st_size for p in GOLDEN_DIR.iterdir())
    assert total < 1_100_000, f"tests/golden is {total} bytes"
