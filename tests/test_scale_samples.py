"""Face size in training and evaluation: framed crops cover 1/3.5 to all of the input; canvases centre the crop."""

from __future__ import annotations

import numpy as np
import pytest

from exporter.eval.scores import centred_on_canvas
from exporter.train.samples import FRAMED_MIN_SIDE, LabelledFace, SamplePools, SourceImage, framed_crop


def test_framed_crop_places_the_whole_crop_and_moves_its_labels_with_it():
    crop = np.full((200, 200, 3), 200, np.uint8)
    face = LabelledFace(np.array([40, 40, 160, 160], np.float32), np.full((6, 2), 100, np.float32), np.ones(6, bool),
                        35.0, 1.0, 1.0)
    pools = SamplePools([SourceImage(crop, (face,))], [np.zeros((64, 64, 3), np.uint8)])
    rng = np.random.default_rng(0)
    sides = []
    for _ in range(40):
        image, faces = framed_crop(rng, pools, 128)
        ys, xs = np.nonzero(image[..., 0] == 200)
        x0, y0, side = xs.min(), ys.min(), xs.max() - xs.min() + 1
        sides.append(side / 128)
        box = faces[0].box  # the face box is the middle 60% of the crop, wherever the crop went
        assert box == pytest.approx([x0 + 0.2 * side, y0 + 0.2 * side, x0 + 0.8 * side, y0 + 0.8 * side], abs=1.0)
        assert faces[0].keypoints[0] == pytest.approx([x0 + side / 2, y0 + side / 2], abs=1.0)
        assert (faces[0].age, faces[0].gender) == (35.0, 1.0)
    assert FRAMED_MIN_SIDE - 0.01 <= min(sides) < 0.45 and max(sides) > 0.8


def test_centred_on_canvas():
    image = np.full((20, 10, 3), 9, np.uint8)
    assert centred_on_canvas(image, 1) is image
    big = centred_on_canvas(image, 3)
    assert big.shape == (60, 60, 3) and big.sum() == image.sum()
    assert (big[20:40, 25:35] == 9).all()
    with pytest.raises(ValueError, match="at least 1"):
        centred_on_canvas(image, 0)
