"""Every path the project uses, resolved from the repository root in one place; each folder moves with its
variable: ``SALIENCY_DATA_DIR``, ``SALIENCY_CACHE_DIR``, ``SALIENCY_CHECKPOINT_DIR``, ``SALIENCY_REPORT_DIR``,
``SALIENCY_EXECUTED_DIR`` (functions, so a changed variable takes effect at once).
"""
from __future__ import annotations

import functools
import os
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


def _from_env(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def data_dir() -> Path:
    """Datasets: real ones unpacked by ``python -m helpers.downloads``, and generated samples."""
    return _from_env("SALIENCY_DATA_DIR", ROOT / "data")


def cache_dir() -> Path:
    """Decoded, resized images kept between epochs and runs: in the project's own folder, not beside
    the data (a data set on a read-only mount is read, never written)."""
    return _from_env("SALIENCY_CACHE_DIR", ROOT / ".cache")


def checkpoint_dir() -> Path:
    """Training checkpoints (one file per run, rewritten atomically every epoch)."""
    return _from_env("SALIENCY_CHECKPOINT_DIR", ROOT / "checkpoints")


def report_dir() -> Path:
    return _from_env("SALIENCY_REPORT_DIR", ROOT / "report")


@functools.cache
def commit() -> str:
    """The code's git commit (short), with ``+changes`` when the work tree differs; "unknown" outside git."""
    import subprocess

    try:
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (head + ("+changes" if dirty else "")) if head else "unknown"


def figures_dir() -> Path:
    """Figures for the report (PNG, plus PDF for line plots)."""
    return report_dir() / "figures"


def metrics_dir() -> Path:
    """Metric tables (CSV and JSON) for the report."""
    return report_dir() / "metrics"


def executed_dir() -> Path:
    """Notebooks as executed by papermill (never committed)."""
    return _from_env("SALIENCY_EXECUTED_DIR", ROOT / "executed")


def ensure(path: Path) -> Path:
    """Create ``path`` (a folder) if needed and return it."""
    path.mkdir(parents=True, exist_ok=True)
    return path
