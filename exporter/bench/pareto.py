"""The compression report: every variant exported, timed in LiteRT against MediaPipe and scored on the same sets.

A variant is the shipped checkpoint or one written by `facekit compress` (runs/compress/NAME/best.pt). Each is
exported like any other checkpoint (fp16 and full-int8 TFLite, verified), its files timed at one thread as a share
of MediaPipe's file in alternating blocks (the latency table's method), and scored on the report split (age MAE,
gender accuracy, detection AP).
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from exporter.bench.accuracy import AccuracySets, score_backends
from exporter.bench.latency import Backend, exported_backends
from exporter.bench.suite import checkpoint_matches
from exporter.checkpoint import load_model
from exporter.compress.latency_table import SHARE_RUNS, mediapipe_ms, share_of_mediapipe
from exporter.compress.coreml_sizes import coreml_sizes
from exporter.compress.tflite_bytes import tflite_bytes
from exporter.digest import sha256_of
from exporter.export.bundle import load_bundle
from exporter.export.pipeline import FAILED, ExportFailed, export
from exporter.model.summary import summarize

PARETO_PRECISIONS = ["fp16", "int8"]
SHIPPED = "shipped"


@dataclass(frozen=True)
class Variant:
    """One model to compare: a name for the report and its checkpoint."""

    name: str
    checkpoint: Path


@dataclass(frozen=True)
class Bounds:
    """How far a compressed variant may fall behind the shipped model and still count."""

    ap_points: float = 0.01  # detection AP (unmasked scene faces), absolute
    age_years: float = 0.3


LATENCY_TARGET = 0.6  # a variant at most 0.6x MediaPipe's inference time (1 thread) within Bounds()
SIZE_TARGET_BYTES = 100 * 1024  # a variant whose full-int8 TFLite is at most 100 KB within Bounds() doubled


def find_variants(shipped: Path, compress_root: Path) -> list[Variant]:
    """The shipped checkpoint, then every compressed run's best checkpoint (sorted by name)."""
    found = [Variant(SHIPPED, Path(shipped))]
    if compress_root.is_dir():
        found += [Variant(p.parent.name, p) for p in sorted(compress_root.glob("*/best.pt"))]
    return found


def describe(variant: Variant, shipped_sha256: str) -> dict:
    """Method, amount, parameters and MACs of a variant's model, and whether it was compressed from the shipped one."""
    model, payload = load_model(variant.checkpoint)
    uncompressed = (
        {"method": "none", "amount": None, "fine_tune_steps": 0, "base_sha256": shipped_sha256}
        if variant.name == SHIPPED
        else {"method": scratch_method(payload, shipped_sha256), "amount": None,
              "fine_tune_steps": training_steps(payload), "base_sha256": None}
    )
    facts = payload.get("compress") or trained_on_compressed(payload) or uncompressed
    summary = summarize(model)
    return {"variant": variant.name, "method": facts["method"], "amount": facts["amount"],
            "fine_tune_steps": facts["fine_tune_steps"], "parameters": summary.parameters, "macs": summary.macs,
            "from_shipped": facts["base_sha256"] == shipped_sha256}


def trained_on_compressed(payload: dict) -> dict | None:
    """A `facekit train --init` run on a compressed checkpoint: its init's compression, the training stage added."""
    facts = (payload.get("init") or {}).get("compress")
    if not facts:
        return None
    recipe = payload["train"]["config"]["recipe"]
    return facts | {"method": f"{facts['method']}, then {recipe}",
                    "fine_tune_steps": facts["fine_tune_steps"] + int(payload["train"].get("step") or 0)}


def scratch_method(payload: dict, shipped_sha256: str) -> str:
    """'from scratch', and which model's outputs it was distilled from when `facekit train --distill-from` was used."""
    teacher = payload.get("distill_from")
    if not teacher:
        return "from scratch"
    source = SHIPPED if teacher["sha256"] == shipped_sha256 else Path(teacher["checkpoint"]).parent.name
    return f"from scratch, distilled from {source}"


def training_steps(payload: dict) -> int:
    """Steps that made a `facekit train` checkpoint: its own run's, plus its --init run's when it has one."""
    own = int((payload.get("train") or {}).get("step") or 0)
    return own + int((payload.get("init") or {}).get("best_step") or 0)


def gzip_size(path: Path) -> int:
    """Bytes of the file once gzip-compressed (what an app store download of it costs; palettes shrink here)."""
    return len(gzip.compress(Path(path).read_bytes(), compresslevel=9))


def export_variant(variant: Variant, out_root: Path, data_root: Path | None) -> tuple[Backend, dict[str, Path], dict]:
    """Export the variant's fp16 and full-int8 TFLite (verified; kept from an earlier run of the same checkpoint)
    and its Core ML package; the int8 file's 1-thread backend (for scoring), the TFLite files, and their sizes."""
    folder = out_root / variant.name / "android"
    if not checkpoint_matches(folder, variant.checkpoint):
        lines: list[str] = []
        try:
            folder, _ = export("android", variant.checkpoint, data_root, out_root / variant.name, PARETO_PRECISIONS,
                               app_root=None, log=lines.append)
        except ExportFailed as error:
            failed = [line for line in "\n".join(lines).splitlines() if FAILED in line]
            raise ExportFailed(f"{error}: " + " | ".join(" ".join(line.split()) for line in failed)) from None
    tflite = [a for a in load_bundle(folder)[1] if a.format == "tflite"]
    int8 = next(Backend(f"{variant.name}/{b.key}", b.format, b.precision, b.runtime, b.threads, b.size_bytes,
                        b.make_runner) for b in exported_backends(folder, tflite, threads=1) if b.precision == "int8")
    files = {a.precision: folder / a.path for a in tflite}
    sizes = {f"{precision}_bytes": path.stat().st_size for precision, path in files.items()}
    sizes |= {f"{precision}_gzip_bytes": gzip_size(path) for precision, path in files.items()}
    sizes["int8_parts"] = tflite_bytes(files["int8"])
    palettized = (load_model(variant.checkpoint)[1].get("compress") or {}).get("method") == "palettize"
    return int8, files, sizes | coreml_sizes(variant.checkpoint, out_root / variant.name / "coreml", palettized)


def pareto_front(rows: list[dict], cost: str, error: str) -> list[str]:
    """Names of the rows no other row beats on both cost and error (lower is better for both)."""
    front = []
    for r in rows:
        beaten = any(o[cost] <= r[cost] and o[error] <= r[error] and (o[cost], o[error]) != (r[cost], r[error])
                     for o in rows)
        if not beaten:
            front.append(r["variant"])
    return front


def check_targets(rows: list[dict], bounds: Bounds = Bounds()) -> list[dict]:
    """The issue's two compression targets, each with the best variant found (or none) and why."""
    shipped = next(r for r in rows if r["variant"] == SHIPPED)

    def within(r: dict, scale: float) -> bool:
        return (r["ap_unmasked"] >= shipped["ap_unmasked"] - scale * bounds.ap_points
                and r["age_mae"] <= shipped["age_mae"] + scale * bounds.age_years)

    fast = [r for r in rows if r["ratio_to_mediapipe"] <= LATENCY_TARGET and within(r, 1)]
    small = [r for r in rows if r["int8_bytes"] <= SIZE_TARGET_BYTES and within(r, 2)]
    fastest = min(rows, key=lambda r: r["ratio_to_mediapipe"])
    smallest = min(rows, key=lambda r: r["int8_bytes"])
    return [
        {"target": f"int8 at most {LATENCY_TARGET}x MediaPipe, AP within {bounds.ap_points:g}, age MAE within "
                   f"{bounds.age_years:g} y", "met": bool(fast),
         "region": {"ratio_to_mediapipe": LATENCY_TARGET, "age_mae": shipped["age_mae"] + bounds.age_years,
                    "ap_unmasked": shipped["ap_unmasked"] - bounds.ap_points},
         "variant": min(fast, key=lambda r: r["ratio_to_mediapipe"])["variant"] if fast else None,
         "closest": {"variant": fastest["variant"], "ratio_to_mediapipe": fastest["ratio_to_mediapipe"]}},
        {"target": f"int8 file at most {SIZE_TARGET_BYTES // 1024} KB, AP within {2 * bounds.ap_points:g}, age MAE "
                   f"within {2 * bounds.age_years:g} y", "met": bool(small),
         "variant": min(small, key=lambda r: r["int8_bytes"])["variant"] if small else None,
         "closest": {"variant": smallest["variant"], "int8_bytes": smallest["int8_bytes"]}},
    ]


def run_pareto(variants: list[Variant], out_root: Path, data_root: Path, sets: AccuracySets, runs: int,
               log=print) -> dict:
    """Export, time and score every variant; the report's rows, fronts and targets.

    `runs` LiteRT runs per file, in alternating blocks of SHARE_RUNS with MediaPipe's file: on a host whose speed
    drifts within seconds, the shipped file's ratio moved by 12% across runs timed in separate blocks, by 4% as a
    share."""
    rows, files, int8 = [], {}, {}
    shipped_sha = sha256_of(variants[0].checkpoint)
    skipped = []
    for variant in tqdm(variants, desc="export", unit="variant"):
        try:
            int8[variant.name], files[variant.name], sizes = export_variant(variant, out_root, data_root)
        except ExportFailed as error:  # one variant whose files fail their checks does not stop the report
            if variant.name == SHIPPED:
                raise
            log(f"{variant.name} left out: {error}")
            skipped.append({"variant": variant.name, "reason": str(error)})
            continue
        rows.append(describe(variant, shipped_sha) | sizes)
    rounds = max(1, runs // SHARE_RUNS)
    log(f"timing {2 * len(rows)} files at 1 thread, each in {rounds} blocks alternating with MediaPipe's...")
    shares = {(name, precision): share_of_mediapipe(path, rounds=rounds)
              for name in tqdm(int8, desc="latency", unit="variant") for precision, path in files[name].items()}
    log(f"scoring {len(int8)} full-int8 files on the report split...")
    scores = {r["backend"]: r for r in score_backends(list(int8.values()), data_root, sets)}
    for row in rows:
        key, name = int8[row["variant"]].key, row["variant"]
        row |= {"infer_ms": shares[name, "int8"] * mediapipe_ms(), "ratio_to_mediapipe": round(shares[name, "int8"], 4),
                "fp16_ratio_to_mediapipe": round(shares[name, "fp16"], 4),
                **{k: scores[key][k] for k in ("age_mae", "gender_accuracy", "ap_unmasked", "ap_dlib") if k in scores[key]}}
    return {"mediapipe_infer_ms": mediapipe_ms(), "runs": rounds * SHARE_RUNS,
            "utkface_crops": next(iter(scores.values()))["utkface_crops"],
            "scene_images": next(iter(scores.values()))["scene_images"], "variants": rows,
            "front_age": pareto_front(rows, "ratio_to_mediapipe", "age_mae"),
            "front_ap": pareto_front([r | {"ap_loss": -r["ap_unmasked"]} for r in rows], "ratio_to_mediapipe", "ap_loss"),
            "targets": check_targets(rows), "left_out": skipped}
