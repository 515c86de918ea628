"""Output folders, kept as Hugging Face's ``Trainer`` keeps its ``output_dir``: a folder is the project's or the
user's. The project writes only into a folder that is empty or carries :data:`MARKER`, and inside it writes
and removes only the names it makes (:data:`FOLDERS`); ``make clean`` is :func:`clean`. One run at a time
writes a folder (:func:`one_run_at_a_time`, ``filelock``). Standard library only.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
from pathlib import Path
from typing import Callable, Iterator

from . import paths, run_command

MARKER = ".saliency-inversion-output"
MARKER_TEXT = "This folder is written by the saliency-inversion project; make clean removes the files it names.\n"
#: Each output folder: the variable that moves it, and the names (relative paths) the project makes there.
FOLDERS = {
    "executed": ("SALIENCY_EXECUTED_DIR", paths.executed_dir, [r"\.?\d\d_[\w-]+(\.running)?\.ipynb"]),
    "report": ("SALIENCY_REPORT_DIR", paths.report_dir,
               [r"REPORT\.(md|html|pdf)", r"figures/fig[\w-]*\.(png|pdf)", r"metrics/(saliency|inversion)[\w.-]*\.(json|csv)"]),
    "cache": ("SALIENCY_CACHE_DIR", paths.cache_dir,
              [r"(saliency|inversion)/[0-9a-f]{2}/[0-9a-f]{40}\.npz", r"file-digests\.json"]),
    "checkpoints": ("SALIENCY_CHECKPOINT_DIR", paths.checkpoint_dir,
                    [r"[a-z0-9_]+_[0-9a-f]{8}(_[0-9a-f]{6})?(\.replaced-[\d-]+)?\.pt"]),
}
#: Set by a headless run for the kernels it starts: a description of the run (its records keep it).
RUN_VARIABLE = "SALIENCY_RUN"
RUN_LOCK, RUN_HOLDER = ".run.lock", ".run-in-progress.json"


class NotOurFolder(FileExistsError):
    """A folder (or a link in it) is the user's, not the project's: nothing is written there."""


class RunInProgress(RuntimeError):
    """Another run is writing the same output folder."""


def _kind(folder: Path) -> str:
    folder = Path(folder).resolve()
    return next((kind for kind, (_, where, _) in FOLDERS.items() if where().resolve() == folder), "")


def _variable(folder: Path) -> str:
    kind = _kind(folder)
    return FOLDERS[kind][0] if kind else "the folder's SALIENCY_*_DIR variable"


def own(folder: Path) -> Path:
    """``folder``, made (with its marker) when missing or empty; a folder without the marker, or with a damaged
    one, stops with one line naming it and the variable that moves it."""
    folder, variable = Path(folder), _variable(folder)
    marker = folder / MARKER
    if folder.is_dir() and not any(folder.iterdir()) or not folder.exists():
        folder.mkdir(parents=True, exist_ok=True)
        marker.write_text(MARKER_TEXT)
    elif not folder.is_dir():
        raise NotOurFolder(f"{folder}: is a file, not a folder; nothing was written. Set {variable} to a folder")
    elif not marker.is_file() or marker.is_symlink():
        raise NotOurFolder(f"{folder}: holds files and no {MARKER}, so it is not a folder this project made and "
                           f"nothing is written there. Set {variable} to a new or empty folder")
    elif marker.read_text(errors="replace") != MARKER_TEXT:
        raise NotOurFolder(f"{marker}: damaged or edited, so {folder} is not taken for the project's; nothing was "
                           f"written. If the folder is the project's, write back the line {MARKER_TEXT.strip()!r}; "
                           f"else set {variable} to a new or empty folder")
    return folder


def check_may_write(path: Path, folder: Path) -> Path:
    """Refuse (one line) to write ``path`` through a link out of ``folder``, the project's (:func:`own`); wait
    first while another run writes ``folder``. A path outside ``folder`` is one the caller chose, written as asked."""
    path, inside = Path(path), Path(folder)
    if not path.is_relative_to(inside):
        return path
    own(folder)
    if not os.environ.get(RUN_VARIABLE) and (Path(folder) / RUN_LOCK).exists():
        with _waiting_for_the_run(folder, "this notebook's writes wait for it"):
            pass
    for step in (path, *path.relative_to(inside).parents[:-1]):
        step = step if step == path else inside / step
        if step.is_symlink():
            raise NotOurFolder(f"{step}: a link (to {os.readlink(step)}) in the project's folder {folder}; nothing "
                               "is written through it. Remove the link, or set the folder's variable elsewhere")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def project_files(folder: Path, kind: str) -> list[Path]:
    """The files in ``folder`` (of ``kind``, a key of :data:`FOLDERS`) named as the project names them, no link
    followed; none when the folder is not the project's."""
    folder = Path(folder)
    if not (folder / MARKER).is_file():
        return []
    names = re.compile("|".join(f"(?:{pattern})" for pattern in FOLDERS[kind][2]))
    found = []
    for parent, subfolders, files in os.walk(folder):
        subfolders[:] = [name for name in subfolders if not Path(parent, name).is_symlink()]
        found += [Path(parent, name) for name in files if not Path(parent, name).is_symlink()
                  and names.fullmatch(Path(parent, name).relative_to(folder).as_posix())]
    return sorted(found)


def _remove(files: list[Path], folder: Path) -> None:
    """Remove ``files``, then the subfolders of ``folder`` they leave empty."""
    for file in files:
        file.unlink()
    for parent in sorted({f.parent for f in files}, key=lambda p: len(p.parts), reverse=True):
        while parent != folder and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent


def clean() -> str:
    """``make clean``: the project's files in the executed-notebook, cache and report folders; the answer in words."""
    folders = [(kind, FOLDERS[kind][1]()) for kind in ("executed", "cache", "report")]
    for _, folder in folders:
        check_no_other_run(folder)
        if folder.exists() and any(folder.iterdir()):
            own(folder)   # a folder of the user's stops here, before anything is removed
    removed = []
    for kind, folder in folders:
        files = project_files(folder, kind)
        _remove(files, folder)
        removed += files
    return ("removed: " + (", ".join(str(p) for p in removed) if removed else "nothing (already clean)")
            + f"\nkept: {paths.checkpoint_dir()} (trained models; 'make clean-models' lists them) and every data set")


def clean_models(force: bool) -> str:
    """``make clean-models``: list the trained models (with ``force``, remove them); the answer in words."""
    folder = paths.checkpoint_dir()
    models = project_files(folder, "checkpoints")
    if not models:
        return f"no trained models in {folder}"
    listing = "\n".join(f"  {p.name}  {p.stat().st_size / 2**20:.1f} MiB" for p in models)
    if not force:
        return f"trained models in {folder}:\n{listing}\nnothing removed: run 'make clean-models FORCE=1' to delete them"
    _remove(models, folder)
    return f"trained models in {folder}:\n{listing}\nremoved"


# -- one run at a time ---------------------------------------------------------------------------

@contextlib.contextmanager
def held_or_waited_for(lock_path: Path, waiting: Callable[[], str], stream=None) -> Iterator[None]:
    """``filelock``'s lock on ``lock_path``; while another process holds it, print ``waiting()`` and wait."""
    from filelock import FileLock, Timeout   # here: make clean runs before the environment is built

    lock = FileLock(lock_path)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        print(waiting(), file=stream or sys.stdout, flush=True)
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def _holder(folder: Path) -> str:
    try:
        return json.loads((Path(folder) / RUN_HOLDER).read_text(encoding="utf-8"))["run"]
    except (OSError, ValueError, KeyError, TypeError):
        return "another run"


def _waiting_for_the_run(folder: Path, then: str):
    return held_or_waited_for(Path(folder) / RUN_LOCK, lambda: f"{folder} is being written by {_holder(folder)}: "
                              f"{then} until it ends (Ctrl-C or interrupting the kernel stops waiting)", sys.stderr)


@contextlib.contextmanager
def one_run_at_a_time(folders: list[Path], run: str) -> Iterator[Callable[[str], None]]:
    """Hold each output folder's run lock while ``run`` (its description) writes there, telling the kernels it
    starts that they belong to it; yields ``doing(what)``, which says what the run is doing now."""
    with contextlib.ExitStack() as stack:
        for folder in folders:
            own(folder)
            stack.enter_context(_waiting_for_the_run(folder, "this run waits"))

        def doing(what: str) -> None:
            for folder in folders:
                (Path(folder) / RUN_HOLDER).write_text(json.dumps({"run": f"{run}, {what}"}))

        doing("starting")
        previous = os.environ.get(RUN_VARIABLE)
        os.environ[RUN_VARIABLE] = run
        try:
            yield doing
        finally:
            os.environ.pop(RUN_VARIABLE) if previous is None else os.environ.update({RUN_VARIABLE: previous})


def check_no_other_run(folder: Path) -> None:
    """Stop with one line while a headless run writes ``folder`` (``make clean`` during a run)."""
    if os.environ.get(RUN_VARIABLE) or not (Path(folder) / RUN_LOCK).exists():
        return
    from filelock import FileLock, Timeout
    try:
        with FileLock(Path(folder) / RUN_LOCK, timeout=0):
            return
    except Timeout:
        raise RunInProgress(f"{folder} is being written by {_holder(folder)}; nothing was removed. Wait for it to "
                            "finish, then run 'make clean' again") from None


def this_run() -> str:
    """The run this process belongs to: the headless run's description, else this interactive process."""
    return os.environ.get(RUN_VARIABLE) or f"an interactive session (process {os.getpid()})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="make clean and make clean-models")
    parser.add_argument("--models", action="store_true", help="the trained models instead (listed; removed with --force)")
    parser.add_argument("--force", action="store_true", help="with --models: remove them")
    args = parser.parse_args(argv)
    try:
        print(clean_models(args.force) if args.models else clean())
    except (RunInProgress, NotOurFolder) as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    run_command(main, "python -m helpers.outputs")
