"""``make clean`` and ``make clean-models``: what they remove, in the folders this run of the project
uses — the defaults under the repository, or wherever ``SALIENCY_*_DIR`` moves them (:mod:`helpers.paths`).

``clean`` removes what is cheap to remake: the executed notebooks, the decode cache, the report's
figures, metrics and generated pages. It never touches trained models or any data set. ``clean-models``
lists the trained models and removes them only with ``--force`` (``FORCE=1``). Both remove only what
the folder's manifest lists as written by the project and still as written (:mod:`helpers.written`):
a user's file that shares a name, or one the project wrote and the user changed, is kept and named.

Standard library only, so ``make clean`` works before the environment is built.
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from . import paths, written


def _remove(path: Path) -> None:
    shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()


def _remove_written(paths_written: list[Path], folder: Path) -> None:
    """Remove ``paths_written`` (what :func:`helpers.written.written` found still as the project wrote it in
    ``folder``), strike them from its manifest, then remove the folders inside ``folder`` that left empty."""
    for path in paths_written:
        _remove(path)
    if paths_written:
        written.forget(paths_written, folder)
    for parent in sorted({p.parent for p in paths_written}, key=lambda p: len(p.parts), reverse=True):
        while parent != folder and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent


def _kept(changed: list[Path]) -> str:
    return ("\nkept, changed since the project wrote them: " + ", ".join(str(p) for p in changed)) if changed else ""


def clean() -> str:
    """Remove what is cheap to remake from the executed-notebook, cache and report folders; the answer in words.
    Stops with :class:`helpers.written.RunInProgress`, before removing anything, while a run writes there."""
    folders = (paths.executed_dir(), paths.cache_dir(), paths.report_dir())
    for folder in folders:
        written.check_no_other_run(folder)
    removed, changed = [], []
    for folder in folders:
        ours, kept = written.written(folder)
        _remove_written(ours, folder)
        removed += ours
        changed += kept
        if not kept:   # the bookkeeping goes with the last entry
            for name in (written.MANIFEST, f"{written.MANIFEST}.lock", written.RUN_LOCK, written.RUN_HOLDER,
                         written.EARLIER_LIST):
                (folder / name).unlink(missing_ok=True)
    return ("removed: " + (", ".join(str(p) for p in removed) if removed else "nothing (already clean)") + _kept(changed)
            + f"\nkept: {paths.checkpoint_dir()} (trained models; 'make clean-models' lists them) and every data set")


def _checkpoints(paths_listed: list[Path]) -> list[Path]:
    return sorted(path for path in paths_listed if path.suffix == ".pt")


def trained_models(folder: Path) -> list[Path]:
    """The checkpoints training wrote in ``folder`` (those RETRAIN set aside among them), still as written."""
    return _checkpoints(written.written(folder)[0])


def clean_models(force: bool) -> str:
    """List the trained models (and, with ``force``, remove them — those files only: the folder may
    hold other things, and stays); the answer in words."""
    folder = paths.checkpoint_dir()
    ours, changed = written.written(folder)   # each checkpoint hashed once, for the list and the removal
    models = _checkpoints(ours)
    if not models:
        return f"no trained models in {folder}"
    listing = "\n".join(f"  {p.name}  {p.stat().st_size / 2**20:.1f} MiB" for p in models)
    if not force:
        return (f"trained models in {folder}:\n{listing}\nnothing removed: run 'make clean-models FORCE=1' "
                "to delete them")
    _remove_written(models, folder)
    return f"trained models in {folder}:\n{listing}\nremoved" + _kept(_checkpoints(changed))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", action="store_true", help="the trained models instead (listed; removed with --force)")
    parser.add_argument("--force", action="store_true", help="with --models: remove them")
    args = parser.parse_args(argv)
    if args.models:
        print(clean_models(args.force))
        return 0
    try:
        print(clean())
    except written.RunInProgress as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
