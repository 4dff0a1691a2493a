"""What a converter reports about the files it wrote: one JSON report per format, read by the exporter."""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass, field
from pathlib import Path

from exporter.jsonio import MB, load_json, write_json



@dataclass
class Artifact:
    """One exported model file (or package) at one precision."""

    format: str
    precision: str
    path: str  # main file, relative to the export folder
    files: list[str]  # every file it consists of (a .mlpackage counts as one), relative to the export folder
    io: dict = field(default_factory=dict)  # input/output tensor names, shapes, dtypes, quantisation
    checks: dict = field(default_factory=dict)  # static checks done at conversion (op census, spec checks ...)


def report_path(out_dir: Path, format_name: str) -> Path:
    """Where a converter writes its report."""
    return Path(out_dir) / f"{format_name}.report.json"


def write_report(out_dir: Path, format_name: str, artifacts: list[Artifact], seconds: float) -> Path:
    """Write the report of one converter run."""
    return write_json(report_path(out_dir, format_name), {"format": format_name, "seconds": round(seconds, 2),
                                                          "artifacts": [asdict(a) for a in artifacts]})


def read_report(out_dir: Path, format_name: str) -> tuple[list[Artifact], float]:
    """Artifacts and conversion seconds from a converter's report."""
    data = load_json(report_path(out_dir, format_name), max_bytes=MB, what=f"{format_name} converter report")
    return [Artifact(**a) for a in data["artifacts"]], float(data["seconds"])


def converter_args(description: str, argv=None) -> argparse.Namespace:
    """The command line every converter takes (the exporter runs each in its own process)."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--checkpoint", type=Path, required=True, help="FaceKit checkpoint (.pt)")
    p.add_argument("--onnx", type=Path, required=True, help="the exported ONNX file (input of onnx2tf and pnnx)")
    p.add_argument("--out", type=Path, required=True, help="folder to write the artifacts and the report into")
    p.add_argument("--precisions", nargs="+", required=True)
    p.add_argument("--calibration", type=Path, default=None, help=".npy of uint8 NHWC face images (int8 only)")
    return p.parse_args(argv)
