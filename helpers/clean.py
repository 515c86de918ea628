"""``make clean`` and ``make clean-models``: what they remove, in the folders this run of the project
uses — the defaults under the repository, or wherever ``SALIENCY_*_DIR`` moves them (:mod:`helpers.paths`).

``clean`` removes what is cheap to remake: the executed notebooks, the decode cache, the report's
figures, metrics and generated pages — in a folder a variable moved, only what the project wrote
there. It never touches trained models or any data set. ``clean-models`` lists the trained models
(the checkpoints training named, :data:`CHECKPOINT_NAME`) and removes those only with ``--force`` (``FORCE=1``).

Standard library only, so ``make clean`` works before the environment is built.
"""
from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

from . import paths


#: What the project writes in the cache folder: the decode cache's folders (one per dataset kind,
#: ``DecodeOnceDataset.namespace``) and the file digests (``helpers.data.fingerprints.DIGEST_CACHE``);
#: ``tests/test_pipeline.py`` checks the list against both.
CACHE_ENTRIES = ("items", "saliency", "inversion", "file-digests.json")


def _moved(folder: Path, default: Path) -> bool:
    """Whether an environment variable points ``folder`` away from the project's own default."""
    return folder.resolve() != default.resolve()


def cheap_to_remake() -> list[Path]:
    """What ``make clean`` removes: each folder whole where it is the project's own default; where a
    ``SALIENCY_*_DIR`` variable moved it (a folder that may hold other things), only what the project
    writes there — the executed copies of its notebooks, the cache's own entries, the figures,
    metric files and REPORT pages the report folder's list names (:func:`helpers.paths.written_in_report`)."""
    report, executed, cache = paths.report_dir(), paths.executed_dir(), paths.cache_dir()
    executed_paths = ([executed / nb.name for nb in paths.NOTEBOOKS.glob("*.ipynb")]
                      if _moved(executed, paths.ROOT / "executed") else [executed])
    cache_paths = [cache / name for name in CACHE_ENTRIES] if _moved(cache, paths.ROOT / ".cache") else [cache]
    report_paths = (paths.written_in_report() if _moved(report, paths.ROOT / "report")
                    else [paths.figures_dir(), paths.metrics_dir(),
                          *(report / f"REPORT.{suffix}" for suffix in ("md", "html", "pdf"))])
    return [*executed_paths, *cache_paths, *report_paths, report / paths.WRITTEN_LIST]


def _remove(path: Path) -> None:
    shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()


def clean() -> list[Path]:
    removed = [path for path in cheap_to_remake() if path.exists() or path.is_symlink()]
    for path in removed:
        _remove(path)
    for folder in (paths.figures_dir(), paths.metrics_dir()):   # left empty in a moved report folder
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    return removed


#: The names training gives its checkpoints (``helpers.checkpoints.checkpoint_path``: ``<kind>_<dataset>_<8 hex
#: digits>[_<6 hex digits>].pt``, the kind ``saliency…`` or ``inversion…``; and ``<stem>.replaced-<time>.pt``
#: for one RETRAIN set aside). The checkpoint folder may be one a variable named: another ``*.pt`` in it is
#: not the project's. ``tests/test_pipeline.py`` checks the pattern against the names training gives.
CHECKPOINT_NAME = re.compile(r"(saliency|inversion)_.+_[0-9a-f]{8}(_[0-9a-f]{6})?(\.replaced-[0-9-]+)?\.pt")


def trained_models(folder: Path) -> list[Path]:
    """The checkpoints training writes in ``folder`` (those RETRAIN set aside among them)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.pt") if p.is_file() and CHECKPOINT_NAME.fullmatch(p.name))


def clean_models(force: bool) -> str:
    """List the trained models (and, with ``force``, remove them — those files only: the folder may
    hold other things, and is removed only when nothing else is left); the answer in words."""
    folder = paths.checkpoint_dir()
    models = trained_models(folder)
    if not models:
        return f"no trained models in {folder}"
    listing = "\n".join(f"  {p.name}  {p.stat().st_size / 2**20:.1f} MiB" for p in models)
    if not force:
        return (f"trained models in {folder}:\n{listing}\nnothing removed: run 'make clean-models FORCE=1' "
                "to delete them")
    for model in models:
        model.unlink()
    if not any(folder.iterdir()):
        folder.rmdir()
    return f"trained models in {folder}:\n{listing}\nremoved"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", action="store_true", help="the trained models instead (listed; removed with --force)")
    parser.add_argument("--force", action="store_true", help="with --models: remove them")
    args = parser.parse_args(argv)
    if args.models:
        print(clean_models(args.force))
        return 0
    removed = clean()
    print("removed: " + (", ".join(str(p) for p in removed) if removed else "nothing (already clean)"))
    print(f"kept: {paths.checkpoint_dir()} (trained models; 'make clean-models' lists them) and every data set")
    return 0


if __name__ == "__main__":
    sys.exit(main())
