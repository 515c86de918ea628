"""Downloading the real data sets: ``python -m helpers.data download cat2000|mit1003|tiny-imagenet|salicon``.

Each archive is fetched from its official address with a progress bar into ``data/downloads/``,
resuming a partial download (``.part``), and checked with SHA-256 against ``data/checksums.json``:
where no hash is recorded yet, the first download records it there (commit that file) and later
downloads are checked against it. Archives are then extracted into a temporary folder beside
``data/<name>/`` that is renamed at the end, so a half-extracted data set is never mistaken for a
complete one; members with absolute paths or ``..`` are refused.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from tqdm.auto import tqdm

from . import paths
from .io import write_json_atomic

CHUNK = 1 << 20


class DownloadError(RuntimeError):
    """A download or extraction failed; the message says what and where."""


@dataclass(frozen=True)
class DatasetSource:
    """Where a data set comes from: ``(url, archive file name)`` pairs, or manual steps."""

    folder: str
    archives: tuple[tuple[str, str], ...] = ()
    manual: str = ""
    note: str = ""
    known_sha256: dict[str, str] = field(default_factory=dict)


DATASETS = {
    "cat2000": DatasetSource(
        folder="cat2000",
        archives=(("http://saliency.mit.edu/trainSet.zip", "trainSet.zip"),),
        note="CAT2000 training set (Borji & Itti 2015), MIT saliency benchmark: 2,000 images, 20 categories"),
    "mit1003": DatasetSource(
        folder="mit1003",
        archives=(("http://people.csail.mit.edu/tjudd/WherePeopleLook/ALLSTIMULI.zip", "ALLSTIMULI.zip"),
                  ("http://people.csail.mit.edu/tjudd/WherePeopleLook/ALLFIXATIONMAPS.zip", "ALLFIXATIONMAPS.zip")),
        note="MIT1003 (Judd et al. 2009): 1,003 images with fixation maps and points"),
    "tiny-imagenet": DatasetSource(
        folder=".",  # the archive holds tiny-imagenet-200/ itself
        archives=(("http://cs231n.stanford.edu/tiny-imagenet-200.zip", "tiny-imagenet-200.zip"),),
        note="Tiny-ImageNet (CS231n): 200 classes, 64×64"),
    "salicon": DatasetSource(
        folder="salicon",
        manual=("SALICON is hosted on Google Drive and cannot be fetched by a script. By hand:\n"
                "  1. open http://salicon.net/challenge-2017/ and follow the 'Download' links;\n"
                "  2. download images (train/val/test), maps (train/val) and fixations (train/val, .mat);\n"
                "  3. unpack them so that data/salicon/images/, data/salicon/maps/ and\n"
                "     data/salicon/fixations/ hold the files (the 2017 release's layout);\n"
                "  4. run notebook 01 with DATASET='salicon'."),
        note="SALICON 2017 (Jiang et al. 2015): 10,000 train / 5,000 val COCO images"),
    "imagenet": DatasetSource(
        folder="imagenet",
        manual=("ImageNet (ILSVRC 2012) needs an account and acceptance of its terms. By hand:\n"
                "  1. sign in at https://image-net.org/download.php and download ILSVRC2012_img_train.tar\n"
                "     and ILSVRC2012_img_val.tar;\n"
                "  2. unpack them into class folders: data/imagenet/train/<wnid>/*.JPEG and\n"
                "     data/imagenet/val/<wnid>/*.JPEG (torchvision.datasets.ImageNet can sort the val set);\n"
                "  3. run notebooks 03-07 with DATASET='imagenet'."),
        note="ImageNet ILSVRC 2012, the paper's training set"),
}


def checksums_file() -> Path:
    """SHA-256 of every archive downloaded so far (kept in the repository)."""
    return paths.ROOT / "data" / "checksums.json"


def read_checksums(path: Path | None = None) -> dict[str, str]:
    path = path or checksums_file()
    return json.loads(path.read_text()) if path.is_file() else {}


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(url: str, destination: Path, expected_sha256: str | None = None, progress: bool = True,
          timeout: float = 30.0) -> str:
    """Download ``url`` to ``destination`` (resuming ``destination.part``); return its SHA-256.

    A hash mismatch removes the partial file and raises :class:`DownloadError`.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".part")
    start = partial.stat().st_size if partial.is_file() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={start}-"} if start else {})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        if error.code == 416 and start:  # the partial file is already complete
            response = None
        else:
            raise DownloadError(f"{url}: the server answered {error.code} {error.reason}") from error
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise DownloadError(f"cannot reach {url} ({reason}): is there a network connection? "
                            f"Alternatively download it by hand to {destination} and run this again.") from error
    if response is not None:
        with response:
            resumed = start and response.status == 206
            mode = "ab" if resumed else "wb"
            total = response.length + (start if resumed else 0) if response.length is not None else None
            with open(partial, mode) as handle, tqdm(total=total, initial=start if resumed else 0, unit="B",
                                                     unit_scale=True, desc=destination.name,
                                                     disable=not progress) as bar:
                for block in iter(lambda: response.read(CHUNK), b""):
                    handle.write(block)
                    bar.update(len(block))
    found = sha256_file(partial)
    if expected_sha256 and found != expected_sha256:
        partial.unlink()
        raise DownloadError(f"{destination.name}: SHA-256 {found} does not match the recorded {expected_sha256} "
                            f"(a truncated or changed download); it was deleted, run again to retry")
    partial.replace(destination)
    return found


def safe_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The archive's members, refusing any that would land outside the extraction folder."""
    members = archive.infolist()
    for member in members:
        name = member.filename.replace("\\", "/")
        if name.startswith("/") or PurePosixPath(name).is_absolute() or ".." in PurePosixPath(name).parts or (
                len(name) > 1 and name[1] == ":"):
            raise DownloadError(f"{archive.filename}: member {member.filename!r} would be written outside the "
                                "data folder (absolute path or '..'); refusing to extract this archive")
    return members


def extract(archives: list[Path], target: Path) -> Path:
    """Extract ``archives`` into ``target`` via a temporary folder beside it, renamed at the end."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.extracting.", dir=target.parent))
    try:
        for path in archives:
            try:
                with zipfile.ZipFile(path) as archive:
                    archive.extractall(staging, members=safe_members(archive))
            except zipfile.BadZipFile as error:
                raise DownloadError(f"{path}: not a complete zip archive ({error}); delete it and download again") from error
        if target.exists():
            for child in staging.iterdir():  # merge into an existing folder (e.g. data/ itself)
                destination = target / child.name
                if destination.exists():
                    shutil.rmtree(destination) if destination.is_dir() else destination.unlink()
                child.rename(destination)
        else:
            staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def download(name: str, data_dir: Path | None = None, base_url: str | None = None, progress: bool = True,
             checksums: Path | None = None) -> Path | None:
    """Download and extract data set ``name`` into ``data_dir/<folder>``; print manual steps where no
    direct download exists. ``base_url`` replaces the official host (tests use a local server)."""
    if name not in DATASETS:
        raise DownloadError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}")
    source = DATASETS[name]
    if source.manual:
        print(source.manual)
        return None
    data_dir = Path(data_dir) if data_dir else paths.data_dir()
    checksums = checksums or checksums_file()
    recorded = read_checksums(checksums)
    downloads = paths.ensure(data_dir / "downloads")
    archives = []
    for url, file_name in source.archives:
        if base_url:
            url = f"{base_url.rstrip('/')}/{file_name}"
        archive = downloads / file_name
        expected = recorded.get(file_name) or source.known_sha256.get(file_name)
        if archive.is_file() and expected and sha256_file(archive) == expected:
            print(f"{file_name}: already downloaded and verified")
        else:
            found = fetch(url, archive, expected, progress)
            if not expected:
                recorded[file_name] = found
                write_json_atomic(checksums, dict(sorted(recorded.items())))
                print(f"{file_name}: SHA-256 {found} recorded in {checksums} (commit it)")
        archives.append(archive)
    target = extract(archives, data_dir / source.folder)
    print(f"{name}: ready in {target}")
    return target
