"""What a run's images *are*: every file of its splits by path and SHA-256 (cached by size and time).

A trained model stores :func:`split_files`; resuming, loading or scoring it refuses a folder whose files
differ (:func:`check_same_split`), naming them, so nothing is scored on images it trained on.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable, Mapping

from .. import outputs, paths
from ..io import file_digest, write_json_atomic
from ..progress import tqdm
from .readers import DataError

#: The cache of file digests, under :func:`helpers.paths.cache_dir`.
DIGEST_CACHE = "file-digests.json"
#: Hex digits kept of each file's SHA-256 (64 bits: no accidental collision in any data set).
DIGEST_LENGTH = 16


def _read_cache(path: Path) -> dict:
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def file_digests(files: Iterable[Path], progress: bool = False) -> dict[Path, str]:
    """``{file: digest of its contents}``; a file whose size and modification time match the cache's
    entry is not read again. The cache is a convenience: one that cannot be written is skipped."""
    files = list(files)
    cache_path = paths.cache_dir() / DIGEST_CACHE
    cache = _read_cache(cache_path)
    digests, changed = {}, False
    for file in tqdm(files, desc="fingerprinting the data", disable=not progress or len(files) < 500, leave=False):
        key = str(Path(file).resolve())
        stat = os.stat(file)
        entry = cache.get(key)
        if isinstance(entry, list) and entry[:2] == [stat.st_size, stat.st_mtime_ns]:
            digests[file] = entry[2]
            continue
        digests[file] = file_digest(file)[:DIGEST_LENGTH]
        cache[key] = [stat.st_size, stat.st_mtime_ns, digests[file]]
        changed = True
    if changed:
        try:
            write_json_atomic(outputs.check_may_write(cache_path, paths.cache_dir()), cache, durable=False)
        except OSError:
            pass  # a read-only cache folder, or a file of that name not the project's: recomputed next time
    return digests


def item_files(item) -> list[Path]:
    """Every file an item of either part is read from (stimulus, map, fixations; or the image)."""
    return [value for name in ("stimulus", "saliency_map", "fixations", "path")
            if isinstance(value := getattr(item, name, None), Path)]


def relative_name(path: Path, root: Path) -> str:
    """``path`` relative to the data set's folder (so a moved folder is the same data), else in full."""
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def split_files(root: str | Path, splits: Mapping[str, Iterable], progress: bool = False) -> dict[str, dict[str, str]]:
    """``{split: {file relative to root: content digest}}`` for every file of every item of ``splits``."""
    root = Path(root).resolve()
    listed = {split: [file for item in items for file in item_files(item)] for split, items in splits.items()}
    digests = file_digests([file for files in listed.values() for file in files], progress)
    return {split: {relative_name(file, root): digests[file] for file in files} for split, files in listed.items()}


def _names(files: list[str], limit: int = 3) -> str:
    more = f" and {len(files) - limit} more" if len(files) > limit else ""
    return ", ".join(files[:limit]) + more


def split_differences(stored: Mapping[str, Mapping[str, str]], now: Mapping[str, Mapping[str, str]]) -> list[str]:
    """In words, per split, how the files now differ from the ones stored (``[]``: the same)."""
    lines = []
    for split in sorted(set(stored) | set(now)):
        before, after = stored.get(split, {}), now.get(split, {})
        changed = sorted(name for name in set(before) & set(after) if before[name] != after[name])
        missing = sorted(set(before) - set(after))
        added = sorted(set(after) - set(before))
        parts = [f"{len(files)} {what} ({_names(files)})" for files, what in
                 ((changed, "replaced by other contents"), (missing, "no longer in it"), (added, "new to it")) if files]
        if parts:
            lines.append(f"{split.replace('held_out', 'test')} split: " + "; ".join(parts))
    return lines


class SplitChangedError(DataError):
    """The data folder no longer holds the files a trained model's split was made of (the message
    names them); nothing was scored or trained."""


def check_same_split(stored: Mapping[str, Mapping[str, str]], now: Mapping[str, Mapping[str, str]],
                     root: str | Path, model: str | Path) -> None:
    """Refuse, naming the files, when the split rebuilt from ``root`` is not the one ``model`` stores."""
    differences = split_differences(stored, now)
    if differences:
        raise SplitChangedError(
            f"{root}: the data folder no longer matches the split {model} was trained and tested on — "
            + "; ".join(differences) + ". Nothing is scored on other images than its own: restore the files, "
            "or train the model again on the folder as it is now")


def check_trained_on(data, stored_files: Mapping | None, stored_fingerprint: Mapping | None, model: str | Path) -> None:
    """Refuse ``data`` (a :class:`helpers.data.RunData`) unless it is the split ``model`` was trained
    on: by the files and contents its checkpoint stores, or — a checkpoint written before they were
    stored — by its fingerprint of paths and sizes."""
    if stored_files is not None:
        check_same_split(stored_files, data.split_files(), data.root, model)
        return
    now = data.fingerprint()
    if stored_fingerprint and now["digest"] != stored_fingerprint["digest"]:
        raise SplitChangedError(f"{data.root}: the data folder no longer matches the split {model} was trained and "
                                f"tested on (images by split then {stored_fingerprint['images']}, now {now['images']}, "
                                "or files of other sizes); restore the files, or train the model again")
