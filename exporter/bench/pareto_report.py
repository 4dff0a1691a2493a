"""The compression report on disk: pareto.json, pareto.md and pareto.png (latency against accuracy, size as area)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from exporter.jsonio import write_json


def _kb(n: int) -> str:
    return f"{n / 1024:.0f}"


def _coreml(row: dict) -> str:
    """The Core ML package's KB, with its look-up-table version's for a palettized variant."""
    lut = row.get("coreml_lut_bytes")
    return _kb(row["coreml_bytes"]) + (f" ({_kb(lut)})" if lut else "")


def render_markdown(report: dict) -> str:
    """The report as a Markdown table, fronts and targets."""
    lines = [
        f"# Compression: every variant on the same sets ({report['created']})", "",
        f"`{report['command']}` on {report['host']}. Latency: full-int8 TFLite, LiteRT, 1 thread, {report['runs']} runs "
        f"per file in blocks alternating with MediaPipe BlazeFace short-range's file ({report['mediapipe_infer_ms']:.2f} "
        f"ms), the median of the blocks' ratios. Accuracy of the full-int8 file on the report split: {report['utkface_crops']} UTKFace "
        f"crops, {report['scene_images']} scene photos.", "",
        "| variant | method | fine-tuning steps | params | MMACs | int8 KB (gzip) | fp16 KB (gzip) | Core ML KB (table) "
        "| int8 / MediaPipe | fp16 / MediaPipe | age MAE | gender | AP unmasked | AP dlib |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["variants"]:
        lines.append(
            f"| {r['variant']}{'' if r['from_shipped'] else ' (other base)'} | {r['method']} | {r['fine_tune_steps']} | {r['parameters']:,} "
            f"| {r['macs'] / 1e6:.1f} | {_kb(r['int8_bytes'])} ({_kb(r['int8_gzip_bytes'])}) "
            f"| {_kb(r['fp16_bytes'])} ({_kb(r['fp16_gzip_bytes'])}) | {_coreml(r)} | {r['ratio_to_mediapipe']:.3f} "
            f"| {r['fp16_ratio_to_mediapipe']:.3f} | {r['age_mae']:.2f} | {r['gender_accuracy']:.1%} "
            f"| {r['ap_unmasked']:.3f} | {r.get('ap_dlib', float('nan')):.3f} |")
    lines += ["", f"Pareto front, latency against age MAE: {', '.join(report['front_age'])}.",
              f"Pareto front, latency against AP: {', '.join(report['front_ap'])}.", ""]
    lines += [f"Left out: {v['variant']}, {v['reason']}" for v in report.get("left_out", [])]
    lines += ["", "## Where the int8 file's bytes go (KB)", "",
              "Per-channel quantisation stores a float32 scale and an int64 zero point for every output channel of "
              "every conv's weights and again for its int32 biases.", "",
              "| variant | file | int8 weights | int32 biases and shapes | quantisation parameters | tensor names "
              "| metadata | flatbuffer structure |", "|---|---|---|---|---|---|---|---|"]
    for r in report["variants"]:
        p = r.get("int8_parts")
        if p:
            lines.append(f"| {r['variant']} | {_kb(p['file'])} | {_kb(p['int8_constants'])} | {_kb(p['int32_constants'])} "
                         f"| {_kb(p['quantisation'])} | {_kb(p['tensor_names'])} | {_kb(p['metadata'])} "
                         f"| {_kb(p['structure'])} |")
    lines += ["", "## Targets", ""]
    for t in report["targets"]:
        closest = ", ".join(f"{k} {v}" for k, v in t["closest"].items())
        lines.append(f"- {t['target']}: {'**met** by ' + t['variant'] if t['met'] else '**not met**'} "
                     f"(closest on that axis: {closest})")
    return "\n".join(lines) + "\n"


def plot_pareto(report: dict, path: Path) -> None:
    """Two panels, latency ratio against age MAE and against AP; marker area proportional to the int8 file."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = report["variants"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4))
    for ax, key, front, label in ((axes[0], "age_mae", report["front_age"], "age MAE (years, lower is better)"),
                                  (axes[1], "ap_unmasked", report["front_ap"], "detection AP, unmasked (higher is better)")):
        for i, r in enumerate(rows):
            ax.scatter(r["ratio_to_mediapipe"], r[key], s=r["int8_bytes"] / 400, color=f"C{i % 10}", alpha=0.7,
                       edgecolor="k" if r["variant"] in front else "none", label=r["variant"])
            ax.annotate(r["variant"], (r["ratio_to_mediapipe"], r[key]), fontsize=7, xytext=(4, 4),
                        textcoords="offset points")
        on_front = sorted((r for r in rows if r["variant"] in front), key=lambda r: r["ratio_to_mediapipe"])
        ax.plot([r["ratio_to_mediapipe"] for r in on_front], [r[key] for r in on_front], "k--", linewidth=0.8)
        ax.axvline(1.0, color="grey", linestyle=":", linewidth=1)
        _shade_target(ax, key, report["targets"][0].get("region"))
        ax.set(xlabel="int8 inference time / MediaPipe's (1 thread)", ylabel=label)
    axes[1].legend(fontsize=7, loc="lower right", markerscale=0.4)
    fig.suptitle("compressed variants (marker area: int8 TFLite size; outlined: Pareto front; green: where the latency "
                 "target counts)")
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)


def _shade_target(ax, key: str, region: dict | None) -> None:
    """Shade where the latency target counts on this panel: left of its ratio, on the right side of its bound."""
    if not region:
        return
    (left, right), (bottom, top) = ax.get_xlim(), ax.get_ylim()
    bottom, top = min(bottom, region[key]), max(top, region[key])
    low, high = (bottom, region[key]) if key == "age_mae" else (region[key], top)
    ax.fill_between([left, region["ratio_to_mediapipe"]], low, high, color="green", alpha=0.08, label="latency target")
    ax.axhline(region[key], color="green", linestyle=":", linewidth=1)
    ax.axvline(region["ratio_to_mediapipe"], color="green", linestyle=":", linewidth=1)
    ax.set(xlim=(left, right), ylim=(bottom, top))


def write_pareto(report: dict, folder: Path) -> Path:
    """Write pareto.json, pareto.md and pareto.png into `folder`, replacing it atomically."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".staging-{folder.name}-"))
    try:
        write_json(staging / "pareto.json", report)
        (staging / "pareto.md").write_text(render_markdown(report))
        plot_pareto(report, staging / "pareto.png")
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder
