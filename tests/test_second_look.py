"""The second look: integer crop geometry, black outside the image, and age/gender taken from the crop's centre face."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from exporter.detector import Detector
from exporter.postprocess import DecodeConfig, Face
from exporter.runner import Runner
from exporter.second_look import SecondLook, crop_square, cut_square, look_again, round_half_up, wants_second_look
from exporter.spec import BLAZEFACE_SHORT


def face(box, age=30.0, female=0.9, score=0.9) -> Face:
    return Face(np.array(box, np.float32), np.zeros((6, 2), np.float32), score, age, female)


def test_round_half_up_is_not_bankers_rounding():
    assert [round_half_up(v) for v in (0.5, 1.5, 2.5, -0.5, 2.49)] == [1, 2, 3, 0, 2]


def test_crop_square_is_centred_and_scaled():
    assert crop_square(np.array([100, 50, 140, 100]), 1.25) == (89, 44, 63)  # side floor(62.5 + 0.5); left floor(120 - 31.5 + 0.5)
    left, top, side = crop_square(np.array([10.2, 20.7, 30.2, 40.7]), 2.0)
    assert side == 40 and (left, top) == (0, 11)


def test_cut_square_pads_outside_with_black():
    image = np.full((10, 20, 3), 7, np.uint8)
    crop = cut_square(image, -3, 5, 8)
    assert crop.shape == (8, 8, 3)
    assert (crop[:5, 3:] == 7).all() and (crop[:, :3] == 0).all() and (crop[5:] == 0).all()
    assert (cut_square(image, 100, 100, 4) == 0).all()


def test_only_small_faces_are_looked_at_again():
    look = SecondLook(max_face_fraction=0.4)
    assert wants_second_look(face([0, 0, 30, 30]), (100, 80, 3), look)
    assert not wants_second_look(face([0, 0, 45, 30]), (100, 80, 3), look)


@pytest.mark.parametrize("bad", [dict(max_face_fraction=0.0), dict(crop_scale=0.9), dict(max_faces=-1), dict(refresh_every=0)])
def test_bad_settings_are_refused(bad):
    with pytest.raises(ValueError):
        SecondLook(**bad)


def test_look_again_takes_the_centre_face_of_the_crop_and_keeps_the_box():
    image = np.zeros((400, 400, 3), np.uint8)
    faces = [face([100, 100, 140, 140], age=20, female=0.9), face([0, 0, 300, 300], age=25, female=0.9)]
    seen = []

    def first_look(crop, config):
        seen.append(crop.shape)
        return [face([0, 0, 10, 10], age=70, female=0.0), face([20, 20, 30, 30], age=55, female=0.1)]

    out, runs = look_again(image, faces, first_look, DecodeConfig(), SecondLook())
    assert runs == 1 and seen == [(50, 50, 3)]  # only the small face; side round(1.25 * 40)
    assert (out[0].age, out[0].female) == (55, 0.1) and (out[0].box == faces[0].box).all()
    assert out[1] is faces[1]


def test_look_again_keeps_the_first_answer_when_the_crop_has_no_face_and_caps_the_runs():
    image = np.zeros((400, 400, 3), np.uint8)
    faces = [face([10 * i, 10, 10 * i + 20, 30], score=0.5 + i / 100) for i in range(6)]
    out, runs = look_again(image, faces, lambda crop, config: [], DecodeConfig(), SecondLook(max_faces=4))
    assert runs == 4 and out == faces


def test_detector_without_attributes_never_looks_again():
    runner = Runner(lambda square: square, lambda x: x, list)
    assert Detector(runner, BLAZEFACE_SHORT).second_look is None
    assert Detector(runner).second_look == SecondLook()
    assert Detector(runner, second_look=None).second_look is None


def test_bench_cost_and_gain_of_the_second_look(assets):
    """On the astronaut photo (face 19% of the side) every face found costs one extra run; the gain has each size."""
    from exporter.bench.second_look import cost_summary, second_look_cost, second_look_gain
    from exporter.checkpoint import load_model
    from exporter.data.utkface import UtkRecord
    from exporter.paths import DEFAULT_CHECKPOINT

    detector = Detector.from_torch(load_model(DEFAULT_CHECKPOINT)[0])
    rows = second_look_cost(detector, [assets["astronaut.png"]])
    assert len(rows) == 1 and rows[0].frames == 1 and rows[0].faces_per_frame >= 1
    assert rows[0].extra_runs_per_frame == rows[0].faces_per_frame
    assert cost_summary(rows)["frames"] == 1
    gain = second_look_gain(detector, [UtkRecord(assets["astronaut.png"], 47, 1, None, "astronaut")], (1, 2))
    assert set(gain) == {"1x", "2x"} and gain["2x"]["on"]["count"] == 1
    assert gain["2x"]["age_mae_gain"] == gain["2x"]["off"]["age_mae"] - gain["2x"]["on"]["age_mae"]


def test_a_tracked_face_is_looked_at_when_new_and_after_the_refresh_and_keeps_the_answer():
    from exporter.reuse import FrameReuseScheduler, ReuseConfig

    frame = np.zeros((48, 64, 3), np.uint8)
    first = Face(np.array([10, 10, 22, 22], np.float32), np.zeros((6, 2), np.float32), 0.9, age=20.0, female=0.9)
    looks = []

    def look(_frame, face):
        looks.append(len(looks))
        return replace(face, age=50.0 + len(looks), female=0.1)

    scheduler = FrameReuseScheduler(lambda _f: [first], ReuseConfig(policy="every-frame"), SecondLook(refresh_every=3),
                                    look)
    assert scheduler.step(frame).looked == ()  # only the tracking policy has tracks to look at
    scheduler = FrameReuseScheduler(lambda _f: [first], ReuseConfig(max_reuse=0), SecondLook(refresh_every=3), look)
    decisions = [scheduler.step(frame) for _ in range(7)]
    assert [d.looked for d in decisions] == [(1,), (), (), (1,), (), (), (1,)]
    ages = [d.faces[0].age for d in decisions]
    assert ages == [51.0, 51.0, 51.0, 52.0, 52.0, 52.0, 53.0]  # the looked answer, not smoothed with the first looks
    assert all(d.faces[0].female == 0.1 for d in decisions)


def test_a_scheduler_with_a_second_look_needs_a_look_function():
    from exporter.reuse import FrameReuseScheduler

    with pytest.raises(ValueError, match="needs `look`"):
        FrameReuseScheduler(lambda _f: [], second_look=SecondLook())
