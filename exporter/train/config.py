"""Hyper-parameters of a training run (defaults: the base stage of `make train`, from recipes.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from exporter.faceapi_teacher import FaceApiAgeGender
from exporter.model.blazeface import MAX_AGE_BINS
from exporter.teachers import AgeGenderTeacher, AttributeTeacher
from exporter.train.loss import LossWeights
from exporter.train.recipes import RECIPES
from exporter.train.samples import Augment, SampleMix

BASE = RECIPES["base"]
# --attribute-teacher: who labels the video faces (and --teacher-blend's crops) with age and gender
ATTRIBUTE_TEACHERS: dict[str, Callable[[], AttributeTeacher]] = {"dlib": AgeGenderTeacher, "faceapi": FaceApiAgeGender}


@dataclass(frozen=True)
class TrainConfig:
    """Everything a run depends on; saved into every checkpoint. The defaults are the base recipe's."""

    data_root: Path
    out_dir: Path = Path("runs/train")
    variant: str = "facekit-s"
    recipe: str = "base"  # a key of RECIPES; for_recipe() fills in its defaults
    init: Path | None = None  # start from this checkpoint's weights and keep its detection outputs (distillation)
    architecture_from: Path | None = None  # train a fresh model with this checkpoint's architecture (not its weights)
    attr_channels: int | None = None  # widen the init model's age/gender branches to this many channels (None: keep)
    age_bins: int | None = None  # give the init model's age heads this many bins (age: their softmax's mean; None: keep)
    fine_attributes: bool = False  # let the init model's 8x8 age/gender branch also read the 16x16 map
    teacher_blend: float = 0.0  # share of the age/gender teacher's prediction in each UTKFace crop's targets (0: labels only)
    age_balance: float = 0.0  # draw UTKFace crops so a 10-year band's share goes as its count ** (1 - this); 1: bands even
    attribute_teacher: str = "dlib"  # a key of ATTRIBUTE_TEACHERS: labels video faces (and blended crops) with age/gender
    distill_from: Path | None = None  # distil this checkpoint's outputs (e.g. a larger trained model) instead of --init's
    distill_attributes: float | None = None  # weight of age and gender in that output distillation (None: the recipe's)
    steps: int = BASE.steps
    batch_size: int = 64
    lr: float = BASE.lr
    weight_decay: float = 1e-4
    warmup_steps: int = BASE.warmup_steps
    val_every: int = 250
    seed: int = 0
    device: str = "auto"  # auto: a CUDA GPU when one is visible, else the CPU
    distill: bool = True  # dense face-score distillation from BlazeFace short-range
    utk_limit: int | None = None  # use at most this many UTKFace training crops (tests, smoke runs)
    scene_limit: int | None = None
    video_every: int = 15  # take every Nth frame of the training videos
    val_utk: int = 600  # UTKFace select crops scored during training (of 624), at each face size of SELECT_CANVASES
    mix: SampleMix = field(default_factory=lambda: BASE.mix)
    augment: Augment = field(default_factory=Augment)
    loss: LossWeights = field(default_factory=lambda: BASE.loss)

    @classmethod
    def for_recipe(cls, recipe: str, **options) -> "TrainConfig":
        """A config with the recipe's steps, learning rate, warm-up, mix and loss; options that are not None win."""
        r = RECIPES.get(recipe)  # an unknown name is refused by __post_init__
        defaults = {"recipe": recipe} | ({"steps": r.steps, "lr": r.lr, "warmup_steps": r.warmup_steps, "mix": r.mix,
                                          "loss": r.loss} if r else {})
        return cls(**{**defaults, **{k: v for k, v in options.items() if v is not None}})

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
        if self.recipe not in RECIPES:
            raise ValueError(f"--recipe {self.recipe!r} is not one of {', '.join(RECIPES)}")
        if RECIPES[self.recipe].needs_init and self.init is None:
            raise ValueError(f"--recipe {self.recipe} fine-tunes a trained model: pass --init with its checkpoint, "
                             "e.g. --init runs/train/base/best.pt (what `make train` does)")
        if self.architecture_from is not None and self.init is not None:
            raise ValueError("--architecture-from trains a fresh model and --init starts from trained weights: pass one")
        if self.attr_channels is not None and self.init is None:  # the count itself is checked by ModelConfig
            raise ValueError("--attr-channels widens the age/gender branches of the --init model: it needs --init")
        if self.age_bins is not None and not 2 <= self.age_bins <= MAX_AGE_BINS:
            raise ValueError(f"--age-bins must be from 2 to {MAX_AGE_BINS} bins of 0-100 years, got {self.age_bins}")
        if self.age_bins is not None and self.init is None:
            raise ValueError("--age-bins replaces the age heads of the --init model: it needs --init")
        if self.fine_attributes and self.init is None:
            raise ValueError("--fine-attributes feeds the 16x16 map to the --init model's 8x8 age/gender branch: "
                             "it needs --init")
        if self.distill_attributes is not None and not 0.0 <= self.distill_attributes <= 10.0:  # also refuses NaN
            raise ValueError(f"--distill-attributes is a loss weight from 0 to 10, got {self.distill_attributes}")
        if self.distill_attributes is not None and self.init is None and self.distill_from is None:
            raise ValueError("--distill-attributes weighs the age and gender of a reference model's outputs: "
                             "pass --distill-from CHECKPOINT (or --init, whose outputs are distilled)")
        if not 0.0 <= self.age_balance <= 1.0:  # also refuses NaN
            raise ValueError(f"--age-balance is an exponent from 0 (crops drawn alike) to 1 (every 10-year age band "
                             f"drawn equally often), got {self.age_balance}")
        if self.attribute_teacher not in ATTRIBUTE_TEACHERS:
            raise ValueError(f"--attribute-teacher {self.attribute_teacher!r} is not one of {', '.join(ATTRIBUTE_TEACHERS)}")
        if not 0.0 <= self.teacher_blend <= 1.0:  # also refuses NaN
            raise ValueError(f"--teacher-blend is a share of the teacher's prediction, from 0 to 1; got {self.teacher_blend}")
        if self.warmup_steps < 0:
            raise ValueError(f"warmup_steps must be at least 0, got {self.warmup_steps}")

    @property
    def loss_weights(self) -> LossWeights:
        """The loss weights of the run: the recipe's, with --distill-attributes when given."""
        if self.distill_attributes is None:
            return self.loss
        return replace(self.loss, outputs_attributes=self.distill_attributes)

    def to_dict(self) -> dict:
        """JSON-friendly form."""
        out = asdict(self)
        out["data_root"], out["out_dir"] = str(self.data_root), str(self.out_dir)
        for name in ("init", "architecture_from", "distill_from"):
            out[name] = None if getattr(self, name) is None else str(getattr(self, name))
        return out
