"""The benchmark report: report.json (checked against its schema), summary.md and PNG plots, written atomically."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import jsonschema

from exporter.bench.clips import TALKING_HEAD
from exporter.bench.latency import MEDIAPIPE
from exporter.export.bundle import swap_into_place
from exporter.jsonio import MB, load_json, write_json

SCHEMA_ID = "facekit-bench/1"
SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schemas" / "bench_report.schema.json"
MAX_HOST_REPORT_BYTES = 8 * MB  # make bench writes about 100 KB
REUSE_POLICY = "motion-gated+tracking"


def targets(report: dict, time_limit_s: float) -> list[dict]:
    """The issue's targets, each with the measured value and whether it is met."""
    out = []
    for row in report["latency"]:
        limit = {"tflite-int8": 1.0, "tflite-fp32": 1.3}.get(row["backend"])
        if limit is not None and row["ratio_to_mediapipe"] is not None:
            out.append(_target(f"{row['backend']} inference latency / MediaPipe's, {row['threads']} thread(s)",
                               row["ratio_to_mediapipe"], "<=", limit))
    reuse = report.get("reuse") or {}
    heads = reuse.get("kinds", {}).get(TALKING_HEAD, {}).get(REUSE_POLICY)
    if heads:
        out.append(_target(f"{REUSE_POLICY} speedup over every-frame, talking-head clips", heads["speedup"], ">=", 3.0))
    if reuse:
        out.append(_target(f"{REUSE_POLICY} speedup over every-frame, all clips", reuse["overall"][REUSE_POLICY]["speedup"],
                           ">=", 2.0))
        worst = min(reuse["clips"], key=lambda c: c["policies"][REUSE_POLICY]["faces_matched"])
        out.append(_target(f"{REUSE_POLICY} share of every-frame faces matched (IoU 0.5), worst clip ({worst['file']})",
                           worst["policies"][REUSE_POLICY]["faces_matched"], ">=", 0.95))
    out.append(_target(f"bench wall time ({report['mode']} mode), seconds", report["elapsed_s"], "<=", time_limit_s))
    return out


def _target(name: str, value: float, comparison: str, limit: float) -> dict:
    met = value <= limit if comparison == "<=" else value >= limit
    return {"name": name, "value": round(float(value), 4), "comparison": comparison, "limit": limit, "met": bool(met)}


def validate(report: dict) -> None:
    """Raise jsonschema.ValidationError when the report breaks its schema."""
    jsonschema.validate(report, load_json(SCHEMA_FILE, max_bytes=MAX_HOST_REPORT_BYTES, what="JSON schema"))


def _ms(stat: dict) -> str:
    return f"{stat['median']:.3f} / {stat['p90']:.3f}"


def _num(value, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def render_markdown(report: dict) -> str:
    """A human summary of the report: targets, the benchmark table, latency stages, frame reuse."""
    host = report["host"]
    lines = [f"# FaceKit benchmark ({report['mode']} mode)", "",
             f"`{report['command']}` on {host['cpu']} ({host['cores']} cores), {report['created']}; "
             f"{report['elapsed_s']:.0f} s. Timings: median / p90 in ms over {report['settings']['runs']} runs "
             f"after {report['settings']['warmup']} warm-up runs, interleaved across backends.", "", "## Targets", "",
             "| target | measured | limit | |", "|---|---|---|---|"]
    for t in report["targets"]:
        lines.append(f"| {t['name']} | {t['value']:.3f} | {t['comparison']} {t['limit']} | {'met' if t['met'] else 'NOT met'} |")
    accuracy = {row["backend"]: row for row in report["accuracy"]}
    one_thread = [r for r in report["latency"] if r["threads"] == min(report["settings"]["threads"])]
    lines += ["", f"## Size, accuracy and speed ({one_thread[0]['threads']} thread)", "",
              "| backend | size KB | age MAE | gender acc | AP unmasked | AP large | AP dlib | infer ms | x MediaPipe |",
              "|---|---|---|---|---|---|---|---|---|"]
    for r in one_thread:
        a = accuracy.get(r["backend"], {})
        lines.append(f"| {r['backend']} | {_num(r['size_bytes'] / 1024 if r['size_bytes'] else None, 0)} | "
                     f"{_num(a.get('age_mae'), 2)} | {_num(a.get('gender_accuracy'))} | {_num(a.get('ap_unmasked'))} | "
                     f"{_num(a.get('ap_large'))} | {_num(a.get('ap_dlib'))} | {r['infer_ms']['median']:.3f} | "
                     f"{_num(r['ratio_to_mediapipe'], 2)} |")
    if report.get("qnnpack"):
        q, parity = report["qnnpack"], report["qnnpack"]["parity"]
        lines += ["", f"{q['backend']}: the model quantised for PyTorch's QNNPACK engine (FX, qnnpack qconfig) on "
                      f"{q['calibration_images']} calibration images ({q['calibration']}); against float PyTorch on "
                      f"{parity['images']} verification images: faces {parity['faces_matched']:.3f}, age difference "
                      f"{parity['mean_age_difference']:.2f} years, gender agreement {parity['gender_agreement']:.3f} "
                      f"({'within' if parity['passed'] else 'outside'} the int8 rules)."]
    if accuracy:
        sample = next(iter(accuracy.values()))
        lines += ["", f"Accuracy on {sample['utkface_crops']} UTKFace report crops, {sample['scene_images']} face-mask "
                      f"validation images and {sample['dlib_images']} dlib images (`facekit eval`'s metrics)."]
    lines += ["", "## Latency by stage", "", f"Photo: {report['settings']['image']}.", "",
              "| backend | threads | pre | infer | post | total | x MediaPipe (infer) | x MediaPipe (total) |",
              "|---|---|---|---|---|---|---|---|"]
    for r in report["latency"]:
        lines.append(f"| {r['backend']} | {r['threads']} | {_ms(r['pre_ms'])} | {_ms(r['infer_ms'])} | {_ms(r['post_ms'])} | "
                     f"{_ms(r['total_ms'])} | {_num(r['ratio_to_mediapipe'], 2)} | {_num(r['total_ratio_to_mediapipe'], 2)} |")
    lines += ["", "![latency](latency.png)", ""]
    reuse = report.get("reuse")
    if reuse:
        lines += _reuse_markdown(reuse, report["settings"])
    if report.get("second_look"):
        lines += _second_look_markdown(report["second_look"])
    return "\n".join(lines) + "\n"


def _second_look_markdown(second: dict) -> list[str]:
    """The second look's cost per frame on the clips and its gain per face size."""
    lines = ["", "## Second look (age and gender again on a crop around small faces)", ""]
    cost = second["cost"]
    if cost:
        lines.append(f"Over {cost['frames']} clip frames: {cost['extra_runs_per_frame']:.2f} extra model runs a frame, "
                     f"{cost['first_look_ms']:.2f} ms a frame without it, {cost['with_second_look_ms']:.2f} ms with it, "
                     "when every small face of every frame is looked at again. The shipped frame-reuse policy looks "
                     f"only at new or due tracks: {cost['tracked_looks_per_frame']:.3f} looks a frame.")
    if second["gain"]:
        lines += ["", "| face size | age MAE off | on | gender off | on |", "|---|---|---|---|---|"]
        for size, g in second["gain"].items():
            lines.append(f"| {size} | {g['off']['age_mae']:.2f} | {g['on']['age_mae']:.2f} | "
                         f"{g['off']['gender_accuracy']:.3f} | {g['on']['gender_accuracy']:.3f} |")
    return lines


def _reuse_markdown(reuse: dict, settings: dict) -> list[str]:
    lines = ["## Frame reuse", "",
             f"Detector: {settings['reuse_backend']} ({settings['reuse_threads']} thread); fidelity against every-frame "
             f"results at IoU {reuse['match_iou']}. Latency per frame includes the thumbnail, the decision, tracking and "
             "the full model when it runs (pre-processing, inference, decoding); every-frame runs the model and nothing "
             "else. Video decoding is not timed. Extra faces: the share of a policy's faces that every-frame does not "
             "have on that frame.", ""]
    groups = [("All clips", reuse["overall"], len(reuse["clips"]))]
    groups += [(f"Kind: {kind}", pooled, sum(c["kind"] == kind for c in reuse["clips"])) for kind, pooled in reuse["kinds"].items()]
    for title, pooled, clips in groups:
        frames = next(iter(pooled.values()))["frames"]
        lines += [f"### {title} ({clips} clips, {frames} frames)", "",
                  "| policy | mean ms/frame | speedup | model runs | faces matched | extra faces | mean IoU | age diff | gender agree |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for name, p in pooled.items():
            lines.append(f"| {name} | {p['mean_ms']:.3f} | {p['speedup']:.2f}x | {p['model_runs']} | {p['faces_matched']:.3f} | "
                         f"{p['extra_faces']:.3f} | {p['mean_iou']:.3f} | {p['age_difference']:.2f} | {p['gender_agreement']:.3f} |")
        lines.append("")
    lines += ["### Per clip", "", "| clip | kind | frames | " + " | ".join(reuse["policies"]) + " |",
              "|---|---|---|" + "---|" * len(reuse["policies"])]
    for clip in reuse["clips"]:
        cells = [f"{p['speedup']:.2f}x, {p['faces_matched']:.3f}" for p in clip["policies"].values()]
        lines.append(f"| {clip['file']} | {clip['kind']} | {clip['frames']} | " + " | ".join(cells) + " |")
    lines += ["", "Cells: speedup over every-frame, share of every-frame faces matched."]
    lines += [f"Skipped {s['file']}: {s['reason']}" for s in reuse["skipped"]]
    if reuse["recipes"]:
        lines += ["", "Composed clips (exporter/bench/clips.py, made from the dataset's clips):", ""]
        lines += [f"- {r['file']} ({r['kind']}): {r['recipe']}" for r in reuse["recipes"]]
    return lines + ["", "![frame reuse](reuse.png)", ""]


def plot_latency(report: dict, path: Path) -> None:
    """Stacked pre/infer/post median bars per backend, one panel per thread count, MediaPipe's total marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    threads = sorted({r["threads"] for r in report["latency"]})
    fig, axes = plt.subplots(1, len(threads), figsize=(6 * len(threads), 4.2), squeeze=False)
    for ax, n in zip(axes[0], threads):
        rows = [r for r in report["latency"] if r["threads"] == n]
        names = [r["backend"] for r in rows]
        left = [0.0] * len(rows)
        for stage, colour in (("pre", "#9ecae1"), ("infer", "#3182bd"), ("post", "#fdae6b")):
            values = [r[f"{stage}_ms"]["median"] for r in rows]
            ax.barh(names, values, left=left, color=colour, label=stage)
            left = [a + b for a, b in zip(left, values)]
        mp = next((r for r in rows if r["backend"] == MEDIAPIPE), None)
        if mp:
            ax.axvline(mp["total_ms"]["median"], color="k", linestyle="--", linewidth=1, label="MediaPipe total")
        ax.set(title=f"median latency, {n} thread(s)", xlabel="ms")
        ax.invert_yaxis()
        ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)


def plot_reuse(reuse: dict, path: Path) -> None:
    """Speedup against faces matched: one panel per policy, each clip a dot coloured by its kind, kinds pooled large."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    policies = [name for name in reuse["policies"] if name != "every-frame"]
    fig, axes = plt.subplots(1, len(policies), figsize=(4.6 * len(policies), 4.2), sharey=True, squeeze=False)
    colours = {kind: f"C{i}" for i, kind in enumerate(reuse["kinds"])}
    for ax, name in zip(axes[0], policies):
        for kind, colour in colours.items():
            clips = [c["policies"][name] for c in reuse["clips"] if c["kind"] == kind]
            ax.scatter([c["speedup"] for c in clips], [c["faces_matched"] for c in clips], s=14, alpha=0.6, color=colour)
            pooled = reuse["kinds"][kind][name]
            ax.scatter([pooled["speedup"]], [pooled["faces_matched"]], s=110, color=colour, edgecolor="k", label=kind)
        ax.axvline(2.0, color="grey", linestyle=":", linewidth=1)
        ax.axhline(0.95, color="grey", linestyle=":", linewidth=1)
        ax.set(xlabel="speedup over every-frame", title=name)
    axes[0][0].set_ylabel("every-frame faces matched (IoU 0.5)")
    axes[0][-1].legend(fontsize=8, loc="lower right")
    fig.suptitle("frame reuse: clips (small), each kind pooled (large)")
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)


def write_report(report: dict, folder: Path) -> Path:
    """Validate, then write report.json, summary.md and the plots into `folder`, replacing it atomically."""
    validate(report)
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".staging-{folder.name}-"))
    try:
        if (folder / "phones").is_dir():  # phone reports imported earlier stay with the folder
            shutil.copytree(folder / "phones", staging / "phones")
        write_json(staging / "report.json", report)
        (staging / "summary.md").write_text(render_markdown(report))
        plot_latency(report, staging / "latency.png")
        if report.get("reuse"):
            plot_reuse(report["reuse"], staging / "reuse.png")
        swap_into_place(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder
