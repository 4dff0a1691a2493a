"""Core ML sizes of compressed variants: a palettized model's package with Core ML's look-up-table storage is
smaller and keeps every weight (coremltools runs here; Core ML prediction needs macOS)."""

from __future__ import annotations

import numpy as np
import pytest

from exporter.checkpoint import save_checkpoint
from exporter.compress.coreml_sizes import coreml_sizes
from exporter.compress.palettize import palettize
from exporter.model.registry import build_model

pytestmark = pytest.mark.slow


def test_a_palettized_package_stores_tables_and_is_smaller(tmp_path):
    import coremltools as ct

    checkpoint = tmp_path / "best.pt"
    save_checkpoint(checkpoint, palettize(build_model("facekit-xs").eval(), 4), {"compress": {"method": "palettize"}})
    sizes = coreml_sizes(checkpoint, tmp_path / "coreml", palettized=True)
    assert sizes["coreml_lut_bytes"] < sizes["coreml_bytes"]
    weights = [(tmp_path / "coreml" / name).rglob("weight.bin") for name in ("FaceKit.mlpackage", "lut-FaceKit.mlpackage")]
    fp16, lut = (next(found).stat().st_size for found in weights)
    assert lut < 0.5 * fp16  # 4-bit indices and small tables instead of 16-bit values
    spec = ct.models.MLModel(str(tmp_path / "coreml" / "lut-FaceKit.mlpackage"), skip_model_load=True).get_spec()
    main = spec.mlProgram.functions["main"]
    ops = [op.type for op in main.block_specializations[main.opset].operations]
    assert ops.count("constexpr_lut_to_dense") >= 10  # weights rebuilt from tables at load time
    again = coreml_sizes(checkpoint, tmp_path / "coreml", palettized=True)
    assert again == sizes and np.isclose(again["coreml_bytes"], sizes["coreml_bytes"])  # kept, not made again
