"""Hyper-parameters of a training run (the default is the recipe of the shipped checkpoint)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from exporter.train.loss import LossWeights
from exporter.train.samples import Augment, SampleMix


@dataclass(frozen=True)
class TrainConfig:
    """Everything a run depends on; saved into every checkpoint."""

    data_root: Path
    out_dir: Path = Path("runs/train")
    variant: str = "facekit-s"
    steps: int = 3000  # about 55 min with this mix on 2 free CPU cores (1.1 s a step; the shipped run, older mix: 31)
    batch_size: int = 64
    lr: float = 4e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 100
    val_every: int = 250
    seed: int = 0
    device: str = "auto"  # auto: a CUDA GPU when one is visible, else the CPU
    distill: bool = True  # dense face-score distillation from BlazeFace short-range
    utk_limit: int | None = None  # use at most this many UTKFace training crops (tests, smoke runs)
    scene_limit: int | None = None
    video_every: int = 15  # take every Nth frame of the training videos
    val_utk: int = 400  # UTKFace select crops scored during training (at each face size of SELECT_CANVASES)
    mix: SampleMix = field(default_factory=SampleMix)
    augment: Augment = field(default_factory=Augment)
    loss: LossWeights = field(default_factory=LossWeights)

    def __post_init__(self) -> None:
        """Refuse settings that cannot train (each message names the option)."""
        at_least_one = {"steps": self.steps, "batch_size": self.batch_size, "val_every": self.val_every,
                        "video_every": self.video_every, "val_utk": self.val_utk, "utk_limit": self.utk_limit,
                        "scene_limit": self.scene_limit}
        for name, value in at_least_one.items():
            if value is not None and value < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be at least 1, got {value}")
        if not 0 < self.lr < 1:  # also refuses NaN
            raise ValueError(f"--lr must be between 0 and 1, got {self.lr}")
        if self.warmup_steps < 0:
            raise ValueError(f"warmup_steps must be at least 0, got {self.warmup_steps}")

    def to_dict(self) -> dict:
        """JSON-friendly form."""
        out = asdict(self)
        out["data_root"], out["out_dir"] = str(self.data_root), str(self.out_dir)
        return out
