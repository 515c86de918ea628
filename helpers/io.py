"""Writing files safely: atomic (a temporary file renamed onto the target; a folder built under a temporary
name), durable where it matters (synced before and after the rename), with the umask's permissions, and
whatever a killed run left behind removed by the next.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import secrets
import shutil
import socket
from pathlib import Path
from typing import Any, Callable, Iterator

_OWNER = f"{socket.gethostname()}-{os.getpid()}"


def _temporary_name(target: Path, kind: str) -> Path:
    return target.with_name(f".{target.name}.{kind}.{_OWNER}.{secrets.token_hex(4)}")


def _owner_is_gone(owner: str) -> bool:
    """True when ``host-pid`` names a process of this host that no longer runs."""
    host, _, pid = owner.rpartition("-")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine's (a shared file system): not ours to judge
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    return False


def remove_leftovers(target: Path, kind: str) -> list[Path]:
    """Remove the temporary files or folders of ``kind`` that killed runs left beside ``target``."""
    removed = []
    for path in target.parent.glob(f".{target.name}.{kind}.*"):
        parts = path.name[len(f".{target.name}.{kind}."):].rsplit(".", 1)
        if len(parts) == 2 and _owner_is_gone(parts[0]):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
    return removed


class DiskFullError(OSError):
    """A file could not be written because its disk is full (the message names the file); whatever
    was at that path before is still there."""


def disk_full(path: Path) -> DiskFullError:
    free = shutil.disk_usage(path.parent).free if path.parent.exists() else 0
    return DiskFullError(errno.ENOSPC, f"{path}: could not be written, the disk is full ({free / 2**20:.1f} MiB free); "
                                       "what was there before is kept. Free some space and run again")


def fsync_path(path: Path) -> None:
    """Flush a file's or a folder's contents to the disk (folders: where a rename is recorded)."""
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if path.is_dir() else 0)
    descriptor = os.open(path, flags)
    try:
        os.fsync(descriptor)
    except OSError as error:  # some file systems cannot sync a folder; the file itself was synced
        if error.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(descriptor)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, durable: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (an empty file, mode 0o666 & ~umask); on success it
    is renamed onto ``path``, on failure removed. A full disk is a :class:`DiskFullError` naming ``path``.
    ``durable``: the file is synced to the disk before the rename and its folder after it (checkpoints
    and records), so a power cut cannot leave an empty file under the final name."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_leftovers(path, "tmp")
        tmp = _temporary_name(path, "tmp")
        os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    except OSError as error:
        raise (disk_full(path) if error.errno == errno.ENOSPC else error) from None
    try:
        yield tmp
        if durable:
            fsync_path(tmp)
        os.replace(tmp, path)
        if durable:
            fsync_path(path.parent)
    except OSError as error:
        if error.errno == errno.ENOSPC and not isinstance(error, DiskFullError):
            raise disk_full(path) from None
        raise
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def staging_dir(target: str | os.PathLike, kind: str = "staging") -> Iterator[Path]:
    """Yield an empty folder beside ``target`` (mode 0o777 & ~umask) to build ``target`` in; the
    caller renames it into place. It is removed afterwards if it is still there."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(target, kind)
    staging = _temporary_name(target, kind)
    staging.mkdir(mode=0o777)
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def replace_dir(new: Path, target: Path) -> Path:
    """Move the folder ``new`` onto ``target``: an existing ``target`` is renamed aside first (to a
    hidden ``.<name>.old.<host-pid>.<token>`` beside it), ``new`` renamed in, and only then is the old
    copy deleted — a kill leaves either copy whole, never one half-deleted. A copy set aside by a
    killed run is put back by :func:`restore_set_aside` (called here, and before a folder is read
    for its manifest). A symbolic link at ``target`` is refused: what it points to is not ours."""
    new, target = Path(new), Path(target)
    if target.is_symlink():
        raise FileExistsError(errno.EEXIST, f"{target} is a symbolic link (to {os.readlink(target)}); it is not "
                                            "replaced. Remove the link, or point the data folder at its target")
    restore_set_aside(target)
    aside = None
    if target.exists():
        aside = _temporary_name(target, "old")
        target.rename(aside)
    new.rename(target)
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True) if aside.is_dir() else aside.unlink(missing_ok=True)
    return target


def restore_set_aside(target: Path) -> Path | None:
    """Put back the copy a killed :func:`replace_dir` renamed aside when ``target`` is missing; delete
    such copies when ``target`` is there (the new copy made it in). Returns what was put back."""
    target = Path(target)
    restored = None
    for path in sorted(target.parent.glob(f".{target.name}.old.*")) if target.parent.is_dir() else []:
        owner = path.name[len(f".{target.name}.old."):].rsplit(".", 1)[0]
        if not _owner_is_gone(owner):
            continue
        if not target.exists() and not target.is_symlink():
            path.rename(target)
            restored = target
        elif path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return restored


def write_atomic(path: str | os.PathLike, write: Callable[[Path], Any], durable: bool = True) -> Path:
    """Call ``write(tmp_path)`` then rename the result onto ``path`` (durably: see :func:`atomic_path`)."""
    with atomic_path(path, durable) as tmp:
        write(tmp)
    return Path(path)


def write_text_atomic(path: str | os.PathLike, text: str, durable: bool = True) -> Path:
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"), durable)


def write_json_atomic(path: str | os.PathLike, data: Any, durable: bool = True) -> Path:
    return write_text_atomic(path, json.dumps(data, indent=2, default=_json_default) + "\n", durable)


def _block_span(text: str, begin: str, end: str, where: str) -> tuple[int, int]:
    start = text.find(begin)
    stop = text.find(end, start + len(begin)) if start >= 0 else -1
    if stop < 0:
        raise ValueError(f"{where} has no {(begin if start < 0 else end).strip()!r} marker")
    return start + len(begin), stop


def marked_block(text: str, begin: str, end: str, where: str = "the text") -> str:
    """What ``text`` holds between the markers ``begin`` and ``end`` (a ValueError naming ``where``
    and the marker when one is missing)."""
    start, stop = _block_span(text, begin, end, where)
    return text[start:stop]


def replace_marked_block(path: str | os.PathLike, begin: str, end: str, block: str) -> Path:
    """Rewrite ``path`` (atomically) with the text between its markers ``begin`` and ``end`` replaced by ``block``."""
    text = Path(path).read_text(encoding="utf-8")
    start, stop = _block_span(text, begin, end, str(path))
    return write_text_atomic(path, text[:start] + block + text[stop:])


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy and torch scalars
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def file_digest(path: str | os.PathLike, algorithm: str = "sha256") -> str:
    """Hex digest of a file's contents (``"sha256"`` or ``"md5"``), read in 1 MiB blocks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_writable_folder(folder: str | os.PathLike, what: str, variable: str) -> Path:
    """Create ``folder`` if needed and write (then remove) a file in it; an :class:`OSError` naming
    the folder, ``what`` it is for and the environment variable that moves it, when that fails."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = _temporary_name(folder / "write-check", "tmp")
        os.close(os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
        probe.unlink()
    except OSError as error:
        reason = "it is a file, not a folder" if folder.is_file() else (error.strerror or str(error))
        raise type(error)(error.errno, f"{folder}: {what} cannot be written ({reason}); nothing has been done yet. "
                                       f"Set {variable} to a folder you can write") from None
    return folder
