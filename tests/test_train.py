"""A short real training run on a few images: the loss falls, checkpoints are written, resume continues."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from exporter.checkpoint import load_model, read_checkpoint, save_checkpoint
from exporter.compress.prune import prune_channels
from exporter.model import build_model
from exporter.commands.train import ship
from exporter.paths import DEFAULT_CHECKPOINT
from exporter.train.config import TrainConfig
from exporter.train.loop import Trainer
from exporter.train.recipes import RECIPES
from exporter.data.layout import DatasetLayoutError, load_splits
from exporter.train.samples import SampleMix

pytestmark = pytest.mark.needs_data


def tiny_config(datasets, out_dir, steps: int) -> TrainConfig:
    """The facekit-xs variant on 48 UTKFace crops and 8 scene photos, no video frames."""
    return TrainConfig(
        data_root=datasets, out_dir=out_dir, variant="facekit-xs", steps=steps, batch_size=8, warmup_steps=5,
        val_every=10, utk_limit=48, scene_limit=8, val_utk=16, mix=SampleMix(video=0.0),
    )


def test_loss_falls_on_a_fixed_batch(datasets, tmp_path):
    trainer = Trainer(tiny_config(datasets, tmp_path, steps=30), log=lambda *_: None)
    batch = trainer._batch()
    losses = [trainer.train_step(batch)["total"] for _ in range(30)]
    assert all(np.isfinite(losses))
    assert np.mean(losses[-3:]) < 0.75 * losses[0], losses


def test_run_checkpoints_resume_and_ship(datasets, tmp_path):
    config = tiny_config(datasets, tmp_path / "run", steps=10)
    Trainer(config, log=lambda *_: None).run()
    assert {p.name for p in (tmp_path / "run").iterdir()} >= {"best.pt", "last.pt", "history.json"}
    assert read_checkpoint(tmp_path / "run" / "last.pt")["train"]["step"] == 10

    resumed = Trainer(replace(config, steps=20), log=lambda *_: None)
    resumed.run(resume=True)
    last = read_checkpoint(tmp_path / "run" / "last.pt")["train"]
    assert last["step"] == 20 and [h["step"] for h in last["history"]] == [10, 20]
    assert last["history"][1]["elapsed_s"] >= last["history"][0]["elapsed_s"]
    seconds = json.loads((tmp_path / "run" / "history.json").read_text())["seconds"]
    assert seconds >= last["history"][1]["elapsed_s"]  # the whole run's time, not only the resumed part's

    ship(tmp_path / "run" / "best.pt", tmp_path / "shipped.pt")
    model, payload = load_model(tmp_path / "shipped.pt")
    assert "resume" not in payload and len(payload["train"]["history"]) == 2
    assert model.config.width == 0.5


def test_architecture_from_trains_a_fresh_model_of_that_shape(datasets, tmp_path):
    shape = prune_channels(build_model("facekit-xs"), 0.5)
    save_checkpoint(tmp_path / "pruned.pt", shape)
    config = replace(tiny_config(datasets, tmp_path / "run", steps=2), architecture_from=tmp_path / "pruned.pt")
    trainer = Trainer(config, log=lambda *_: None)
    assert trainer.model.config == shape.config and trainer.teacher_model is None
    assert not torch.equal(trainer.model.stem[0].weight, shape.stem[0].weight)  # its weights are not copied
    trainer.run()
    last = read_checkpoint(tmp_path / "run" / "last.pt")
    facts = last["architecture"]
    assert facts["checkpoint"] == str(tmp_path / "pruned.pt") and len(facts["sha256"]) == 64
    assert tuple(last["model_config"]["channels"]) == shape.config.channels


def test_a_stage_on_a_compressed_checkpoint_keeps_its_compression_facts(datasets, tmp_path):
    compressed = prune_channels(build_model("facekit-xs"), 0.5)
    facts = {"method": "prune", "amount": 0.5, "base_sha256": "abc", "fine_tune_steps": 600}
    save_checkpoint(tmp_path / "pruned.pt", compressed, {"compress": facts})
    config = replace(tiny_config(datasets, tmp_path / "run", steps=2), recipe="attributes", init=tmp_path / "pruned.pt")
    Trainer(config, log=lambda *_: None).run()
    last = read_checkpoint(tmp_path / "run" / "last.pt")
    assert last["init"]["compress"] == facts and "compress" not in last  # the stage itself compressed nothing
    assert tuple(last["model_config"]["channels"]) == compressed.config.channels


def test_distill_from_matches_another_models_outputs_age_and_gender_included(datasets, tmp_path):
    config = replace(tiny_config(datasets, tmp_path / "run", steps=2), distill_from=DEFAULT_CHECKPOINT,
                     distill_attributes=0.0)
    trainer = Trainer(config, log=lambda *_: None)  # a facekit-xs student of the shipped facekit-s
    assert trainer.teacher_model.config == load_model(DEFAULT_CHECKPOINT)[0].config != trainer.model.config
    batch, state = trainer._batch(), {k: v.clone() for k, v in trainer.model.state_dict().items()}
    detection_only = trainer.train_step(batch)["outputs"]
    trainer.model.load_state_dict(state)
    trainer.config = replace(config, distill_attributes=2.0)
    assert trainer.train_step(batch)["outputs"] > detection_only > 0  # age and gender of the teacher's faces count
    Trainer(config, log=lambda *_: None).run()
    facts = read_checkpoint(tmp_path / "run" / "last.pt")["distill_from"]
    assert facts["checkpoint"] == str(DEFAULT_CHECKPOINT) and len(facts["sha256"]) == 64


def test_attributes_stage_starts_from_the_base_checkpoint(datasets, tmp_path):
    tuned = TrainConfig.for_recipe("attributes", init=DEFAULT_CHECKPOINT, data_root=datasets, out_dir=tmp_path / "run",
                                   steps=10, batch_size=8, warmup_steps=5, val_every=10, utk_limit=48, scene_limit=8,
                                   val_utk=16, mix=replace(RECIPES["attributes"].mix, video=0.0), attr_channels=48,
                                   age_bins=11, fine_attributes=True, teacher_blend=0.5,
                                   attribute_teacher="faceapi", age_balance=1.0)
    trainer = Trainer(tuned, log=lambda *_: None)
    assert trainer.model.config.fine_attributes and not trainer.teacher_model.config.fine_attributes
    assert trainer.teacher_model is not None and trainer.teacher_model is not trainer.model
    assert (trainer.teacher_model.config.attr_channels, trainer.model.config.attr_channels) == (32, 48)  # widened
    assert (trainer.teacher_model.config.age_bins, trainer.model.config.age_bins) == (0, 11)  # age read from bins
    targets = [(f.age, f.gender) for crop in trainer.pools.crops for f in crop.faces]  # labels: whole years, 0 or 1
    assert all(0 <= g <= 1 for _, g in targets)
    assert any(a != round(a) for a, _ in targets) and any(0 < g < 1 for _, g in targets)
    odds = trainer.pools.crop_odds  # --age-balance 1: every 10-year band drawn equally often
    band_odds = np.bincount(np.minimum(np.array(targets)[:, 0] // 10, 8).astype(int), weights=odds)
    assert band_odds[band_odds > 0] == pytest.approx(1 / np.count_nonzero(band_odds))
    trainer.run()
    last = read_checkpoint(tmp_path / "run" / "last.pt")
    assert [h["step"] for h in last["train"]["history"]] == [0, 10]  # the starting point is scored first
    assert last["train"]["history"][1]["loss"]["outputs"] > 0.0  # the base model's detection outputs are distilled
    assert last["train"]["history"][1]["loss"]["age_kl"] > 0.0  # the bins learn a distribution around each age
    assert last["init"]["checkpoint"] == str(DEFAULT_CHECKPOINT) and len(last["init"]["sha256"]) == 64
    assert last["train"]["config"]["recipe"] == "attributes" and last["init"]["best_step"] is not None
    assert last["model_config"]["attr_channels"] == 48 and last["model_config"]["age_bins"] == 11


def test_splits_are_duplicate_safe(datasets):
    splits = load_splits(datasets)
    md5 = [{r.md5 for r in side} for side in (splits.utk_train, splits.utk_select, splits.utk_report)]
    assert not md5[0] & md5[1] and not md5[0] & md5[2] and not md5[1] & md5[2]
    assert len(splits.utk_report) > 1000 and len(splits.utk_select) > 500
    assert splits.scenes_select and splits.scenes_report and splits.videos_report
    assert not {p.path for p in splits.scenes_train} & {p.path for p in splits.scenes_select + splits.scenes_report}
    assert {v.name for v in splits.videos_train}.isdisjoint({v.name for v in splits.videos_report})


def test_missing_dataset_names_the_layout(tmp_path):
    with pytest.raises(DatasetLayoutError, match="utkface/"):
        load_splits(tmp_path)
