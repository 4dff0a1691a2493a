"""BlazeFace front-model backbone (3x3 depthwise BlazeBlocks) with per-anchor multitask heads.

Input: (N, 3, 128, 128) RGB in [-1, 1]. Outputs, in this order (all per anchor, 896 anchors =
16x16x2 then 8x8x6, the same order as MediaPipe's BlazeFace short-range):
  regressors (N, 896, 16), scores (N, 896, 1), age (N, 896, 1), gender (N, 896, 1).
Only Conv2d, depthwise Conv2d, ReLU, MaxPool, channel Pad, Add, Transpose/Reshape, Concat: ops that
TFLite (GPU delegate, NNAPI), Core ML and ncnn all run. A model with age bins (ModelConfig.age_bins) adds a
Softmax and a MatMul per graph (the bins' probabilities and their mean), which they all run too; one with fine
attribute features (ModelConfig.fine_attributes) one more MaxPool and Concat. Training uses
BatchNorm after the convolutions that feed each ReLU (it is what lets the age and gender heads learn at all in a
short CPU run); export folds every BatchNorm into the convolution before it (`fold_batchnorm`), so no BatchNorm
op ships.

Hardware-aware choices, from measured LiteRT (XNNPACK) latency against MediaPipe's BlazeFace on the same
interpreter: the depthwise convs are 3x3 as in MediaPipe's file (the paper's 5x5 made the model 1.46x
MediaPipe's latency; 3x3 brings it to 1.04x), and the stride-2 convs pad the TensorFlow "SAME" way
(less before than after), so converters emit no separate spatial PAD op: the only PADs left are the
residuals' channel pads, as in MediaPipe's graph.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from exporter.postprocess import FRONT_ANCHORS, NUM_REGRESSORS, anchor_scales


# (out channels, stride) of BlazeFace's front model, before the width multiplier.
STAGE_16 = [(24, 1), (28, 1), (32, 2), (36, 1), (42, 1), (48, 2), (56, 1), (64, 1), (72, 1), (80, 1), (88, 1)]
STAGE_8 = [(96, 2), (96, 1), (96, 1), (96, 1), (96, 1)]
MAX_AGE_BINS = 101  # one bin per year of 0-100


def age_bin_centres(bins: int) -> torch.Tensor:
    """Ages (years / 100, as the age output) of `bins` evenly spaced bins from 0 to 100 years."""
    return torch.linspace(0.0, 1.0, bins)


@dataclass(frozen=True)
class ModelConfig:
    """Architecture knobs: width multiplies every channel count; attr_channels sizes the age/gender branch."""

    width: float = 1.0
    attr_channels: int = 32
    input_size: int = 128
    anchors_16: int = 2  # anchors per cell of the 16x16 map
    anchors_8: int = 6  # anchors per cell of the 8x8 map
    depthwise_kernel: int = 3  # 3x3 as in MediaPipe's BlazeFace (5x5 measured 1.4x slower on XNNPACK)
    channels: tuple[int, ...] = ()  # out channels of the stem and each block (pruned or searched); () = from width
    ranks: tuple[int, ...] = ()  # rank of each block's 1x1 conv (low-rank factorised); 0 or () = full rank
    age_bins: int = 0  # 0: age regressed as one value; K >= 2: a softmax over K bins of 0-100 years, read as its mean
    fine_attributes: bool = False  # the 8x8 age/gender branch also reads the finer 16x16 map, max-pooled to 8x8
    int8_per_tensor: bool = False  # the compact full-int8 TFLite file: one scale per weight tensor, no inner tensor names

    def __post_init__(self) -> None:
        """Refuse values no FaceKit model can have (types, ranges, and the anchor layout the decoder uses)."""
        for name in ("channels", "ranks"):  # a checkpoint stores them as lists
            value = getattr(self, name)
            if not isinstance(value, (list, tuple)) or not all(type(v) is int for v in value):
                raise ValueError(f"model_config.{name} must be a list of whole numbers, got {value!r}")
            object.__setattr__(self, name, tuple(value))
        for name, kind in (("width", (int, float)), ("attr_channels", int), ("input_size", int), ("anchors_16", int),
                           ("anchors_8", int), ("depthwise_kernel", int), ("age_bins", int)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, kind):
                raise ValueError(f"model_config.{name} must be a number, got {value!r}")
        for name in ("fine_attributes", "int8_per_tensor"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"model_config.{name} must be true or false, got {getattr(self, name)!r}")
        if not 0.125 <= self.width <= 4.0:
            raise ValueError(f"model_config.width must be between 0.125 and 4, got {self.width}")
        if not 1 <= self.attr_channels <= 1024:
            raise ValueError(f"model_config.attr_channels must be between 1 and 1024, got {self.attr_channels}")
        if self.age_bins != 0 and not 2 <= self.age_bins <= MAX_AGE_BINS:
            raise ValueError(f"model_config.age_bins must be 0 (one regressed value) or 2 to {MAX_AGE_BINS}, "
                             f"got {self.age_bins}")
        if self.depthwise_kernel not in (3, 5, 7):
            raise ValueError(f"model_config.depthwise_kernel must be 3, 5 or 7, got {self.depthwise_kernel}")
        layout = (FRONT_ANCHORS.input_size, 2, 6)
        if (self.input_size, self.anchors_16, self.anchors_8) != layout:
            raise ValueError(f"model_config (input_size, anchors_16, anchors_8) must be {layout}, the anchor layout "
                             f"FaceKit decodes; got ({self.input_size}, {self.anchors_16}, {self.anchors_8})")
        blocks = len(STAGE_16) + len(STAGE_8)
        if self.channels and (len(self.channels) != blocks + 1 or min(self.channels) < 1
                              or list(self.channels) != sorted(self.channels)):
            raise ValueError(f"model_config.channels must be {blocks + 1} positive counts (stem, then each block) that "
                             f"never decrease (a BlazeBlock cannot shrink its input), got {list(self.channels)}")
        if self.ranks and (len(self.ranks) != blocks or min(self.ranks) < 0):
            raise ValueError(f"model_config.ranks must be {blocks} counts of at least 0 (0: full rank), got {list(self.ranks)}")

    def block_channels(self) -> tuple[int, ...]:
        """Out channels of the stem and of every block, in order."""
        if self.channels:
            return self.channels
        return tuple(_ch(c, self.width) for c in [24] + [out for out, _ in STAGE_16 + STAGE_8])

    def block_rank(self, index: int) -> int:
        """Rank of block `index`'s 1x1 conv (0: full)."""
        return self.ranks[index] if self.ranks else 0


def _ch(channels: int, width: float) -> int:
    """Scale a channel count, rounded to a multiple of 4 (at least 8)."""
    return max(8, int(round(channels * width / 4)) * 4)


def same_padding(kernel: int, stride: int) -> tuple[int, int, int, int]:
    """F.pad amounts (left, right, top, bottom) that make a padding-0 conv match TensorFlow's SAME on even sizes."""
    total = max(kernel - stride, 0)
    return total // 2, total - total // 2, total // 2, total - total // 2


class SameConv2d(nn.Conv2d):
    """A Conv2d padded like TensorFlow's SAME (asymmetric when strided), so it converts to one TFLite conv."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int = 1, groups: int = 1):
        super().__init__(in_ch, out_ch, kernel, stride=stride, padding=0, groups=groups)
        self.same = same_padding(kernel, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.pad(x, self.same))


def _fold(conv: nn.Module, norm: nn.Module) -> nn.Module:
    """The convolution with an eval-mode BatchNorm after it merged into its weights (Identity passes through).

    A low-rank pair (Sequential of two 1x1 convs) takes the BatchNorm into its second conv.
    """
    if isinstance(norm, nn.Identity):
        return conv
    if isinstance(conv, nn.Sequential):
        return nn.Sequential(conv[0], torch.nn.utils.fusion.fuse_conv_bn_eval(conv[1], norm))
    return torch.nn.utils.fusion.fuse_conv_bn_eval(conv, norm)


def pointwise_conv(in_ch: int, out_ch: int, rank: int = 0) -> nn.Module:
    """A 1x1 conv, or with 0 < rank < min(in, out) its low-rank factorisation: in -> rank (no bias) -> out."""
    if 0 < rank < min(in_ch, out_ch):
        return nn.Sequential(nn.Conv2d(in_ch, rank, 1, bias=False), nn.Conv2d(rank, out_ch, 1))
    return nn.Conv2d(in_ch, out_ch, 1)


class BlazeBlock(nn.Module):
    """3x3 depthwise conv + 1x1 conv (+ BatchNorm), with a max-pooled, zero-channel-padded residual; then ReLU."""

    def __init__(self, in_ch: int, out_ch: int, stride: int = 1, kernel: int = 3, rank: int = 0):
        super().__init__()
        self.stride = stride
        self.extra_channels = out_ch - in_ch
        if self.extra_channels < 0:
            raise ValueError("BlazeBlock cannot shrink channels")
        self.depthwise = SameConv2d(in_ch, in_ch, kernel, stride=stride, groups=in_ch)
        self.pointwise = pointwise_conv(in_ch, out_ch, rank)
        self.norm: nn.Module = nn.BatchNorm2d(out_ch)
        self.pool = nn.MaxPool2d(2, 2) if stride == 2 else nn.Identity()

    def fold(self) -> None:
        """Merge the BatchNorm into the pointwise conv (eval mode only)."""
        self.pointwise, self.norm = _fold(self.pointwise, self.norm), nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm(self.pointwise(self.depthwise(x)))
        skip = self.pool(x)
        if self.extra_channels:
            skip = F.pad(skip, (0, 0, 0, 0, 0, self.extra_channels))
        return F.relu(h + skip)


def _stage(in_ch: int, plan: list[tuple[int, int]], config: ModelConfig, first: int) -> tuple[nn.Sequential, int]:
    """The blocks of one stage; block i of the model is `first + i` in config.block_channels()[1:]."""
    blocks = []
    for i, (_, stride) in enumerate(plan):
        out = config.block_channels()[1 + first + i]
        blocks.append(BlazeBlock(in_ch, out, stride, config.depthwise_kernel, config.block_rank(first + i)))
        in_ch = out
    return nn.Sequential(*blocks), in_ch


class AttributeBranch(nn.Module):
    """A light per-location branch (3x3 depthwise + 1x1 + BatchNorm + ReLU) feeding the age and gender heads.

    The age head gives one value per anchor, or with age_bins K the logits of K age bins per anchor.
    """

    def __init__(self, in_ch: int, channels: int, anchors: int, kernel: int = 3, age_bins: int = 0):
        super().__init__()
        self.depthwise = SameConv2d(in_ch, in_ch, kernel, groups=in_ch)
        self.pointwise = nn.Conv2d(in_ch, channels, 1)
        self.norm: nn.Module = nn.BatchNorm2d(channels)
        self.age = nn.Conv2d(channels, anchors * max(age_bins, 1), 1)
        self.gender = nn.Conv2d(channels, anchors, 1)

    def fold(self) -> None:
        """Merge the BatchNorm into the pointwise conv (eval mode only)."""
        self.pointwise, self.norm = _fold(self.pointwise, self.norm), nn.Identity()

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = F.relu(self.norm(self.pointwise(self.depthwise(x))))
        return self.age(h), self.gender(h)


def _per_anchor(x: torch.Tensor, values: int) -> torch.Tensor:
    """(N, A*values, H, W) -> (N, H*W*A, values), anchors ordered row, column, anchor."""
    n = x.shape[0]
    return x.permute(0, 2, 3, 1).reshape(n, -1, values)


def init_age_bias(head: nn.Conv2d, bins: int, years: float = 30.0) -> None:
    """Start the age head near `years`: the value itself, or bin logits of a broad bump around it."""
    if not bins:
        nn.init.constant_(head.bias, years / 100)
        return
    centres = age_bin_centres(bins)
    bump = -((centres - years / 100) ** 2) / (2 * 0.2**2)
    with torch.no_grad():
        head.bias.copy_(bump.repeat(head.out_channels // bins))


class FaceKitNet(nn.Module):
    """Multitask face network: one backbone pass gives boxes, keypoints, scores, age and gender."""

    def __init__(self, config: ModelConfig = ModelConfig()):
        super().__init__()
        self.config = config
        c0 = config.block_channels()[0]
        k = config.depthwise_kernel
        self.stem = nn.Sequential(SameConv2d(3, c0, 5, stride=2), nn.BatchNorm2d(c0), nn.ReLU())
        self.stage16, ch16 = _stage(c0, STAGE_16, config, 0)
        self.stage8, ch8 = _stage(ch16, STAGE_8, config, len(STAGE_16))
        a16, a8 = config.anchors_16, config.anchors_8
        self.score16 = nn.Conv2d(ch16, a16, 1)
        self.score8 = nn.Conv2d(ch8, a8, 1)
        self.box16 = nn.Conv2d(ch16, a16 * NUM_REGRESSORS, 1)
        self.box8 = nn.Conv2d(ch8, a8 * NUM_REGRESSORS, 1)
        self.attr16 = AttributeBranch(ch16, config.attr_channels, a16, k, config.age_bins)
        self.attr8 = AttributeBranch(ch8 + (ch16 if config.fine_attributes else 0), config.attr_channels, a8, k,
                                     config.age_bins)
        self.fine_pool = nn.MaxPool2d(2, 2) if config.fine_attributes else None
        if config.age_bins:
            self.register_buffer("age_centres", age_bin_centres(config.age_bins)[:, None], persistent=False)
        self._init_biases()

    def _init_biases(self) -> None:
        """Start with low face scores (prior 1%), boxes of each anchor's nominal size and an age of ~30 years."""
        for head in (self.score16, self.score8):
            nn.init.constant_(head.bias, -4.6)
        scales = anchor_scales(FRONT_ANCHORS)
        first_8x8 = 16 * 16 * self.config.anchors_16
        for head, slot_scales in ((self.box16, scales[: self.config.anchors_16]),
                                  (self.box8, scales[first_8x8 : first_8x8 + self.config.anchors_8])):
            bias = torch.zeros(len(slot_scales), NUM_REGRESSORS)
            bias[:, 2:4] = torch.tensor(slot_scales)[:, None] * self.config.input_size  # width, height in pixels
            with torch.no_grad():
                head.bias.copy_(bias.reshape(-1))
        for branch in (self.attr16, self.attr8):
            init_age_bias(branch.age, self.config.age_bins)

    def fold_batchnorm(self) -> "FaceKitNet":
        """Merge every BatchNorm into the conv before it, in place (eval mode); outputs stay the same."""
        if self.training:
            raise RuntimeError("fold_batchnorm needs eval mode: call model.eval() first")
        conv, norm, relu = self.stem
        self.stem = nn.Sequential(_fold(conv, norm), relu)
        for module in self.modules():
            if isinstance(module, (BlazeBlock, AttributeBranch)):
                module.fold()
        return self

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.forward_with_age_bins(x)[0]

    def forward_with_age_bins(self, x: torch.Tensor) -> tuple[tuple[torch.Tensor, ...], torch.Tensor | None]:
        """The four outputs and, with age bins, each anchor's bin probabilities (N, 896, K), whose mean is the age."""
        f16 = self.stage16(self.stem(x))
        return self.heads(f16, self.stage8(f16))

    def heads(self, f16: torch.Tensor, f8: torch.Tensor) -> tuple[tuple[torch.Tensor, ...], torch.Tensor | None]:
        """The four per-anchor outputs from the 16x16 and 8x8 feature maps (and the age bins' probabilities)."""
        age16, gender16 = self.attr16(f16)
        age8, gender8 = self.attr8(f8 if self.fine_pool is None else torch.cat([f8, self.fine_pool(f16)], 1))
        regressors = torch.cat([_per_anchor(self.box16(f16), NUM_REGRESSORS), _per_anchor(self.box8(f8), NUM_REGRESSORS)], 1)
        scores = torch.cat([_per_anchor(self.score16(f16), 1), _per_anchor(self.score8(f8), 1)], 1)
        bins = max(self.config.age_bins, 1)
        age = torch.cat([_per_anchor(age16, bins), _per_anchor(age8, bins)], 1)
        probabilities = None
        if self.config.age_bins:
            probabilities = torch.softmax(age, dim=-1)
            age = torch.matmul(probabilities, self.age_centres)
        gender = torch.cat([_per_anchor(gender16, 1), _per_anchor(gender8, 1)], 1)
        return (regressors, scores, age, gender), probabilities
