"""The table of compression methods: `facekit compress`, `make compress` and the Pareto report read it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from exporter.compress.lowrank import factorise
from exporter.compress.palettize import palettize
from exporter.compress.prune import prune_channels
from exporter.compress.qat import prepare_qat, recalibrate_while_training
from exporter.compress.search import search_within_budget
from exporter.compress.size_search import search_within_size
from exporter.model.blazeface import FaceKitNet
from exporter.train.loss import LossWeights

# QAT learns to give the float model's outputs under quantisation: output distillation only, no label terms, so the
# fine-tuning does not also move the model away from what post-training int8 is compared against
MATCH_THE_FLOAT_MODEL = LossWeights(labels=0.0, outputs=1.0)


@dataclass(frozen=True)
class Method:
    """One compression method: how it changes a model and whether it is fine-tuned afterwards."""

    name: str
    apply: Callable[[FaceKitNet, float], FaceKitNet]
    amount_means: str  # what --amount is for this method
    fine_tune: bool  # fine-tuned with output distillation from the uncompressed model
    recipes: tuple[float, ...]  # the amounts `make compress` runs
    lr: float = 1e-3  # peak fine-tuning learning rate
    loss: LossWeights = LossWeights()  # fine-tuning loss: the labels plus distillation of the uncompressed model
    # given the export's int8 calibration images (uint8 NHWC) before fine-tuning, for methods that simulate the file
    calibrate: Callable[[FaceKitNet, np.ndarray], FaceKitNet] | None = None


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method("prune", prune_channels, "share of the backbone's channels removed (0-1)", True, (0.25, 0.5)),
        Method("lowrank", factorise, "rank of each factorised 1x1 conv as a share of full rank (0-1)", True,
               (0.25, 0.375)),
        Method("palettize", lambda model, bits: palettize(model, int(bits)), "bits per weight (1-8)", False, (4, 6)),
        Method("qat", lambda model, bits: prepare_qat(model, int(bits)), "bits of the int8 scheme (only 8: what TFLite runs)",
               True, (8,), lr=2e-4, loss=MATCH_THE_FLOAT_MODEL, calibrate=recalibrate_while_training),
        Method("search", search_within_budget, "int8 latency budget as a share of MediaPipe's, from the latency table "
               "(runs/compress/latency_table.json, measured on first use)", True, (0.6, 0.7)),
        Method("size", search_within_size, "full-int8 TFLite size budget in KB, weights quantised per tensor", True,
               (100,)),
    )
}


def variant_name(method: str, amount: float) -> str:
    """Folder and report name of one compressed variant, e.g. prune-0.25."""
    return f"{method}-{amount:g}"
