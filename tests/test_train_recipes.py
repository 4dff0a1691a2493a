"""The recipes of `make train`'s two stages, the detection-only distillation of the attributes stage, QAT's loss."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from exporter.compress.methods import METHODS
from exporter.model.registry import build_model
from exporter.postprocess import FRONT_ANCHORS, anchor_scales
from exporter.train.config import TrainConfig
from exporter.train.loss import LossWeights, TargetBatch, multitask_loss, output_distillation
from exporter.train.recipes import RECIPES


def test_for_recipe_takes_the_recipes_defaults_and_the_given_options():
    base = TrainConfig.for_recipe("base", data_root=Path("."), steps=None)
    assert (base.steps, base.lr, base.mix, base.loss) == (RECIPES["base"].steps, RECIPES["base"].lr, RECIPES["base"].mix,
                                                          RECIPES["base"].loss)
    assert base == TrainConfig(data_root=Path("."))  # the plain defaults are the base recipe
    tuned = TrainConfig.for_recipe("attributes", data_root=Path("."), init=Path("base.pt"), steps=7)
    assert tuned.steps == 7 and tuned.lr == RECIPES["attributes"].lr and tuned.mix == RECIPES["attributes"].mix
    assert tuned.to_dict()["init"] == "base.pt" and tuned.to_dict()["recipe"] == "attributes"


def test_attributes_recipe_needs_a_checkpoint_to_start_from():
    with pytest.raises(ValueError, match="--init"):
        TrainConfig.for_recipe("attributes", data_root=Path("."))
    with pytest.raises(ValueError, match="--recipe 'fast' is not one of base, attributes"):
        TrainConfig.for_recipe("fast", data_root=Path("."))
    with pytest.raises(ValueError, match="--attr-channels widens .* needs --init"):
        TrainConfig.for_recipe("base", data_root=Path("."), attr_channels=64)


def test_attributes_stage_distils_detection_only():
    torch.manual_seed(0)
    model = build_model("facekit-xs").eval()
    with torch.no_grad():
        reference = model(torch.rand(2, 3, 128, 128) * 2 - 1)
    reference[1][..., 0] = 5.0  # every anchor a face, so attributes would count wherever they differ
    regressors, scores, age, gender = (t.clone() for t in reference)
    changed = (regressors, scores, age + 0.3, gender - 2.0)
    scales, size = torch.tensor(anchor_scales(FRONT_ANCHORS)), FRONT_ANCHORS.input_size
    keep_detection = RECIPES["attributes"].loss
    assert keep_detection.outputs_attributes == 0.0
    assert output_distillation(changed, reference, scales, size, keep_detection).item() == pytest.approx(0.0, abs=1e-4)
    assert output_distillation(changed, reference, scales, size, LossWeights()).item() > 1.0
    moved = (regressors + 5.0, scores, age, gender)
    assert output_distillation(moved, reference, scales, size, keep_detection).item() > 1.0


def test_qat_learns_only_from_the_float_model_outputs_age_and_gender_included():
    torch.manual_seed(0)
    model = build_model("facekit-xs").eval()
    with torch.no_grad():
        reference = model(torch.rand(2, 3, 128, 128) * 2 - 1)
    reference[1][..., 0] = 5.0  # every anchor a face
    anchors = reference[0].shape[1]
    wrong_labels = TargetBatch(
        label=torch.ones(2, anchors, dtype=torch.int8), regressors=torch.full((2, anchors, 16), 50.0),
        keypoint_mask=torch.ones(2, anchors, 6, dtype=torch.bool), age=torch.full((2, anchors), 0.9),
        gender=torch.ones(2, anchors), attr_weight=torch.ones(2, anchors))
    scales, size = torch.tensor(anchor_scales(FRONT_ANCHORS)), FRONT_ANCHORS.input_size
    qat = METHODS["qat"].loss
    total, parts = multitask_loss(reference, wrong_labels, scales, size, qat)
    assert total.item() == 0.0 and parts["age_mae_years"] > 10  # the label errors are logged, not learned from
    assert multitask_loss(reference, wrong_labels, scales, size, LossWeights())[0].item() > 1.0
    regressors, scores, age, gender = (t.clone() for t in reference)
    assert output_distillation((regressors, scores, age + 0.3, gender), reference, scales, size, qat).item() > 1.0
