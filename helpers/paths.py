"""Every path the project uses, resolved from the repository root in one place.

Each folder can be moved with an environment variable (useful on a cluster or in CI):

==================  ===========================  ==================================
function            environment variable         default
==================  ===========================  ==================================
``data_dir()``      ``SALIENCY_DATA_DIR``        ``<root>/data``
``cache_dir()``     ``SALIENCY_CACHE_DIR``       ``<root>/.cache``
``checkpoint_dir()`` ``SALIENCY_CHECKPOINT_DIR``  ``<root>/checkpoints``
``report_dir()``    ``SALIENCY_REPORT_DIR``      ``<root>/report``
``executed_dir()``  ``SALIENCY_EXECUTED_DIR``    ``<root>/executed``
==================  ===========================  ==================================

They are functions, not constants, so a changed variable takes effect without re-importing.
"""
from __future__ import annotations

import os
from pathlib import Path

from .io import write_text_atomic

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


#: In the report folder: the figures, metric files and REPORT pages the project wrote there, one path
#: (relative to the folder) a line. Where ``SALIENCY_REPORT_DIR`` names a folder that may hold other things,
#: ``make clean`` removes those files and nothing else (:mod:`helpers.clean`).
WRITTEN_LIST = ".written-by-the-project"


def note_written(path: Path) -> None:
    """Add ``path``, a file just written, to the report folder's :data:`WRITTEN_LIST` when it lies in that
    folder (a figure saved to a folder of its own is not the report's). The list is written whole and
    renamed into place, like every file the project writes."""
    report = report_dir()
    try:
        relative = path.resolve().relative_to(report.resolve()).as_posix()
    except ValueError:
        return
    listing = report / WRITTEN_LIST
    lines = listing.read_text(encoding="utf-8") if listing.is_file() else ""
    if Path(relative) in {Path(line.strip()) for line in lines.splitlines()}:
        return
    if lines and not lines.endswith("\n"):
        lines += "\n"
    write_text_atomic(listing, lines + relative + "\n", durable=False)   # never half a line


def written_in_report() -> list[Path]:
    """The files :func:`note_written` listed in the report folder, each once. A line that names no file
    there — one leading out of the folder (absolute, or through ``..``), the folder itself (``.``), or
    a folder in it — is not one of them: the list is a plain file anyone can edit, and ``make clean``
    removes what it names."""
    report = report_dir()
    listing = report / WRITTEN_LIST
    if not listing.is_file():
        return []
    names = dict.fromkeys(Path(line.strip()) for line in listing.read_text(encoding="utf-8").splitlines())
    return [report / name for name in names
            if name.parts and not name.is_absolute() and ".." not in name.parts
            and not (report / name).is_dir() and _inside(report / name, report)]


def _inside(path: Path, folder: Path) -> bool:
    """Whether ``path``'s folder, links followed, lies inside ``folder``: a listed ``linkdir/x.txt`` whose
    ``linkdir`` links elsewhere names a file outside the report folder, which is not the report's."""
    try:
        path.parent.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


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
