"""Run an ncnn artifact (.param + .bin) on the host with the ncnn Python package."""

from __future__ import annotations

from pathlib import Path

import ncnn
import numpy as np

from exporter.spec import OUTPUT_NAMES


class NcnnRunner:
    """An ncnn model: (N, S, S, 3) uint8 RGB squares in, the four outputs in canonical order out."""

    def __init__(self, param_path: Path, bin_path: Path, io: dict, num_threads: int = 1):
        self.io = io
        self.net = ncnn.Net()
        self.net.opt.num_threads = num_threads
        self.net.opt.use_vulkan_compute = False
        for option, value in io["options"].items():  # fp16/bf16 storage, packing, arithmetic
            setattr(self.net.opt, option, value)
        if self.net.load_param(str(param_path)) != 0 or self.net.load_model(str(bin_path)) != 0:
            raise RuntimeError(f"ncnn cannot load {param_path} with {bin_path}")

    @property
    def output_blobs(self) -> list[str]:
        """Names of the network's output blobs, in .param order."""
        return list(self.net.output_names())

    def prepare(self, square: np.ndarray) -> ncnn.Mat:
        """The normalised input Mat of one (S, S, 3) uint8 RGB square."""
        spec = self.io["input"]
        height, width = square.shape[:2]
        mat = ncnn.Mat.from_pixels(np.ascontiguousarray(square), ncnn.Mat.PixelType.PIXEL_RGB, width, height)
        mat.substract_mean_normalize(spec["mean_vals"], spec["norm_vals"])
        return mat

    def extract(self, square: np.ndarray, blobs: list[str]) -> list[np.ndarray]:
        """Float32 copies of the named blobs for one (S, S, 3) uint8 RGB square."""
        return self.infer(self.prepare(square), blobs)

    def infer(self, mat: ncnn.Mat, blobs: list[str]) -> list[np.ndarray]:
        """Run the net on a prepared input Mat; float32 copies of the named blobs."""
        spec = self.io["input"]
        outputs = []
        with self.net.create_extractor() as extractor:
            extractor.input(spec["blob"], mat)
            for blob in blobs:
                status, out = extractor.extract(blob)
                if status != 0:
                    raise RuntimeError(f"ncnn could not compute blob {blob!r} (status {status})")
                outputs.append(np.array(out.numpy(), dtype=np.float32))  # a copy: the Mat dies with the extractor
        return outputs

    def __call__(self, squares_uint8: np.ndarray) -> list[np.ndarray]:
        """regressors, scores, age, gender for a batch of squares, each (N, anchors, values) float32."""
        size = self.io["input"]["shape"][1:]
        if squares_uint8.dtype != np.uint8 or squares_uint8.ndim != 4 or list(squares_uint8.shape[1:]) != [*size, 3]:
            raise ValueError(f"expected (N, {size[0]}, {size[1]}, 3) uint8 RGB squares, "
                             f"got {squares_uint8.shape} {squares_uint8.dtype}")
        blobs = [self.io["outputs"][name]["blob"] for name in OUTPUT_NAMES]
        per_image = [self.extract(square, blobs) for square in squares_uint8]
        return [np.stack(outputs) for outputs in zip(*per_image)]
