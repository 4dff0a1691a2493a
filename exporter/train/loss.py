"""Multitask loss: face score (hard-negative mined), box, keypoints, age, gender, and teacher distillation."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from exporter.model.blazeface import age_bin_centres


@dataclass(frozen=True)
class LossWeights:
    """Weights of each loss term and the hard-negative ratio."""

    score: float = 1.0
    box: float = 1.0
    keypoints: float = 0.5
    age: float = 4.0
    gender: float = 1.0
    distill: float = 2.0
    outputs: float = 1.0  # output distillation from a reference model (compression and the attributes stage)
    outputs_attributes: float = 1.0  # share of that distillation on age and gender (0: detection outputs only)
    labels: float = 1.0  # share of the label terms above (0: learn only from the reference model's outputs)
    age_distribution: float = 0.25  # models with age bins: KL from a Gaussian around the true age to the bins' softmax
    negatives_per_positive: int = 3
    min_negatives: int = 16
    variance: float = 0.1  # regression errors are measured in units of 0.1 x the anchor's nominal side


@dataclass
class TargetBatch:
    """Stacked per-anchor targets of a batch (B samples, A anchors), as tensors."""

    label: torch.Tensor  # (B, A) int8: 1 face, 0 background, -1 ignore
    regressors: torch.Tensor  # (B, A, 16)
    keypoint_mask: torch.Tensor  # (B, A, 6) bool
    age: torch.Tensor  # (B, A) years/100 or NaN
    gender: torch.Tensor  # (B, A) in [0,1] or NaN
    attr_weight: torch.Tensor  # (B, A)
    teacher_scores: torch.Tensor | None = None  # (B, A) teacher face probabilities

    def to(self, device: torch.device) -> "TargetBatch":
        """The same targets on another device."""
        moved = {k: (None if v is None else v.to(device)) for k, v in vars(self).items()}
        return TargetBatch(**moved)


def _score_loss(logits: torch.Tensor, label: torch.Tensor, w: LossWeights) -> torch.Tensor:
    """BCE over positives and the hardest negatives (3 per positive, at least min_negatives per image)."""
    target = (label == 1).float()
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    negatives = (label == 0)
    neg_loss = torch.where(negatives, bce, torch.zeros_like(bce))
    num_pos = target.sum(dim=1)
    keep = torch.clamp(num_pos * w.negatives_per_positive, min=w.min_negatives).long()
    rank = neg_loss.detach().argsort(dim=1, descending=True).argsort(dim=1)
    hard = negatives & (rank < keep[:, None])
    return (bce * target).sum() + (bce * hard.float()).sum()


def _smooth_l1(diff: torch.Tensor) -> torch.Tensor:
    return F.smooth_l1_loss(diff, torch.zeros_like(diff), reduction="none", beta=1.0)


def multitask_loss(
    outputs: tuple[torch.Tensor, ...],
    targets: TargetBatch,
    anchor_scales: torch.Tensor,
    input_size: int,
    w: LossWeights = LossWeights(),
    age_probabilities: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Total loss and its parts (as floats, for logging); age_probabilities: a binned model's (B, A, K) softmax."""
    regressors, scores, age, gender = outputs
    scores, age, gender = scores[..., 0], age[..., 0], gender[..., 0]
    pos = targets.label == 1
    num_pos = pos.sum().clamp(min=1).float()

    unit = (input_size * anchor_scales * w.variance)[None, :, None]
    diff = (regressors - targets.regressors) / unit
    box = (_smooth_l1(diff[..., :4]).sum(-1) * pos).sum() / num_pos
    kp_diff = _smooth_l1(diff[..., 4:]).view(*diff.shape[:2], -1, 2).sum(-1)
    kp_mask = targets.keypoint_mask & pos[..., None]
    keypoints = (kp_diff * kp_mask).sum() / kp_mask.sum().clamp(min=1)

    score = _score_loss(scores, targets.label, w) / num_pos

    has_age = pos & ~torch.isnan(targets.age)
    age_w = targets.attr_weight * has_age
    age_loss = (torch.abs(age - torch.nan_to_num(targets.age)) * age_w).sum() / age_w.sum().clamp(min=1e-6)
    age_kl = torch.zeros((), device=scores.device)
    if age_probabilities is not None:
        kl = age_label_kl(age_probabilities, torch.nan_to_num(targets.age))
        age_kl = (kl * age_w).sum() / age_w.sum().clamp(min=1e-6)
    has_gender = pos & ~torch.isnan(targets.gender)
    gender_w = targets.attr_weight * has_gender
    gender_bce = F.binary_cross_entropy_with_logits(gender, torch.nan_to_num(targets.gender), reduction="none")
    gender_loss = (gender_bce * gender_w).sum() / gender_w.sum().clamp(min=1e-6)

    distill = torch.zeros((), device=scores.device)
    if targets.teacher_scores is not None and w.distill > 0:
        t = targets.teacher_scores.clamp(1e-4, 1 - 1e-4)
        kl = F.binary_cross_entropy_with_logits(scores, t, reduction="none") + t * t.log() + (1 - t) * (1 - t).log()
        distill = (kl * (targets.label >= 0)).sum() / num_pos

    total = w.labels * (
        w.score * score + w.box * box + w.keypoints * keypoints + w.age * age_loss + w.gender * gender_loss
        + w.distill * distill + w.age_distribution * age_kl
    )
    parts = {
        "score": score.item(),
        "box": box.item(),
        "keypoints": keypoints.item(),
        "age_mae_years": 100 * age_loss.item(),
        "gender": gender_loss.item(),
        "distill": distill.item(),
        "age_kl": age_kl.item(),
        "total": total.item(),
    }
    return total, parts


def age_label_kl(probabilities: torch.Tensor, age: torch.Tensor) -> torch.Tensor:
    """KL(label distribution || probabilities) per anchor: the label is a Gaussian of one bin's width around `age`."""
    bins = probabilities.shape[-1]
    centres = age_bin_centres(bins).to(probabilities.device)
    sigma = 1.0 / (bins - 1)
    label = torch.softmax(-((centres - age[..., None]) ** 2) / (2 * sigma**2), dim=-1)
    return (label * (label.clamp(min=1e-12).log() - probabilities.clamp(min=1e-12).log())).sum(-1)


def output_distillation(student: tuple[torch.Tensor, ...], teacher: tuple[torch.Tensor, ...], anchor_scales: torch.Tensor,
                        input_size: int, w: LossWeights = LossWeights()) -> torch.Tensor:
    """How far a model's outputs are from a reference model's (the uncompressed one, or the base stage), on every anchor.

    Face scores: KL divergence from the teacher's probabilities, summed over anchors, averaged over images. Boxes,
    keypoints, age and gender (weighted by w.outputs_attributes): only where the teacher sees a face (probability
    above 0.5), weighted by it. Zero when the outputs are equal.
    """
    s_reg, s_score, s_age, s_gender = (o.float() for o in student)
    t_reg, t_score, t_age, t_gender = (o.detach().float() for o in teacher)
    t_face = torch.sigmoid(t_score[..., 0])
    score = _binary_kl(s_score[..., 0], t_face).sum(1).mean()
    weight = t_face * (t_face > 0.5)
    norm = weight.sum().clamp(min=1.0)
    unit = (input_size * anchor_scales * w.variance)[None, :, None]
    regress = (_smooth_l1((s_reg - t_reg) / unit).sum(-1) * weight).sum() / norm
    age = (torch.abs(s_age - t_age)[..., 0] * weight).sum() / norm
    gender = (_binary_kl(s_gender[..., 0], torch.sigmoid(t_gender[..., 0])) * weight).sum() / norm
    return score + regress + w.outputs_attributes * (w.age * age + w.gender * gender)


def _binary_kl(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """KL(target || sigmoid(logits)) of Bernoulli distributions, element-wise."""
    t = target.clamp(1e-6, 1 - 1e-6)
    return F.binary_cross_entropy_with_logits(logits, t, reduction="none") + t * t.log() + (1 - t) * (1 - t).log()
