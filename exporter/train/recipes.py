"""The two stages of `make train`: `base` trains from scratch, `attributes` fine-tunes base's best for age and gender."""

from __future__ import annotations

from dataclasses import dataclass

from exporter.train.loss import LossWeights
from exporter.train.samples import SampleMix


@dataclass(frozen=True)
class Recipe:
    """Defaults of one training stage; the options of `facekit train` override them."""

    steps: int
    lr: float
    warmup_steps: int
    mix: SampleMix
    loss: LossWeights
    needs_init: bool  # starts from a checkpoint's weights (--init), whose detection outputs it keeps by distillation


RECIPES: dict[str, Recipe] = {
    # 6,000 steps (69 min on a 2-core Intel Xeon, 0.55 s a step): at 3,000 the select score was still falling, and
    # after the attributes stage the 6,000-step base beat the 3,000-step one on the select split (1x age 6.41 y /
    # gender 85.0% against 6.92 / 83.0%).
    "base": Recipe(steps=6000, lr=4e-3, warmup_steps=100, mix=SampleMix(), loss=LossWeights(), needs_init=False),
    # 2,000 steps (1,000 took 27 min on that host): on the select split it beat 1,000 steps (best 1x age 6.92 y / gender
    # 83.0% against 7.06 / 82.7%). Most samples are one labelled face (filling the frame, or smaller); gender
    # weighs twice as much; the base model's face scores, boxes and keypoints are distilled so detection holds.
    "attributes": Recipe(
        steps=2000, lr=1.5e-3, warmup_steps=50,
        mix=SampleMix(zoomed_crop=0.45, framed_crop=0.15, composite=0.15, scene=0.15, video=0.10),
        loss=LossWeights(gender=2.0, outputs=1.0, outputs_attributes=0.0), needs_init=True,
    ),
}
