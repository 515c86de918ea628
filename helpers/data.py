"""Saliency data: the CAT2000 layout, the assignment's ``dirs_loader`` split, and a decode-once dataset.

CAT2000 on disk (``trainSet/`` of the official archive)::

    trainSet/Stimuli/<Category>/NNN.jpg        stimuli, 1920×1080
    trainSet/FIXATIONMAPS/<Category>/NNN.jpg   continuous fixation maps (ground truth for training)
    trainSet/FIXATIONLOCS/<Category>/NNN.mat   binary fixation locations, variable ``fixLocs``

The archive also holds ``Output`` folders (model outputs), which are skipped.
"""
from __future__ import annotations

import hashlib
import random
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from torch.utils.data import Dataset

from . import paths
from .io import atomic_path

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}
SKIPPED_FOLDERS = {"Output"}
#: Bump when the cached representation changes, so old caches are rebuilt.
CACHE_VERSION = 1


class DataError(ValueError):
    """A data file is missing, unreadable or not in the expected format (the message names it)."""


@dataclass(frozen=True)
class SaliencyItem:
    """One stimulus with its ground truth, as paths."""

    category: str
    stimulus: Path
    saliency_map: Path
    fixations: Path


# ---------------------------------------------------------------------------------------------
# Reading files
# ---------------------------------------------------------------------------------------------

def _open_image(path: Path, draft_size: tuple[int, int] | None = None) -> Image.Image:
    try:
        image = Image.open(path)
        if draft_size is not None and image.format == "JPEG":
            # The request follows the stored orientation (EXIF rotation comes later).
            long_side, short_side = max(draft_size), min(draft_size)
            landscape = image.width >= image.height
            image.draft(image.mode, (long_side, short_side) if landscape else (short_side, long_side))
        image.load()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise DataError(f"{path}: not a readable image ({exc})") from exc
    return image


def load_rgb(path: str | Path, expected_size: tuple[int, int] | None = None,
             draft_size: tuple[int, int] | None = None) -> Image.Image:
    """Open an image as RGB (grayscale, CMYK and palette images are converted), EXIF rotation honoured.

    ``expected_size`` is the ``(width, height)`` of the matching fixation map: a stimulus whose EXIF
    rotation would make it disagree with its map carries a wrong tag (CAT2000's ``Pattern/134.jpg``),
    so the tag is ignored with a warning. ``draft_size`` lets the JPEG decoder downscale by a power
    of two while staying at least that large (a large speed-up before a resize).
    """
    path = Path(path)
    image = _open_image(path, draft_size)
    rotated = ImageOps.exif_transpose(image)
    if expected_size is not None and rotated.size != image.size:
        if _same_aspect(image.size, expected_size) and not _same_aspect(rotated.size, expected_size):
            warnings.warn(f"{path}: EXIF orientation disagrees with its fixation map; tag ignored",
                          stacklevel=2)
            rotated = image
    return rotated.convert("RGB")


def _same_aspect(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return abs(a[0] / a[1] - b[0] / b[1]) < 0.02


def load_gray(path: str | Path, draft_size: tuple[int, int] | None = None) -> Image.Image:
    """Open an image as 8-bit grayscale (``L``); ``draft_size`` as for :func:`load_rgb`."""
    return ImageOps.exif_transpose(_open_image(Path(path), draft_size)).convert("L")


def load_fixations(path: str | Path, variable: str = "fixLocs") -> np.ndarray:
    """Binary fixation locations ``(H, W)`` bool from a MATLAB file (CAT2000's ``fixLocs``)."""
    from scipy.io import loadmat

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: fixation file not found")
    try:
        contents = loadmat(path)
    except Exception as exc:  # scipy raises several types for a damaged or HDF5 (v7.3) file
        raise DataError(f"{path}: not a readable MATLAB file ({exc})") from exc
    if variable not in contents:
        found = sorted(k for k in contents if not k.startswith("__"))
        raise DataError(f"{path}: expected a variable {variable!r}, found {found}")
    fixations = np.asarray(contents[variable])
    if fixations.ndim != 2:
        raise DataError(f"{path}: {variable!r} should be a 2-D map, got shape {fixations.shape}")
    return fixations > 0


# ---------------------------------------------------------------------------------------------
# The CAT2000 layout
# ---------------------------------------------------------------------------------------------

def cat2000_root(root: str | Path) -> Path:
    """The ``trainSet`` folder, given it or the folder that holds it."""
    root = Path(root)
    for candidate in (root, root / "trainSet"):
        if (candidate / "Stimuli").is_dir():
            return candidate
    raise DataError(f"{root}: not a CAT2000 folder (expected trainSet/Stimuli/<Category>/*.jpg)")


def find_cat2000(root: str | Path) -> list[SaliencyItem]:
    """Every stimulus of a CAT2000 ``trainSet`` with its map and fixations, sorted by category and name."""
    base = cat2000_root(root)
    items = []
    categories = sorted(p for p in (base / "Stimuli").iterdir()
                        if p.is_dir() and p.name not in SKIPPED_FOLDERS)
    if not categories:
        raise DataError(f"{base / 'Stimuli'}: no category folders")
    for category in categories:
        for stimulus in sorted(category.iterdir()):
            if stimulus.suffix.lower() not in IMAGE_SUFFIXES or stimulus.name.startswith("."):
                continue
            saliency_map = base / "FIXATIONMAPS" / category.name / stimulus.name
            fixations = base / "FIXATIONLOCS" / category.name / f"{stimulus.stem}.mat"
            for needed, what in ((saliency_map, "fixation map"), (fixations, "fixation locations")):
                if not needed.is_file():
                    raise DataError(f"{stimulus}: its {what} {needed} is missing")
            items.append(SaliencyItem(category.name, stimulus, saliency_map, fixations))
    return items


def select_subset(items: Sequence[SaliencyItem], WholeDataset: bool | int = True,
                  seed: int = 0) -> dict[str, list[SaliencyItem]]:
    """Items grouped by category; ``WholeDataset`` a number keeps that many, spread evenly over categories."""
    by_category: dict[str, list[SaliencyItem]] = {}
    for item in items:
        by_category.setdefault(item.category, []).append(item)
    rng = random.Random(seed)
    for name in sorted(by_category):
        rng.shuffle(by_category[name])
    if WholeDataset is True:
        return by_category
    if isinstance(WholeDataset, bool) or not isinstance(WholeDataset, (int, np.integer)) or WholeDataset < 1:
        raise ValueError(f"WholeDataset must be True or a positive number of images, got {WholeDataset!r}")
    names = sorted(by_category)
    quota = {name: 0 for name in names}
    remaining = min(int(WholeDataset), len(items))
    while remaining:  # deal one image per category in turn, skipping exhausted categories
        for name in names:
            if remaining and quota[name] < len(by_category[name]):
                quota[name] += 1
                remaining -= 1
    return {name: by_category[name][:quota[name]] for name in names if quota[name]}


def dirs_loader(root: str | Path, WholeDataset: bool | int = True, val_fraction: float = 0.15,
                seed: int = 0) -> tuple[list[SaliencyItem], list[SaliencyItem]]:
    """The assignment's loader: ``(train, validation)`` items, split 85 % / 15 % inside each category.

    ``WholeDataset=True`` uses every image; a number uses only that many, spread evenly over the
    categories. The choice and the split are deterministic for a given ``seed``.
    """
    if not 0 <= val_fraction < 1:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction!r}")
    train, val = [], []
    for group in select_subset(find_cat2000(root), WholeDataset, seed).values():
        n_val = max(1, round(len(group) * val_fraction)) if len(group) >= 2 and val_fraction else 0
        val.extend(sorted(group[:n_val], key=_item_key))
        train.extend(sorted(group[n_val:], key=_item_key))
    return train, val


def _item_key(item: SaliencyItem) -> tuple[str, str]:
    return item.category, item.stimulus.name


# ---------------------------------------------------------------------------------------------
# A dataset that decodes each file once
# ---------------------------------------------------------------------------------------------

def _fingerprint(*files: Path) -> list:
    out = []
    for file in files:
        stat = file.stat()
        out += [str(file.resolve()), stat.st_size, stat.st_mtime_ns]
    return out


def to_signed(array: np.ndarray) -> torch.Tensor:
    """uint8 ``(H, W)`` or ``(H, W, 3)`` → float ``(C, H, W)`` in [-1, 1] (ToTensor, then mean 0.5 / std 0.5)."""
    channels_first = array[None] if array.ndim == 2 else array.transpose(2, 0, 1)
    out = np.empty(channels_first.shape, dtype=np.float32)
    np.divide(channels_first, 127.5, out=out, casting="unsafe")  # one pass, into contiguous memory
    out -= 1.0
    return torch.from_numpy(out)


def from_signed(tensor: torch.Tensor) -> torch.Tensor:
    """The inverse of :func:`to_signed`'s scaling: [-1, 1] → [0, 1], clipped."""
    return ((tensor + 1.0) / 2.0).clamp(0.0, 1.0)


class SaliencyDataset(Dataset):
    """``(image (3, H, W), map (1, h, w))`` pairs in [-1, 1] for training.

    The first access to an item decodes and resizes its JPEGs; the result (uint8) is written to
    ``cache_dir`` under a key made of both source files (path, size, modification time) and the two
    target sizes, so every later epoch — and every later run — reads a small array instead, and a
    changed file or size is decoded again. ``cache_dir=None`` decodes every time.
    """

    def __init__(self, items: Sequence[SaliencyItem], image_size: tuple[int, int] = (240, 320),
                 map_size: tuple[int, int] = (236, 316), cache_dir: str | Path | None = "default"):
        self.items = list(items)
        self.image_size = tuple(image_size)
        self.map_size = tuple(map_size)
        self.cache_dir = paths.cache_dir() / "saliency" if cache_dir == "default" else (
            Path(cache_dir) if cache_dir is not None else None)

    def __len__(self) -> int:
        return len(self.items)

    def cache_path(self, index: int) -> Path:
        item = self.items[index]
        key = repr([CACHE_VERSION, _fingerprint(item.stimulus, item.saliency_map),
                    self.image_size, self.map_size])
        digest = hashlib.sha1(key.encode()).hexdigest()
        return self.cache_dir / digest[:2] / f"{digest}.npz"

    def decode(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Read and resize one item from its source files: uint8 ``(H, W, 3)`` and ``(h, w)``."""
        item = self.items[index]
        (h, w), (mh, mw) = self.image_size, self.map_size
        saliency_map = load_gray(item.saliency_map, draft_size=(mw, mh))
        image = load_rgb(item.stimulus, expected_size=saliency_map.size, draft_size=(w, h))
        image = image.resize((w, h), Image.Resampling.BILINEAR, reducing_gap=None)
        saliency_map = saliency_map.resize((mw, mh), Image.Resampling.BILINEAR)
        return np.array(image), np.array(saliency_map)

    def load(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """The uint8 arrays of one item, from the cache when it holds them."""
        if self.cache_dir is None:
            return self.decode(index)
        path = self.cache_path(index)
        try:
            with np.load(path) as cached:
                return cached["image"], cached["map"]
        except (FileNotFoundError, OSError, ValueError, KeyError):
            pass  # missing or damaged: decode again
        image, saliency_map = self.decode(index)
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as handle:
                np.savez(handle, image=image, map=saliency_map)
        return image, saliency_map

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image, saliency_map = self.load(index)
        return to_signed(image), to_signed(saliency_map)


# ---------------------------------------------------------------------------------------------
# Choosing a data set and making loaders
# ---------------------------------------------------------------------------------------------

SALIENCY_DATASETS = ("auto", "cat2000", "sample")


def resolve_saliency_dataset(dataset: str = "auto", data_dir: str | Path = "") -> tuple[str, Path]:
    """``(name, root)`` of the saliency data set to use.

    ``"cat2000"`` is the real data under ``data_dir`` (default ``data/cat2000``); ``"sample"`` the
    generated sample (made on first use); ``"auto"`` the real data when it is there, else the sample.
    """
    from .samples import ensure_saliency_sample

    if dataset not in SALIENCY_DATASETS:
        raise ValueError(f"DATASET must be one of {SALIENCY_DATASETS}, got {dataset!r}")
    real_root = Path(data_dir) if data_dir else paths.data_dir() / "cat2000"
    if dataset == "auto":
        dataset = "cat2000" if (real_root / "trainSet" / "Stimuli").is_dir() or (
            real_root / "Stimuli").is_dir() else "sample"
    if dataset == "cat2000":
        try:
            return "cat2000", cat2000_root(real_root).parent
        except DataError:
            raise DataError(f"{real_root}: CAT2000 is not there; download it with "
                            "`python -m helpers.data download cat2000` or set DATASET='sample'") from None
    return "sample", ensure_saliency_sample(Path(data_dir) if data_dir else None)


def make_loader(dataset: Dataset, batch_size: int, shuffle: bool = False, seed: int = 0,
                num_workers: int = 0) -> torch.utils.data.DataLoader:
    """A DataLoader whose shuffling comes from its own seeded generator (re-seeded per epoch by
    :func:`helpers.training.fit`, which makes resumed runs exact)."""
    generator = torch.Generator().manual_seed(seed) if shuffle else None
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=shuffle,
                                       generator=generator, num_workers=num_workers,
                                       pin_memory=torch.cuda.is_available(),
                                       persistent_workers=num_workers > 0)
