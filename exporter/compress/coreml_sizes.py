"""Core ML package sizes for the Pareto report: the fp16 ML Program every variant exports, and for a palettized
variant the same program with Core ML's native look-up-table storage (coremltools' "unique" palettization: the
variant already has at most 2^bits distinct weights per tensor, so the table stores them without loss)."""

from __future__ import annotations

import shutil
from pathlib import Path

from exporter.digest import sha256_of


def package_bytes(package: Path) -> int:
    """Bytes of every file in a .mlpackage folder."""
    return sum(f.stat().st_size for f in package.rglob("*") if f.is_file())


def coreml_sizes(checkpoint: Path, folder: Path, palettized: bool) -> dict[str, int]:
    """{"coreml_bytes": ..., and "coreml_lut_bytes" when palettized}; the packages are kept in `folder` and made
    again only when the checkpoint changes."""
    from exporter.export.to_coreml import PACKAGE, convert

    stamp, package, lut = folder / "checkpoint.sha256", folder / PACKAGE, folder / f"lut-{PACKAGE}"
    digest = sha256_of(checkpoint)
    if not (stamp.is_file() and stamp.read_text() == digest and package.is_dir()):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        convert(checkpoint, package)
        if palettized:
            write_lut_package(package, lut)
        stamp.write_text(digest)
    sizes = {"coreml_bytes": package_bytes(package)}
    if palettized and lut.is_dir():
        sizes["coreml_lut_bytes"] = package_bytes(lut)
    return sizes


def write_lut_package(package: Path, out: Path) -> None:
    """The package with every weight tensor stored as indices into its table of distinct values."""
    import coremltools as ct
    from coremltools.optimize.coreml import OpPalettizerConfig, OptimizationConfig, palettize_weights

    model = ct.models.MLModel(str(package), skip_model_load=True)
    config = OptimizationConfig(global_config=OpPalettizerConfig(mode="unique", weight_threshold=1))
    palettize_weights(model, config).save(str(out))
