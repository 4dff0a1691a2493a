"""The training loop: seeded, with a progress bar, periodic validation, best/last checkpoints and resume."""

from __future__ import annotations

import copy
import dataclasses
import math
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from exporter.checkpoint import CheckpointError, load_model, model_config_of, read_checkpoint, save_checkpoint
from exporter.data.splits import evenly
from exporter.detector import Detector
from exporter.eval.scores import score_scenes, score_utkface
from exporter.digest import sha256_of
from exporter.jsonio import write_json
from exporter.model.age_bins import with_age_bins
from exporter.model.fine_attributes import with_fine_attributes
from exporter.model.blazeface import FaceKitNet
from exporter.model.registry import build_model
from exporter.model.summary import summarize
from exporter.model.widen import widen_attributes
from exporter.postprocess import FRONT_ANCHORS, anchor_scales, generate_anchors, sigmoid
from exporter.preprocess import to_nchw
from exporter.spec import FACEKIT
from exporter.pseudo_labels import PseudoLabelCache
from exporter.teachers import BlazeFaceTeacher
from exporter.train.config import ATTRIBUTE_TEACHERS, TrainConfig
from exporter.train.loss import TargetBatch, multitask_loss, output_distillation
from exporter.data.layout import DatasetLayoutError, load_splits
from exporter.train.pools import AttributeBlend, negative_images, scene_sources, utk_sources, video_sources
from exporter.train.samples import SamplePools, age_balanced_odds, draw_sample
from exporter.train.targets import anchor_boxes, assign


def resolve_device(name: str) -> torch.device:
    """'auto' picks CUDA when available, else the CPU; an explicit device that is absent is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ValueError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} requested but no CUDA GPU is visible; use --device cpu or auto")
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"device {name!r} is not supported; use auto, cpu, cuda or cuda:N")
    return device


class TrainingDiverged(ValueError):
    """The loss became NaN or infinite; the checkpoints written before are kept."""


SELECT_CANVASES = (1, 2)  # face filling the input, and at half its side: the checkpoint must hold at both


def host_description(device: torch.device) -> str:
    """Where a run trains, for the model card: device, CPU architecture and cores, threads, torch version."""
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    return (f"{where}; {platform.machine()} host with {os.cpu_count()} CPU cores, torch {torch.__version__} "
            f"using {torch.get_num_threads()} threads")


def validation_score(metrics: dict[str, float]) -> float:
    """One number to pick the best checkpoint: unmasked AP + gender accuracy - age MAE / 10."""
    return metrics["ap_unmasked"] + metrics["gender_accuracy"] - metrics["age_mae"] / 10.0


def run_history(best: Path, payload: dict) -> list[dict]:
    """The whole validation history of the run a best.pt comes from (its sibling last.pt's), else the file's own."""
    last = Path(best).with_name("last.pt")
    if Path(best).name == "best.pt" and last.is_file():
        return read_checkpoint(last).get("train", {}).get("history") or []
    return (payload.get("train") or {}).get("history") or []


def source_of(checkpoint: Path) -> dict:
    """Which checkpoint file a run drew on: its path and sha256 (for `extra`'s init, distill_from, architecture)."""
    return {"checkpoint": str(checkpoint), "sha256": sha256_of(checkpoint)}


class Trainer:
    """Holds the model, data pools and optimiser of one run.

    By default it trains a fresh model of config.variant; with config.init it starts from that checkpoint and keeps
    its detection outputs (a frozen copy is the `teacher`); with config.distill_from that model is the teacher instead.
    Compression fine-tuning passes the compressed `model`, the uncompressed `teacher` whose outputs it should match,
    and `extra` facts saved into every checkpoint.
    """

    def __init__(self, config: TrainConfig, log=print, model: FaceKitNet | None = None,
                 teacher: FaceKitNet | None = None, extra: dict | None = None):
        self.config = config
        self.log = log
        self.extra = extra or {}
        rng = np.random.default_rng(config.seed)
        torch.manual_seed(config.seed)
        self.rng = rng
        self.anchors = generate_anchors(FRONT_ANCHORS)
        self.scales = anchor_scales(FRONT_ANCHORS)
        self.nominal = anchor_boxes(self.anchors, self.scales)
        self.device = resolve_device(config.device)
        if model is None and config.init is not None:
            model, teacher = self._start_from(config.init)
        if model is None and config.architecture_from is not None:
            model = self._fresh_like(config.architecture_from)
        self.model = model if model is not None else build_model(config.variant)
        if config.distill_from is not None:
            teacher = self._reference(config.distill_from)
        name = config.variant if config.architecture_from is None else f"shaped like {config.architecture_from}"
        self.log(f"model {name}: {summarize(self.model)}; training on {self.device}")
        self.model.to(self.device, memory_format=torch.channels_last)  # about 2x faster convolutions on the CPU
        self.teacher_model = teacher.eval().to(self.device, memory_format=torch.channels_last) if teacher else None
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        self.step = 0
        self.best_score = -math.inf
        self.history: list[dict] = []
        self.elapsed_before = 0.0  # seconds of training before a resume
        self._build_data()

    def _start_from(self, init: Path) -> tuple[FaceKitNet, FaceKitNet]:
        """The init checkpoint's model to train and a frozen copy to distil from; its facts go into `extra`."""
        teacher, payload = load_model(init)
        widen = self.config.attr_channels
        model = copy.deepcopy(teacher) if widen is None else widen_attributes(teacher, widen)  # a new model either way
        if self.config.age_bins is not None:
            model = with_age_bins(model, self.config.age_bins)
        if self.config.fine_attributes:
            model = with_fine_attributes(model)
        train = payload.get("train") or {}
        history = run_history(init, payload)
        self.extra["init"] = {**source_of(init), "config": train.get("config"), "best_step": train.get("step"),
                              "metrics": train.get("metrics"), "host": train.get("host"),
                              "seconds": history[-1]["elapsed_s"] if history else None,
                              "compress": payload.get("compress")}  # a compressed init stays one (the Pareto report)
        return model, teacher

    def _reference(self, checkpoint: Path) -> FaceKitNet:
        """The --distill-from model whose outputs the run matches (every variant has the same anchors); noted in `extra`."""
        reference, payload = load_model(checkpoint)
        train = payload.get("train") or {}
        self.extra["distill_from"] = {**source_of(checkpoint), "model_config": dataclasses.asdict(reference.config),
                                      "best_step": train.get("step"), "metrics": train.get("metrics")}
        return reference

    def _fresh_like(self, checkpoint: Path) -> FaceKitNet:
        """An untrained model with the checkpoint's architecture (a pruned or width-searched one); noted in `extra`."""
        payload = read_checkpoint(checkpoint)
        config = model_config_of(payload, checkpoint)
        self.extra["architecture"] = {**source_of(checkpoint), "model_config": dataclasses.asdict(config)}
        return FaceKitNet(config)

    def _build_data(self) -> None:
        cfg = self.config
        splits = load_splits(cfg.data_root)
        self.teacher = BlazeFaceTeacher("short", num_threads=1)
        cache = PseudoLabelCache(self.teacher.teacher_id)
        use_videos = bool(splits.videos_train) and cfg.mix.video > 0
        attr_teacher = ATTRIBUTE_TEACHERS[cfg.attribute_teacher]() if cfg.teacher_blend > 0 or use_videos else None
        blend = None if cfg.teacher_blend == 0 else AttributeBlend(
            attr_teacher, PseudoLabelCache(f"{self.teacher.teacher_id}-{attr_teacher.teacher_id}-utk"), cfg.teacher_blend)
        crops, utk_report = utk_sources(evenly(splits.utk_train, cfg.utk_limit), self.teacher, cache, blend)
        scenes, scene_report = scene_sources(evenly(splits.scenes_train, cfg.scene_limit))
        videos, video_report = ([], None)
        if use_videos:
            frame_cache = PseudoLabelCache(f"{self.teacher.teacher_id}-{attr_teacher.teacher_id}-frames")
            videos, video_report = video_sources(splits.videos_train, cfg.video_every, self.teacher, attr_teacher, frame_cache)
        backgrounds, neg_report = negative_images(splits.negatives)
        for report in [*splits.reports, utk_report, scene_report, video_report, neg_report]:
            if report is not None:
                self.log(report.summary())
        self.val_utk = evenly(splits.utk_select, cfg.val_utk)
        for name, found, report in (("UTKFace training crops", crops, utk_report), ("face-free images", backgrounds, neg_report),
                                    ("UTKFace select crops", self.val_utk, None)):
            if not found:
                detail = f" ({report.summary()})" if report is not None else ""
                raise DatasetLayoutError(f"{cfg.data_root} has no usable {name}{detail}: too few or unreadable files; "
                                         "add readable images or point --data at another folder")
        odds = None if cfg.age_balance == 0 else age_balanced_odds(np.array([c.faces[0].age for c in crops]), cfg.age_balance)
        self.pools = SamplePools(crops, backgrounds, scenes, videos, odds)
        self.val_scenes = splits.scenes_select
        self.data_summary = {
            "utkface_train_crops": len(crops),
            "utkface_select_crops_scored_in_training": len(self.val_utk),
            "scene_select_images": len(self.val_scenes),
            "scene_train_images": len(scenes),
            "video_train_frames": len(videos),
            "video_train_files": [p.name for p in splits.videos_train],
            "video_report_files": [p.name for p in splits.videos_report],
            "negative_images": len(backgrounds),
        }

    def _lr(self) -> float:
        cfg = self.config
        if self.step < cfg.warmup_steps:
            return cfg.lr * (self.step + 1) / cfg.warmup_steps
        progress = (self.step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
        return cfg.lr * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))

    def _batch(self) -> tuple[torch.Tensor, TargetBatch]:
        cfg = self.config
        size = self.model.config.input_size
        images, per_sample = [], []
        for _ in range(cfg.batch_size):
            image, labels = draw_sample(self.rng, self.pools, size, cfg.mix, cfg.augment)
            images.append(image)
            per_sample.append(assign(labels, self.anchors, self.nominal, size))
        batch = np.stack(images)
        stack = lambda name: torch.from_numpy(np.stack([getattr(t, name) for t in per_sample]))  # noqa: E731
        teacher = None
        if cfg.distill:
            teacher = torch.from_numpy(np.stack([sigmoid(self.teacher.raw(img)[1]) for img in images]))
        targets = TargetBatch(
            stack("label"), stack("regressors"), stack("keypoint_mask"), stack("age"), stack("gender"),
            stack("attr_weight"), teacher,
        ).to(self.device)
        x = torch.from_numpy(to_nchw(FACEKIT.input.normalise(batch))).to(self.device, memory_format=torch.channels_last)
        return x, targets

    def train_step(self, batch: tuple[torch.Tensor, TargetBatch] | None = None) -> dict[str, float]:
        """One optimisation step on the given batch, or on a freshly drawn one."""
        for group in self.optimizer.param_groups:
            group["lr"] = self._lr()
        x, targets = batch if batch is not None else self._batch()
        self.model.train()
        outputs, age_probabilities = self.model.forward_with_age_bins(x)
        scales = torch.tensor(self.scales, device=self.device)
        weights = self.config.loss_weights
        loss, parts = multitask_loss(outputs, targets, scales, self.model.config.input_size, weights,
                                     age_probabilities)
        if self.teacher_model is not None:
            with torch.no_grad():
                reference = self.teacher_model(x)
            match = output_distillation(outputs, reference, scales, self.model.config.input_size, weights)
            loss = loss + weights.outputs * match
            parts |= {"outputs": match.item(), "total": loss.item()}
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 5.0)
        self.optimizer.step()
        self.step += 1
        return parts

    def validate(self) -> dict[str, float]:
        """Age/gender on UTKFace select crops at each face size and detection AP on the scene select part.

        The first look only (the model itself); the report parts are never scored here.
        """
        detector = Detector.from_torch(self.model, device=str(self.device), second_look=None)
        metrics: dict[str, float] = {}
        for canvas in SELECT_CANVASES:
            attrs = score_utkface(detector, self.val_utk, progress=False, canvas=canvas)
            metrics.update({f"age_mae_{canvas}x": attrs.age_mae, f"gender_accuracy_{canvas}x": attrs.gender_accuracy,
                            f"utk_detected_{canvas}x": attrs.detected})
        for name in ("age_mae", "gender_accuracy"):  # the checkpoint is chosen on the mean over the face sizes
            metrics[name] = float(np.mean([metrics[f"{name}_{canvas}x"] for canvas in SELECT_CANVASES]))
        if self.val_scenes:
            det = score_scenes(detector, self.val_scenes, progress=False)
            metrics.update(ap_all=det.ap_all, ap_unmasked=det.ap_unmasked, ap_large=det.ap_large)
        else:
            metrics.update(ap_all=0.0, ap_unmasked=0.0, ap_large=0.0)
        return metrics

    def _extra(self, metrics: dict | None) -> dict:
        return {
            "train": {
                "config": self.config.to_dict(),
                "step": self.step,
                "metrics": metrics,
                "best_score": self.best_score,
                "history": self.history,
                "data": self.data_summary,
                "device": str(self.device),
                "host": host_description(self.device),
            },
            **self.extra,
        }

    def save(self, path: Path, metrics: dict | None, with_state: bool) -> None:
        """Checkpoint; training state (optimiser, RNG) only in the resumable 'last' file."""
        extra = self._extra(metrics)
        if with_state:
            extra["resume"] = {
                "optimizer": self.optimizer.state_dict(),
                "numpy_rng": self.rng.bit_generator.state,
                "torch_rng": torch.get_rng_state(),
            }
        save_checkpoint(path, self.model, extra)

    def resume(self, path: Path) -> None:
        """Continue from a 'last' checkpoint of the same configuration."""
        payload = read_checkpoint(path)
        try:
            self.model.load_state_dict(payload["state_dict"])
            state = payload["resume"]
            self.optimizer.load_state_dict(state["optimizer"])
            self.rng.bit_generator.state = state["numpy_rng"]
            torch.set_rng_state(state["torch_rng"])
            train = payload["train"]
            self.step, self.best_score, self.history = int(train["step"]), float(train["best_score"]), list(train["history"])
            self.elapsed_before = float(self.history[-1]["elapsed_s"]) if self.history else 0.0
        except (KeyError, TypeError, ValueError, RuntimeError, IndexError) as exc:
            raise CheckpointError(f"{path} cannot be resumed by this run ({exc.__class__.__name__}: {str(exc)[:200]}): "
                                  f"it is not a `last.pt` of the same --variant; delete it or drop --resume") from None
        self.log(f"resumed from {path} at step {self.step}")

    def _checkpoint(self, running: dict[str, float], start: float, best: Path, last: Path) -> dict | None:
        """Validate, log, save last.pt (and best.pt when better); the metrics when they are the new best."""
        metrics = self.validate()
        score = validation_score(metrics)
        elapsed_s = self.elapsed_before + time.time() - start
        self.history.append({"step": self.step, "elapsed_s": elapsed_s, "loss": running, **metrics, "score": score})
        tqdm.write(f"step {self.step}: " + ", ".join(f"{k} {v:.3f}" for k, v in metrics.items()))
        better = score > self.best_score
        if better:
            self.best_score = score
            self.save(best, metrics, with_state=False)
        self.save(last, metrics, with_state=True)
        return metrics if better else None

    def run(self, resume: bool = False) -> dict:
        """Train to config.steps; returns the best validation metrics."""
        out = Path(self.config.out_dir)
        out.mkdir(parents=True, exist_ok=True)
        last, best = out / "last.pt", out / "best.pt"
        if resume and last.exists():
            self.resume(last)
        start = time.time()
        best_metrics = None
        if not self.history and self.config.init is not None:  # the starting point competes for best.pt too
            best_metrics = self._checkpoint({}, start, best, last)
        bar = tqdm(total=self.config.steps, initial=self.step, desc="training", unit="step")
        running: dict[str, float] = {}
        while self.step < self.config.steps:
            parts = self.train_step()
            if not math.isfinite(parts["total"]):
                raise TrainingDiverged(f"training diverged at step {self.step}: the loss is {parts['total']}; "
                                       f"train again with a lower --lr (now {self.config.lr:g}) or resume from an "
                                       "earlier checkpoint")
            running = {k: 0.9 * running.get(k, v) + 0.1 * v for k, v in parts.items()}
            bar.update(1)
            bar.set_postfix(loss=f"{running['total']:.3f}", age=f"{running['age_mae_years']:.1f}")
            if self.step % self.config.val_every == 0 or self.step == self.config.steps:
                best_metrics = self._checkpoint(running, start, best, last) or best_metrics
        bar.close()
        elapsed = self.elapsed_before + time.time() - start  # the whole run's, across resumes
        write_json(out / "history.json", {"history": self.history, "seconds": elapsed})
        self.log(f"trained {self.step} steps in {elapsed / 60:.1f} min; best checkpoint {best}")
        return best_metrics or {}
