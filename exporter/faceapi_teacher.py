"""face-api's age/gender network (TinyXception, MIT) rebuilt in PyTorch from its TF.js weights, as a teacher.

The npm package `@vladmandic/face-api` ships only TF.js weights: a JSON manifest (names, shapes, uint8
quantisation) and one binary. The graph below follows its `TinyXception.ts` and `AgeGenderNet.ts`: a 112 px RGB
input normalised as (x - mean) / 255; an entry flow (3x3 stride-2 conv, two reduction blocks), two main blocks,
an exit reduction block and a separable conv to 512 channels; a 7x7 average pool; a linear age in years and a
softmax over (male, female). Every conv pads 'same' as TensorFlow does (the extra pixel at the bottom/right).

`facekit eval` scores it on the UTKFace report crops through the aligned chip of `teachers.face_chip` (padding
0.2) at 112 px: age MAE 4.34 years, gender 90.2%, against 6.37 years and 86.0% for the dlib pair. face-api was
trained on UTKFace among other sets, so these figures are optimistic; its labels are used only on training
images, never to score the model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from exporter.assets import ASSETS, asset_path
from exporter.jsonio import KB, load_json
from exporter.model.blazeface import same_padding
from exporter.teachers import check_chips, resized

INPUT_SIZE = 112
MEAN_RGB = (122.782, 117.001, 104.298)
MAIN_BLOCKS = 2
MALE_INDEX = 0


def _decode(manifest: list[dict], blob: bytes, source: Path) -> dict[str, torch.Tensor]:
    """Tensors by name from a TF.js weights manifest and its binary (uint8-quantised or float32 entries)."""
    weights, offset = {}, 0
    for group in manifest:
        for entry in group["weights"]:
            count = int(np.prod(entry["shape"]))
            quant = entry.get("quantization")
            size = count if quant else 4 * count
            if offset + size > len(blob):
                raise ValueError(f"{source}: ends before weight {entry['name']}; run `facekit assets` to restore it")
            if quant:
                values = np.frombuffer(blob, np.uint8, count, offset).astype(np.float32) * quant["scale"] + quant["min"]
            else:
                values = np.frombuffer(blob, np.float32, count, offset).copy()
            weights[entry["name"]] = torch.from_numpy(values.reshape(entry["shape"]))
            offset += size
    if offset != len(blob):
        raise ValueError(f"{source}: {len(blob) - offset} bytes beyond the manifest's weights; run `facekit assets`")
    return weights


def _pad_same(x: torch.Tensor, kernel: int, stride: int, value: float = 0.0) -> torch.Tensor:
    """TensorFlow's 'same' padding (every strided op here meets an even side: 112, 56, 28, 14)."""
    return F.pad(x, same_padding(kernel, stride), value=value)


class FaceApiAgeGender:
    """face-api's AgeGenderNet on 112 px uint8 RGB chips: ages in years and P(female)."""

    chip_size = INPUT_SIZE

    def __init__(self, cache: Path | None = None) -> None:
        manifest_path = asset_path("faceapi_age_gender_manifest.json", cache)
        blob_path = asset_path("faceapi_age_gender_model.bin", cache)
        manifest = load_json(manifest_path, max_bytes=64 * KB, what="face-api weights manifest")  # sha256-pinned
        self.w = _decode(manifest, blob_path.read_bytes(), blob_path)

    @property
    def teacher_id(self) -> str:
        """Identifies the weights (for pseudo-label caches)."""
        return f"faceapi-{ASSETS['faceapi_age_gender_model.bin'].sha256[:16]}"

    def _conv(self, x: torch.Tensor, name: str, stride: int) -> torch.Tensor:
        kernel = self.w[f"{name}/filters"].permute(3, 2, 0, 1)  # HWIO -> OIHW
        return F.conv2d(_pad_same(x, kernel.shape[-1], stride), kernel, self.w[f"{name}/bias"], stride=stride)

    def _separable(self, x: torch.Tensor, name: str) -> torch.Tensor:
        depthwise = self.w[f"{name}/depthwise_filter"].permute(2, 3, 0, 1)  # (3, 3, C, 1) -> (C, 1, 3, 3)
        pointwise = self.w[f"{name}/pointwise_filter"].permute(3, 2, 0, 1)
        x = F.conv2d(_pad_same(x, 3, 1), depthwise, groups=x.shape[1])
        return F.conv2d(x, pointwise, self.w[f"{name}/bias"])

    def _reduction(self, x: torch.Tensor, name: str, activate_input: bool = True) -> torch.Tensor:
        out = F.relu(x) if activate_input else x
        out = self._separable(out, f"{name}/separable_conv0")
        out = self._separable(F.relu(out), f"{name}/separable_conv1")
        out = F.max_pool2d(_pad_same(out, 3, 2, float("-inf")), 3, 2)
        return out + self._conv(x, f"{name}/expansion_conv", 2)

    def _main(self, x: torch.Tensor, name: str) -> torch.Tensor:
        out = x
        for i in range(3):
            out = self._separable(F.relu(out), f"{name}/separable_conv{i}")
        return out + x

    @torch.no_grad()
    def forward(self, batch_rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Ages (N,) and P(female) (N,) for an (N, 112, 112, 3) uint8 RGB batch."""
        x = torch.from_numpy(np.ascontiguousarray(batch_rgb)).float().permute(0, 3, 1, 2)
        x = (x - torch.tensor(MEAN_RGB).view(1, 3, 1, 1)) / 255.0
        out = F.relu(self._conv(x, "entry_flow/conv_in", 2))
        out = self._reduction(out, "entry_flow/reduction_block_0", activate_input=False)
        out = self._reduction(out, "entry_flow/reduction_block_1")
        for i in range(MAIN_BLOCKS):
            out = self._main(out, f"middle_flow/main_block_{i}")
        out = self._reduction(out, "exit_flow/reduction_block")
        pooled = F.relu(self._separable(out, "exit_flow/separable_conv")).mean(dim=(2, 3))  # 7x7 map, 7x7 pool
        age = pooled @ self.w["fc/age/weights"] + self.w["fc/age/bias"]
        gender = torch.softmax(pooled @ self.w["fc/gender/weights"] + self.w["fc/gender/bias"], dim=-1)
        return age[:, 0].numpy(), (1.0 - gender[:, MALE_INDEX]).numpy()

    def predict_chips(self, chips_rgb: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Ages in years (N,) and P(female) (N,) for HxWx3 uint8 RGB chips (resized to 112 px as needed)."""
        if len(chips_rgb) == 0:
            return np.zeros(0, np.float32), np.zeros(0, np.float32)
        check_chips(chips_rgb)
        ages, female = self.forward(np.stack([resized(chip, INPUT_SIZE) for chip in chips_rgb]))
        return ages.astype(np.float32), female.astype(np.float32)
