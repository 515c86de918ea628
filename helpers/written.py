"""What the project wrote, known by its content, and one run at a time in each output folder.

Each output folder — the report, the executed notebooks, the decode cache and the checkpoints, wherever
``SALIENCY_*_DIR`` puts them — holds :data:`MANIFEST`: every path the project wrote there (relative to the
folder) with what it wrote — a file's SHA-256, or, for a folder the project made, that folder's identity.
Writers call :func:`check_may_write` before replacing a file and :func:`record` after; ``make clean`` and
``clean-models`` remove only what :func:`written` finds still as written. So a user's file that shares a
name — ``REPORT.md`` in a shared folder, ``saliency_backup.pt``, ``executed/01_saliency_model.ipynb``, a
folder called ``items`` — is neither overwritten nor deleted: a writer stops with one line, ``clean`` keeps
it and says so. A path that leads out of the folder (a link, ``..``) is never the folder's.

:func:`one_run_at_a_time` keeps a second headless run from writing the executed notebooks and the report
while one is: it says which run it waits for and goes on when that one ends. A notebook run from
JupyterLab that writes there meanwhile waits the same way at its first write; ``make clean`` stops.

Standard library only (``make clean`` runs before the environment is built); ``filelock`` is imported
where a lock is taken.
"""
from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Callable, Iterator

from .io import file_digest, held_or_waited_for, write_json_atomic

MANIFEST = ".written-by-the-project.json"
#: Set by a headless run for the kernels it starts: a description of the run (its records keep it).
RUN_VARIABLE = "SALIENCY_RUN"
RUN_LOCK, RUN_HOLDER = ".run.lock", ".run-in-progress.json"
#: An earlier version's list of the report files it wrote, one name a line (no content).
EARLIER_LIST = ".written-by-the-project"


class NotWrittenHere(FileExistsError):
    """A file is in the way that the project did not write (or that changed since it did)."""


class RunInProgress(RuntimeError):
    """Another run is writing the same output folder."""


def _name(path: Path, folder: Path) -> str | None:
    """``path`` relative to ``folder`` when its parent, links followed, lies inside it; else None."""
    try:
        parent = Path(path).parent.resolve().relative_to(Path(folder).resolve())
    except (ValueError, OSError):
        return None
    return (parent / Path(path).name).as_posix() if Path(path).name not in ("", ".", "..") else None


def _what_is(path: Path) -> str:
    if path.is_dir():
        status = path.stat()
        return f"folder {status.st_dev}:{status.st_ino}"
    return file_digest(path)


def _manifest(folder: Path) -> dict[str, str]:
    try:
        found = json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return _earlier_list(Path(folder))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in found.items() if isinstance(v, str)} if isinstance(found, dict) else {}


def _earlier_list(folder: Path) -> dict[str, str]:
    """The report files an earlier version listed by name in :data:`EARLIER_LIST`, each as it is now: the
    project's until the manifest is first written, which takes them in and removes that list."""
    try:
        lines = (folder / EARLIER_LIST).read_text(encoding="utf-8").splitlines()
    except (OSError, ValueError):
        return {}
    listed = {_name(folder / line.strip(), folder): folder / line.strip() for line in lines if line.strip()}
    return {name: _what_is(path) for name, path in listed.items()
            if name is not None and path.is_file() and not path.is_symlink()}


def _as_written(path: Path, entry: str | None) -> bool:
    """Whether ``path`` is still what its manifest ``entry`` says the project wrote."""
    if entry is None or path.is_symlink() or not path.exists():
        return False
    try:
        return _what_is(path) == entry
    except OSError:
        return False


def is_ours(path: Path, folder: Path) -> bool:
    """Whether the project wrote ``path`` in ``folder`` and it is still as written."""
    name = _name(Path(path), folder)
    return name is not None and _as_written(Path(path), _manifest(folder).get(name))


def check_may_write(path: Path, folder: Path) -> None:
    """Stop with one line when a file the project did not write (or that changed since) is at ``path``
    in ``folder``, after waiting for another run writing there to end; a path outside ``folder`` is the
    caller's own."""
    path = Path(path)
    if _name(path, folder) is None:
        return
    if not os.environ.get(RUN_VARIABLE) and (Path(folder) / RUN_LOCK).exists():
        with _waiting_for_the_run(folder, "this notebook's writes wait for it"):
            pass
    if (path.exists() or path.is_symlink()) and not is_ours(path, folder):
        raise NotWrittenHere(f"{path}: this file was not written by the project, or was changed since — it is left "
                             f"as it is. Move it away (or point the folder's SALIENCY_*_DIR variable elsewhere) and "
                             f"run again")


def _lock(path: Path, timeout: float = -1):
    """``filelock``'s lock on ``path``; none before the environment is built (when no run can be going)."""
    try:
        from filelock import FileLock
    except ImportError:
        return contextlib.nullcontext()
    return FileLock(path, timeout=timeout)


def _update(folder: Path, change) -> None:
    with _lock(Path(folder) / f"{MANIFEST}.lock"):
        manifest = _manifest(folder)
        change(manifest)
        write_json_atomic(Path(folder) / MANIFEST, manifest, durable=False)
        (Path(folder) / EARLIER_LIST).unlink(missing_ok=True)   # taken in (see _earlier_list)


def record(path: Path, folder: Path) -> Path:
    """Note ``path`` (a file just written, or a folder just made) as the project's in ``folder``."""
    name = _name(Path(path), folder)
    if name is not None:
        _update(folder, lambda manifest: manifest.update({name: _what_is(Path(path))}))
    return Path(path)


@contextlib.contextmanager
def replacing(path: Path, folder: Path) -> Iterator[Path]:
    """Around writing the file ``path`` in ``folder``: :func:`check_may_write` first, :func:`record` after."""
    check_may_write(path, folder)
    yield Path(path)
    record(path, folder)


def claim_folder(path: Path, folder: Path) -> bool:
    """Make the folder ``path`` in ``folder`` and record it; True when it is the project's (made now or
    before), False when something of that name is there that the project did not make."""
    path = Path(path)
    if path.exists() or path.is_symlink():
        return is_ours(path, folder)
    path.mkdir(parents=True)
    record(path, folder)
    return True


def written(folder: Path) -> tuple[list[Path], list[Path]]:
    """What the manifest of ``folder`` lists: (still as the project wrote it, changed or replaced since)."""
    folder, manifest = Path(folder), _manifest(folder)   # read once, not once a listed path
    listed = [folder / name for name in manifest]
    ours = [path for path in listed if _as_written(path, manifest.get(_name(path, folder)))]
    return ours, [path for path in listed if path not in ours and (path.exists() or path.is_symlink())]


def forget(paths: list[Path], folder: Path) -> None:
    names = {_name(Path(p), folder) for p in paths}
    _update(folder, lambda manifest: [manifest.pop(name, None) for name in names])


# ---------------------------------------------------------------------------------------------
# One run at a time
# ---------------------------------------------------------------------------------------------

def _holder(folder: Path) -> str:
    try:
        return json.loads((Path(folder) / RUN_HOLDER).read_text(encoding="utf-8"))["run"]
    except (OSError, ValueError, KeyError, TypeError):
        return "another run"


def _waiting_for_the_run(folder: Path, then: str):
    """Hold ``folder``'s run lock; when another process holds it, say whose run that is and wait."""
    return held_or_waited_for(Path(folder) / RUN_LOCK, lambda: f"{folder} is being written by {_holder(folder)}: "
                              f"{then} until it ends (Ctrl-C or interrupting the kernel stops waiting)", sys.stderr)


@contextlib.contextmanager
def one_run_at_a_time(folders: list[Path], run: str) -> Iterator[Callable[[str], None]]:
    """Hold each output folder's run lock while ``run`` (its description) writes there, and tell the
    kernels it starts that they belong to it; while another run holds one, this one says so and waits.
    Yields ``doing(what)``, which adds what the run is doing now (a notebook) to what others are told."""
    with contextlib.ExitStack() as stack:
        for folder in folders:
            Path(folder).mkdir(parents=True, exist_ok=True)
            stack.enter_context(_waiting_for_the_run(folder, "this run waits"))

        def doing(what: str) -> None:
            for folder in folders:
                write_json_atomic(Path(folder) / RUN_HOLDER, {"run": f"{run}, {what}"}, durable=False)

        doing("starting")
        previous = os.environ.get(RUN_VARIABLE)
        os.environ[RUN_VARIABLE] = run
        try:
            yield doing
        finally:
            os.environ.pop(RUN_VARIABLE) if previous is None else os.environ.update({RUN_VARIABLE: previous})


def check_no_other_run(folder: Path) -> None:
    """For ``make clean``, from a process that is not part of a headless run: stop with one line while one
    is writing ``folder``."""
    if os.environ.get(RUN_VARIABLE) or not (Path(folder) / RUN_LOCK).exists():
        return
    try:
        with _lock(Path(folder) / RUN_LOCK, timeout=0):
            return
    except TimeoutError:   # filelock's Timeout is one
        raise RunInProgress(f"{folder} is being written by {_holder(folder)}; nothing was removed. Wait for it to "
                           "finish, then run 'make clean' again") from None


def this_run() -> str:
    """The run this process belongs to: the headless run's description, else this interactive process."""
    return os.environ.get(RUN_VARIABLE) or f"an interactive session (process {os.getpid()})"
