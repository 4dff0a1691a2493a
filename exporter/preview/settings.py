"""Where the preview reads from: the export bundle, the bench reports, the checkpoint and the datasets."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from exporter.paths import DEFAULT_CHECKPOINT, REPO_ROOT, data_root

EXPORTS_ENV = "FACEKIT_EXPORTS"  # the bundle folder (default exports/all, what `make export TARGET=all` writes)
REPORTS_ENV = "FACEKIT_REPORTS"  # the `make bench` report folder (default runs/bench)


@dataclass(frozen=True)
class PreviewPaths:
    """The folders and files the preview reads; it never writes into the repository."""

    exports: Path
    reports: Path
    checkpoint: Path
    data: Path

    @classmethod
    def from_env(cls) -> PreviewPaths:
        """Defaults of `make demo`, each overridable by an environment variable."""
        return cls(Path(os.environ.get(EXPORTS_ENV, REPO_ROOT / "exports" / "all")),
                   Path(os.environ.get(REPORTS_ENV, REPO_ROOT / "runs" / "bench")),
                   DEFAULT_CHECKPOINT, data_root())

    @property
    def bench_report(self) -> Path:
        """The last `make bench` report."""
        return self.reports / "report.json"

    @property
    def phone_reports(self) -> Path:
        """Phone reports stored by `facekit bench --import`."""
        return self.reports / "phones"

    @property
    def videos(self) -> Path:
        """The sample clips."""
        return self.data / "videos"
