"""How near QAT's int8 simulation comes to a real full-int8 TFLite file, beside the float model, on the export's images."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from exporter.checkpoint import CheckpointError, load_model
from exporter.compress.qat import simulated_int8
from exporter.export.images import ExportDataError, export_images
from exporter.runner import Runner, litert_runner, torch_runner
from exporter.spec import OUTPUT_NAMES


def mean_differences(checkpoint: Path, file_runner: Runner, data_root: Path | None) -> dict[str, dict[str, float]]:
    """Mean absolute difference of each raw output from the file's (run by `file_runner`), over every anchor of the
    verification images, for the float model and for the simulation (calibrated on the same images as the file)."""
    calibration, verification = export_images(data_root, calibrate=True)
    images = verification.squares
    file_outputs = file_runner(images)
    models = {"float": load_model(checkpoint, fold_batchnorm=True)[0],
              "simulated": simulated_int8(load_model(checkpoint)[0], calibration.squares)}
    return {name: {output: float(np.abs(ours - theirs).mean())
                   for output, ours, theirs in zip(OUTPUT_NAMES, torch_runner(model)(images), file_outputs)}
            for name, model in models.items()}


def main(argv: list[str] | None = None) -> int:
    """Print the differences: python -m exporter.compress.qat_fidelity CHECKPOINT INT8_TFLITE [--data DIR]"""
    parser = argparse.ArgumentParser(prog="python -m exporter.compress.qat_fidelity", description=main.__doc__)
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("tflite", type=Path, help="the checkpoint's full-int8 file, exported with the same --data")
    parser.add_argument("--data", type=Path, default=None, help="datasets folder (default: the built-in image set)")
    args = parser.parse_args(argv)
    if not args.tflite.is_file():
        parser.error(f"{args.tflite} is not a file; export the checkpoint first (make export CHECKPOINT=...)")
    try:
        file_runner = litert_runner(args.tflite)
    except ValueError as error:  # LiteRT's refusal of a file that is not a TFLite model
        parser.error(f"{args.tflite} cannot be run by LiteRT ({str(error)[:120]}); pass the exported facekit_int8.tflite")
    try:
        rows = mean_differences(args.checkpoint, file_runner, args.data)
    except (CheckpointError, ExportDataError) as error:
        parser.error(str(error))
    print("mean |difference| from the file's outputs: " + ", ".join(OUTPUT_NAMES) + " (age: years / 100)")
    for name, row in rows.items():
        print(f"{name:10} " + " ".join(f"{row[o]:.4f}" for o in OUTPUT_NAMES))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
