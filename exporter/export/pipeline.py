"""`facekit export`: convert (each format in its own process), verify against PyTorch, package atomically, install."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from exporter.assets import ASSETS, assets_dir
from exporter.atomic import check_writable_folder
from exporter.checkpoint import load_model
from exporter.compress.qat import SIMULATED_ARTIFACT, simulated_int8, trained_for_int8
from exporter.digest import sha256_of
from exporter.export import bundle
from exporter.export.artifacts import Artifact, read_report
from exporter.export.contract import write_contract
from exporter.export.formats import FORMATS, Format, formats_for, precisions_for
from exporter.export.images import export_images
from exporter.export.integration_readme import render_readme
from exporter.export.runners import runner_for
from exporter.export.verify import Parity, compare, median_latency_ms
from exporter.jsonio import write_json
from exporter.runner import Runner, torch_runner
from exporter.paths import REPO_ROOT

VERIFIED, NOT_VERIFIED, FAILED = "verified", "exported, not verified", "failed"
CONTRACT_FOLDER = "contract"  # the golden cases and reuse traces, in the bundle (tests/golden/ in the repository)


class ExportFailed(RuntimeError):
    """A conversion or a verification failed; nothing was packaged."""


@dataclass
class Row:
    """One artifact's outcome."""

    artifact: Artifact
    status: str
    size: int
    parity: Parity | None = None
    latency_ms: float | None = None
    note: str = ""


def run_converter(fmt: Format, precisions: tuple[str, ...], checkpoint: Path, staging: Path, calibration: Path | None,
                  log, threads: int | None = None) -> list[Artifact]:
    """Run one converter module in its own process; raise ExportFailed with its output's tail on failure.

    threads: the math-library threads it may use (None: the libraries' defaults)."""
    command = [sys.executable, "-m", fmt.converter, "--checkpoint", str(checkpoint), "--onnx",
               str(staging / FORMATS["onnx"].artifact_name("fp32")), "--out", str(staging), "--precisions", *precisions]
    if calibration is not None:
        command += ["--calibration", str(calibration)]
    log(f"converting {fmt.name} ({', '.join(precisions)})...")
    scratch = staging / f".tmp-{fmt.name}"  # the converter's temporary files: removed with the staging folder
    scratch.mkdir(exist_ok=True)
    env = {**os.environ, "TMPDIR": str(scratch)}
    if threads is not None:
        env |= {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise ExportFailed(f"{fmt.name} conversion failed (exit {result.returncode}):\n{tail}")
    artifacts, seconds = read_report(staging, fmt.name)
    log(f"  {fmt.name}: {len(artifacts)} artifact(s) in {seconds:.1f} s")
    return artifacts


def run_converters(formats: list[Format], chosen: dict[str, tuple[str, ...]], checkpoint: Path, staging: Path,
                   calibration: Path | None, log) -> list[Artifact]:
    """ONNX first (the others read it), then the rest side by side, one per core and the slowest first, each on a
    share of the cores; the artifacts in the format table's order. A failure is raised once every converter has ended."""
    onnx, rest = formats[0], formats[1:]
    artifacts = run_converter(onnx, chosen[onnx.name], checkpoint, staging, calibration, log)
    cores = os.cpu_count() or 1
    workers = max(1, min(len(rest), cores))
    threads = None if workers == 1 else max(1, cores // workers)
    with ThreadPoolExecutor(workers) as pool:
        futures = {f.name: pool.submit(run_converter, f, chosen[f.name], checkpoint, staging, calibration, log, threads)
                   for f in sorted(rest, key=lambda f: -f.convert_seconds)}
    for fmt in rest:
        artifacts += futures[fmt.name].result()
    return artifacts


def verify(artifacts: list[Artifact], staging: Path, images: np.ndarray, reference: list[np.ndarray],
           int8_reference: list[np.ndarray] | None = None) -> list[Row]:
    """Run every artifact the host can run on the verification images and judge it against PyTorch's outputs (for
    the full-int8 TFLite file of a QAT checkpoint, int8_reference: the quantisation-aware forward it was trained as)."""
    rows = []
    for artifact in artifacts:
        size = bundle.size_of(staging / artifact.path) + sum(
            bundle.size_of(staging / f) for f in artifact.files if f != artifact.path)
        runner = runner_for(artifact, staging)
        if runner is None:  # Core ML: its converter compares numbers itself where it can (macOS)
            checked = artifact.checks.get("numbers_checked", False)
            note = "numbers checked by its converter" if checked else artifact.checks.get("numbers_reason", "no host runtime")
            rows.append(Row(artifact, VERIFIED if checked else NOT_VERIFIED, size, note=note))
            continue
        simulated = int8_reference is not None and (artifact.format, artifact.precision) == SIMULATED_ARTIFACT
        parity = compare(int8_reference if simulated else reference, runner(images), artifact.precision)
        latency = median_latency_ms(runner, images[0])
        note = "; ".join(["against the QAT model's int8 forward"] * simulated + parity.failures)
        rows.append(Row(artifact, VERIFIED if parity.passed else FAILED, size, parity, latency, note))
    return rows


def table(rows: list[Row]) -> str:
    """The printed report: one line per artifact."""
    head = f"{'format':10} {'precision':12} {'status':23} {'size':>9} {'max|err|':>9} {'err/range':>9} " \
           f"{'faces':>6} {'age±':>5} {'gender':>6} {'host ms':>7}"
    lines = [head, "-" * len(head)]
    for r in rows:
        p = r.parity
        cells = ("", "", "", "", "", "") if p is None else (
            f"{max(p.max_abs_error.values()):.1e}", f"{max(p.max_error_over_range.values()):.1e}",
            f"{p.faces_matched:.3f}", f"{p.mean_age_difference:.2f}", f"{p.gender_agreement:.3f}", f"{r.latency_ms:.2f}")
        lines.append(f"{r.artifact.format:10} {r.artifact.precision:12} {r.status:23} {r.size / 1024:>7.0f}KB "
                     f"{cells[0]:>9} {cells[1]:>9} {cells[2]:>6} {cells[3]:>5} {cells[4]:>6} {cells[5]:>7}")
        if r.note:
            lines.append(f"{'':24}{r.note}")
    return "\n".join(lines)


def size_versus_mediapipe(rows: list[Row]) -> str | None:
    """The fp16 TFLite size as a ratio of MediaPipe's BlazeFace short-range file (when both are at hand)."""
    fp16 = next((r for r in rows if r.artifact.format == "tflite" and r.artifact.precision == "fp16"), None)
    reference = assets_dir() / ASSETS["blazeface_short_range.tflite"].name
    if fp16 is None or not reference.is_file():
        return None
    ratio = fp16.size / reference.stat().st_size
    return (f"fp16 TFLite: {fp16.size / 1024:.0f} KB = {ratio:.2f}x MediaPipe BlazeFace short-range "
            f"({reference.stat().st_size / 1024:.0f} KB) while carrying the age and gender heads")


def export(target: str, checkpoint: Path, data_root: Path | None, out_root: Path = REPO_ROOT / "exports",
           precisions: list[str] | None = None, app_root: Path | None = REPO_ROOT, log=print) -> tuple[Path, list[Row]]:
    """Export every format of the target into out_root/target (replaced atomically), verified; then install
    into the sample apps under app_root (None: do not install). data_root None: the built-in image set."""
    start = time.time()
    formats = formats_for(target)
    check_writable_folder(out_root, "--out")
    if (out_root / target).exists() and not (out_root / target).is_dir():
        raise ExportFailed(f"{out_root / target} is a file, not a bundle folder; move it away or pass another --out")
    chosen = {f.name: precisions_for(f, precisions) for f in formats}
    model, payload = load_model(checkpoint, fold_batchnorm=True)  # the exported graph
    calibration_set, verification_set = export_images(data_root, any("int8" in p for p in chosen.values()))
    images = verification_set.squares
    if calibration_set is not None:
        log(f"int8 calibration: {calibration_set.source}")
    log(f"verification: {verification_set.source}")
    out_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out_root, prefix=f".staging-{target}-"))
    try:
        with tempfile.TemporaryDirectory(prefix="facekit-calibration-") as scratch:
            calibration = None
            if calibration_set is not None:
                calibration = Path(scratch) / "calibration.npy"
                np.save(calibration, calibration_set.squares)
            artifacts = run_converters(formats, chosen, checkpoint, staging, calibration, log)
        log(f"verifying on {len(images)} held-out face images...")
        reference = torch_runner(model)(images)
        int8_reference = None
        if calibration_set is not None and trained_for_int8(payload):
            int8_reference = torch_runner(simulated_int8(load_model(checkpoint)[0], calibration_set.squares))(images)
        rows = verify(artifacts, staging, images, reference, int8_reference)
        log(table(rows))
        if (line := size_versus_mediapipe(rows)) is not None:
            log(line)
        if any(r.status == FAILED for r in rows):
            raise ExportFailed("verification failed (see the table); the previous bundle is untouched")
        golden = [f"{CONTRACT_FOLDER}/{name}" for name in write_contract(staging / CONTRACT_FOLDER, *contract_model(rows, staging))]
        entries = [_entry(r, staging) for r in rows]
        verification = {"images": int(len(images)), "source": verification_set.source,
                        "calibration": None if calibration_set is None else calibration_set.source}
        manifest = bundle.build_manifest(target, checkpoint, payload, entries, golden, verification, staging)
        bundle.validate_manifest(manifest)
        for report in staging.glob("*.report.json"):
            report.unlink()
        for scratch in staging.glob(".tmp-*"):
            shutil.rmtree(scratch)
        write_json(staging / "manifest.json", manifest)
        (staging / "README.md").write_text(render_readme(manifest))
        final = out_root / target
        bundle.swap_into_place(staging, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if app_root is not None:
        install_into_apps(final, formats, rows, app_root, log)
    log(f"exported {target} to {final} in {time.time() - start:.1f} s")
    return final, rows


def contract_model(rows: list[Row], staging: Path) -> tuple[Runner, str]:
    """The runner and file name of the model the contract's raw outputs come from: the fp32 TFLite file, else ONNX."""
    for fmt in ("tflite", "onnx"):
        row = next((r for r in rows if r.artifact.format == fmt and r.artifact.precision == "fp32"), None)
        if row is not None:
            return runner_for(row.artifact, staging), row.artifact.path
    raise ExportFailed("no fp32 TFLite or ONNX file to write the contract's raw outputs with")


def _entry(row: Row, folder: Path) -> dict:
    """The manifest's record of one artifact."""
    a = row.artifact
    return {
        "format": a.format, "precision": a.precision, "file": a.path,
        "files": {f: sha256_of(folder / f) for f in a.files}, "size_bytes": row.size, "status": row.status,
        "io": a.io, "checks": a.checks, "parity": None if row.parity is None else row.parity.to_dict(),
        "host_latency_ms": row.latency_ms, "note": row.note,
    }


def install_into_apps(bundle_dir: Path, formats: list[Format], rows: list[Row], app_root: Path, log) -> None:
    """Copy each format's files and the manifest into the sample app folder the table names."""
    for fmt in formats:
        if fmt.app_folder is None:
            continue
        files = [bundle_dir / f for r in rows if r.artifact.format == fmt.name for f in r.artifact.files]
        installed = bundle.install(files, app_root / fmt.app_folder, bundle_dir / "manifest.json")
        log(f"installed {len(installed)} files into {fmt.app_folder}")
