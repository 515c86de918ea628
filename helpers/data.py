"""Data for both parts: the real on-disk layouts, the assignment's splits, and decode-once datasets.

Part 1 (saliency) reads CAT2000 — the assignment's data — and SALICON and MIT1003. CAT2000 on disk
(``trainSet/`` of the official archive)::

    trainSet/Stimuli/<Category>/NNN.jpg        stimuli, 1920×1080
    trainSet/FIXATIONMAPS/<Category>/NNN.jpg   continuous fixation maps (ground truth for training)
    trainSet/FIXATIONLOCS/<Category>/NNN.mat   binary fixation locations, variable ``fixLocs``

The archive also holds ``Output`` folders (model outputs), which are skipped. Part 2 (inversion)
reads Tiny-ImageNet or an ImageNet-style folder. ``python -m helpers.data download NAME`` fetches them
(:mod:`helpers.downloads`).
"""
from __future__ import annotations

import hashlib
import random
import sys
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
    #: how ``fixations`` stores them: "fixLocs" (CAT2000 .mat), "salicon" (.mat ``gaze`` struct,
    #: 1-based [x, y]) or "fixPts" (MIT1003: binary points stored as a JPEG, thresholded)
    fixation_format: str = "fixLocs"


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


def _load_mat(path: Path, **options) -> dict:
    from scipy.io import loadmat

    if not path.is_file():
        raise DataError(f"{path}: fixation file not found")
    try:
        return loadmat(path, **options)
    except Exception as exc:  # scipy raises several types for a damaged or HDF5 (v7.3) file
        raise DataError(f"{path}: not a readable MATLAB file ({exc})") from exc


def load_fixations(path: str | Path, variable: str = "fixLocs", fixation_format: str = "fixLocs") -> np.ndarray:
    """Binary fixation locations ``(H, W)`` bool, from any of the supported formats (see
    :class:`SaliencyItem`); by default a MATLAB file holding CAT2000's ``fixLocs``."""
    path = Path(path)
    if fixation_format == "salicon":
        return load_salicon_fixations(path)
    if fixation_format == "fixPts":
        return np.asarray(load_gray(path)) > 127  # binary points stored as JPEG: undo the artefacts
    if fixation_format != "fixLocs":
        raise ValueError(f"unknown fixation format {fixation_format!r}")
    contents = _load_mat(path)
    if variable not in contents:
        found = sorted(k for k in contents if not k.startswith("__"))
        raise DataError(f"{path}: expected a variable {variable!r}, found {found}")
    fixations = np.asarray(contents[variable])
    if fixations.ndim != 2:
        raise DataError(f"{path}: {variable!r} should be a 2-D map, got shape {fixations.shape}")
    return fixations > 0


def load_salicon_fixations(path: str | Path) -> np.ndarray:
    """SALICON 2017 fixations: a ``gaze`` struct per observer whose ``fixations`` are 1-based
    ``[x, y]`` rows; the map size comes from ``resolution`` ([height, width])."""
    path = Path(path)
    contents = _load_mat(path, squeeze_me=True, struct_as_record=False)
    if "gaze" not in contents or "resolution" not in contents:
        found = sorted(k for k in contents if not k.startswith("__"))
        raise DataError(f"{path}: expected SALICON's 'gaze' and 'resolution' variables, found {found}")
    height, width = (int(v) for v in np.atleast_1d(contents["resolution"])[:2])
    fixations = np.zeros((height, width), dtype=bool)
    for observer in np.atleast_1d(contents["gaze"]):
        points = np.atleast_2d(np.asarray(observer.fixations, dtype=float))
        if points.size == 0:
            continue
        cols = np.clip(np.round(points[:, 0]).astype(int) - 1, 0, width - 1)
        rows = np.clip(np.round(points[:, 1]).astype(int) - 1, 0, height - 1)
        fixations[rows, cols] = True
    return fixations


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


def select_subset(items: Sequence, WholeDataset: bool | int = True, seed: int = 0) -> dict[str, list]:
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
    return split_per_category(find_cat2000(root), WholeDataset, val_fraction, seed)


def _item_key(item: SaliencyItem) -> tuple[str, str]:
    return item.category, item.stimulus.name


def split_per_category(items: Sequence[SaliencyItem], WholeDataset: bool | int = True, val_fraction: float = 0.15,
                       seed: int = 0) -> tuple[list[SaliencyItem], list[SaliencyItem]]:
    """The assignment's split of any item list: ``val_fraction`` of each category held out."""
    if not 0 <= val_fraction < 1:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction!r}")
    train, val = [], []
    for group in select_subset(items, WholeDataset, seed).values():
        n_val = max(1, round(len(group) * val_fraction)) if len(group) >= 2 and val_fraction else 0
        val.extend(sorted(group[:n_val], key=_item_key))
        train.extend(sorted(group[n_val:], key=_item_key))
    return train, val


# ---------------------------------------------------------------------------------------------
# SALICON (2017 release) and MIT1003
# ---------------------------------------------------------------------------------------------

def find_salicon(root: str | Path, split: str) -> list[SaliencyItem]:
    """SALICON items of ``split`` ("train" or "val"): ``images/<split>/*.jpg``, ``maps/<split>/*.png``,
    ``fixations/<split>/*.mat``; ``split=""`` for one flat ``images/``, ``maps/``, ``fixations/``."""
    root = Path(root)
    sub = split
    images = root / "images" / sub
    if not images.is_dir():
        raise DataError(f"{root}: not a SALICON folder (expected images/, maps/ and fixations/; "
                        "see `python -m helpers.data download salicon`)")
    items = []
    for stimulus in sorted(images.glob("*.jpg")):
        saliency_map = root / "maps" / sub / f"{stimulus.stem}.png"
        fixations = root / "fixations" / sub / f"{stimulus.stem}.mat"
        for needed, what in ((saliency_map, "saliency map"), (fixations, "fixations")):
            if not needed.is_file():
                raise DataError(f"{stimulus}: its {what} {needed} is missing")
        items.append(SaliencyItem("SALICON", stimulus, saliency_map, fixations, "salicon"))
    return items


def find_mit1003(root: str | Path) -> list[SaliencyItem]:
    """MIT1003 items: ``ALLSTIMULI/<name>.jpeg`` with ``ALLFIXATIONMAPS/<name>_fixMap.jpg`` and
    ``<name>_fixPts.jpg``."""
    root = Path(root)
    stimuli = root / "ALLSTIMULI"
    if not stimuli.is_dir():
        raise DataError(f"{root}: not an MIT1003 folder (expected ALLSTIMULI/ and ALLFIXATIONMAPS/)")
    items = []
    for stimulus in sorted(p for p in stimuli.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
        maps = root / "ALLFIXATIONMAPS"
        saliency_map, points = maps / f"{stimulus.stem}_fixMap.jpg", maps / f"{stimulus.stem}_fixPts.jpg"
        for needed, what in ((saliency_map, "fixation map"), (points, "fixation points")):
            if not needed.is_file():
                raise DataError(f"{stimulus}: its {what} {needed} is missing")
        items.append(SaliencyItem("MIT1003", stimulus, saliency_map, points, "fixPts"))
    return items


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


class DecodeOnceDataset(Dataset):
    """A dataset that decodes and resizes each item's files once.

    The first access to an item calls :meth:`decode`; its uint8 arrays are written to ``cache_dir``
    under a key made of the item's source files (path, size, modification time) and
    :meth:`cache_settings` (the target sizes), so every later epoch — and every later run — reads a
    small array instead, and a changed file or size is decoded again. ``cache_dir=None`` decodes
    every time. Subclasses define ``sources``, ``decode``, ``cache_settings`` and ``to_tensors``.
    """

    namespace = "items"

    def __init__(self, items: Sequence, cache_dir: str | Path | None = "default"):
        self.items = list(items)
        self.cache_dir = paths.cache_dir() / self.namespace if cache_dir == "default" else (
            Path(cache_dir) if cache_dir is not None else None)

    def __len__(self) -> int:
        return len(self.items)

    def sources(self, index: int) -> tuple[Path, ...]:
        raise NotImplementedError

    def cache_settings(self) -> tuple:
        raise NotImplementedError

    def decode(self, index: int) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def to_tensors(self, arrays: dict[str, np.ndarray]):
        raise NotImplementedError

    def cache_path(self, index: int) -> Path:
        key = repr([CACHE_VERSION, self.namespace, _fingerprint(*self.sources(index)), self.cache_settings()])
        digest = hashlib.sha1(key.encode()).hexdigest()
        return self.cache_dir / digest[:2] / f"{digest}.npz"

    def load(self, index: int) -> dict[str, np.ndarray]:
        """The uint8 arrays of one item, from the cache when it holds them."""
        if self.cache_dir is None:
            return self.decode(index)
        path = self.cache_path(index)
        try:
            with np.load(path) as cached:
                return {name: cached[name] for name in cached.files}
        except (FileNotFoundError, OSError, ValueError, KeyError):
            pass  # missing or damaged: decode again
        arrays = self.decode(index)
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as handle:
                np.savez(handle, **arrays)
        return arrays

    def __getitem__(self, index: int):
        return self.to_tensors(self.load(index))


class SaliencyDataset(DecodeOnceDataset):
    """``(image (3, H, W), map (1, h, w))`` pairs in [-1, 1] for training, decoded once (see
    :class:`DecodeOnceDataset`)."""

    namespace = "saliency"

    def __init__(self, items: Sequence[SaliencyItem], image_size: tuple[int, int] = (240, 320),
                 map_size: tuple[int, int] = (236, 316), cache_dir: str | Path | None = "default"):
        super().__init__(items, cache_dir)
        self.image_size = tuple(image_size)
        self.map_size = tuple(map_size)

    def sources(self, index: int) -> tuple[Path, ...]:
        return self.items[index].stimulus, self.items[index].saliency_map

    def cache_settings(self) -> tuple:
        return self.image_size, self.map_size

    def decode(self, index: int) -> dict[str, np.ndarray]:
        """Read and resize one item from its files: uint8 ``(H, W, 3)`` image and ``(h, w)`` map."""
        item = self.items[index]
        (h, w), (mh, mw) = self.image_size, self.map_size
        saliency_map = load_gray(item.saliency_map, draft_size=(mw, mh))
        image = load_rgb(item.stimulus, expected_size=saliency_map.size, draft_size=(w, h))
        image = image.resize((w, h), Image.Resampling.BILINEAR, reducing_gap=None)
        saliency_map = saliency_map.resize((mw, mh), Image.Resampling.BILINEAR)
        return {"image": np.array(image), "map": np.array(saliency_map)}

    def to_tensors(self, arrays):
        return to_signed(arrays["image"]), to_signed(arrays["map"])


# ---------------------------------------------------------------------------------------------
# Choosing a data set and making loaders
# ---------------------------------------------------------------------------------------------

SALIENCY_DATASETS = ("auto", "cat2000", "salicon", "mit1003", "sample")


def _saliency_dataset_present(name: str, root: Path) -> bool:
    return {"cat2000": (root / "trainSet" / "Stimuli").is_dir() or (root / "Stimuli").is_dir(),
            "salicon": (root / "images").is_dir(), "mit1003": (root / "ALLSTIMULI").is_dir()}[name]


def resolve_saliency_dataset(dataset: str = "auto", data_dir: str | Path = "") -> tuple[str, Path]:
    """``(name, root)`` of the saliency data set to use.

    ``"cat2000"``, ``"salicon"`` and ``"mit1003"`` are the real data under ``data_dir`` (default
    ``data/<name>``); ``"sample"`` the generated sample (made on first use); ``"auto"`` the first real
    data set that is there (CAT2000, SALICON, MIT1003), else the sample.
    """
    from .samples import ensure_saliency_sample

    if dataset not in SALIENCY_DATASETS:
        raise ValueError(f"DATASET must be one of {SALIENCY_DATASETS}, got {dataset!r}")
    if dataset == "auto":
        present = [name for name in SALIENCY_DATASETS[1:-1]
                   if _saliency_dataset_present(name, Path(data_dir) if data_dir else paths.data_dir() / name)]
        dataset = present[0] if present else "sample"
    if dataset == "sample":
        return "sample", ensure_saliency_sample(Path(data_dir) if data_dir else None)
    root = Path(data_dir) if data_dir else paths.data_dir() / dataset
    if not _saliency_dataset_present(dataset, root):
        raise DataError(f"{root}: {dataset} is not there; download it with "
                        f"`python -m helpers.data download {dataset}` or set DATASET='sample'")
    return dataset, cat2000_root(root).parent if dataset == "cat2000" else root


def saliency_splits(dataset: str, root: str | Path, WholeDataset: bool | int = True,
                    seed: int = 0) -> tuple[list[SaliencyItem], list[SaliencyItem]]:
    """``(train, validation)`` items: CAT2000, MIT1003 and the sample split 85 % / 15 % per category
    (:func:`dirs_loader`); SALICON keeps its official train and val sets (a number for
    ``WholeDataset`` keeps that many training images and 15 % as many validation images)."""
    if dataset == "salicon" and not (Path(root) / "images" / "train").is_dir():
        return split_per_category(find_salicon(root, ""), WholeDataset, seed=seed)  # one flat folder
    if dataset == "salicon":
        val_count = WholeDataset if WholeDataset is True else max(1, round(0.15 * int(WholeDataset)))
        train = select_subset(find_salicon(root, "train"), WholeDataset, seed).get("SALICON", [])
        val = select_subset(find_salicon(root, "val"), val_count, seed).get("SALICON", [])
        return sorted(train, key=_item_key), sorted(val, key=_item_key)
    if dataset == "mit1003":
        return split_per_category(find_mit1003(root), WholeDataset, seed=seed)
    return dirs_loader(root, WholeDataset, seed=seed)


def make_loader(dataset: Dataset, batch_size: int, shuffle: bool = False, seed: int = 0,
                num_workers: int = 0) -> torch.utils.data.DataLoader:
    """A DataLoader whose shuffling comes from its own seeded generator (re-seeded per epoch by
    :func:`helpers.training.fit`, which makes resumed runs exact)."""
    generator = torch.Generator().manual_seed(seed) if shuffle else None
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=shuffle,
                                       generator=generator, num_workers=num_workers,
                                       pin_memory=torch.cuda.is_available(),
                                       persistent_workers=num_workers > 0)


# ---------------------------------------------------------------------------------------------
# Part 2: images for inverting AlexNet (Tiny-ImageNet's layout, or a plain ImageFolder)
# ---------------------------------------------------------------------------------------------

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: The original code's choice: 20 of Tiny-ImageNet's 200 classes, drawn with seed 476.
TINY_IMAGENET_CLASSES, TINY_IMAGENET_CLASS_SEED = 20, 476


@dataclass(frozen=True)
class ImageItem:
    """One image of a classification data set, as a path."""

    category: str
    path: Path


def tiny_imagenet_root(root: str | Path) -> Path:
    """The ``tiny-imagenet-200`` folder, given it or the folder that holds it."""
    root = Path(root)
    for candidate in (root, root / "tiny-imagenet-200"):
        if (candidate / "wnids.txt").is_file():
            return candidate
    raise DataError(f"{root}: not a Tiny-ImageNet folder (expected wnids.txt, train/<wnid>/images/*.JPEG, "
                    "val/images and val/val_annotations.txt)")


def choose_classes(wnids: Sequence[str], count: int | None = TINY_IMAGENET_CLASSES,
                   seed: int = TINY_IMAGENET_CLASS_SEED) -> list[str]:
    """``count`` classes drawn with ``seed`` (all of them when ``count`` is None or too large), sorted."""
    wnids = sorted(wnids)
    if count is None or count >= len(wnids):
        return wnids
    return sorted(random.Random(seed).sample(wnids, count))


def find_tiny_imagenet(root: str | Path, classes: int | None = TINY_IMAGENET_CLASSES,
                       class_seed: int = TINY_IMAGENET_CLASS_SEED) -> tuple[list[ImageItem], list[ImageItem]]:
    """``(train, val)`` items of Tiny-ImageNet, restricted to the chosen classes."""
    base = tiny_imagenet_root(root)
    wnids = [line.strip() for line in (base / "wnids.txt").read_text().splitlines() if line.strip()]
    chosen = choose_classes(wnids, classes, class_seed)
    train = []
    for wnid in chosen:
        folder = base / "train" / wnid / "images"
        if not folder.is_dir():
            raise DataError(f"{folder}: missing (class {wnid} is listed in wnids.txt)")
        train += [ImageItem(wnid, p) for p in sorted(folder.glob("*.JPEG"))]
    annotations = base / "val" / "val_annotations.txt"
    if not annotations.is_file():
        raise DataError(f"{annotations}: missing")
    val = []
    for number, line in enumerate(annotations.read_text().splitlines(), start=1):
        fields = line.split("\t")
        if len(fields) < 2:
            if line.strip():
                raise DataError(f"{annotations}, line {number}: expected 'file<TAB>wnid<TAB>box', got {line!r}")
            continue
        if fields[1] in chosen:
            val.append(ImageItem(fields[1], base / "val" / "images" / fields[0]))
    return train, val


def find_image_folder(root: str | Path) -> tuple[list[ImageItem], list[ImageItem]]:
    """``(train, val)`` items of a plain ImageFolder layout (ImageNet): ``train/<class>/*`` and
    ``val/<class>/*``."""
    root = Path(root)
    splits = []
    for split in ("train", "val"):
        folder = root / split
        if not folder.is_dir():
            raise DataError(f"{folder}: missing (expected {root}/train/<class>/*.JPEG and {root}/val/<class>/*.JPEG)")
        splits.append([ImageItem(c.name, p) for c in sorted(folder.iterdir()) if c.is_dir()
                       for p in sorted(c.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES])
    return splits[0], splits[1]


def limit_items(items: Sequence[ImageItem], WholeDataset: bool | int = True, seed: int = 0) -> list[ImageItem]:
    """All items, or ``WholeDataset`` of them spread evenly over the classes (deterministic)."""
    groups = select_subset(items, WholeDataset, seed)
    return sorted((i for group in groups.values() for i in group), key=lambda i: (i.category, i.path.name))


def _imagenet_stats(like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    as_channels = dict(dtype=like.dtype, device=like.device)
    return (torch.tensor(IMAGENET_MEAN, **as_channels).view(3, 1, 1),
            torch.tensor(IMAGENET_STD, **as_channels).view(3, 1, 1))


def normalise_imagenet(image: torch.Tensor) -> torch.Tensor:
    """``(…, 3, H, W)`` in [0, 1] → normalised with the ImageNet mean and std."""
    mean, std = _imagenet_stats(image)
    return (image - mean) / std


def denormalise_imagenet(image: torch.Tensor) -> torch.Tensor:
    """The inverse of :func:`normalise_imagenet`, clipped to [0, 1]."""
    mean, std = _imagenet_stats(image)
    return (image * std + mean).clamp(0, 1)


class InversionDataset(DecodeOnceDataset):
    """``(image, image)``: the AlexNet input ``(3, S, S)`` normalised with the ImageNet statistics,
    and the same tensor as the reconstruction target. Decoded once (see :class:`DecodeOnceDataset`)."""

    namespace = "inversion"

    def __init__(self, items: Sequence[ImageItem], image_size: int = 227, cache_dir: str | Path | None = "default"):
        super().__init__(items, cache_dir)
        self.image_size = int(image_size)

    def sources(self, index: int) -> tuple[Path, ...]:
        return (self.items[index].path,)

    def cache_settings(self) -> tuple:
        return (self.image_size,)

    def decode(self, index: int) -> dict[str, np.ndarray]:
        size = self.image_size
        image = load_rgb(self.items[index].path, draft_size=(size, size))
        return {"image": np.array(image.resize((size, size), Image.Resampling.BILINEAR))}

    def to_tensors(self, arrays):
        image = normalise_imagenet(torch.from_numpy(arrays["image"]).permute(2, 0, 1).float().div_(255))
        return image, image


INVERSION_DATASETS = ("auto", "tiny-imagenet", "imagenet", "sample")


def resolve_inversion_dataset(dataset: str = "auto", data_dir: str | Path = "", WholeDataset: bool | int = True,
                              seed: int = 0) -> tuple[str, Path, list[ImageItem], list[ImageItem]]:
    """``(name, root, train, val)`` for Part 2.

    ``"tiny-imagenet"`` (default folder ``data/tiny-imagenet-200``, the original code's 20 classes),
    ``"imagenet"`` (an ImageFolder with ``train/`` and ``val/``, default ``data/imagenet``),
    ``"sample"`` (crops of photographs shipped in packages, in Tiny-ImageNet's layout) or ``"auto"``:
    Tiny-ImageNet when it is there, else the sample. A number for ``WholeDataset`` keeps that many
    training images and a fifth as many test images, spread evenly over the classes.
    """
    from .samples import ensure_inversion_sample

    if dataset not in INVERSION_DATASETS:
        raise ValueError(f"DATASET must be one of {INVERSION_DATASETS}, got {dataset!r}")
    if dataset == "auto":
        real = Path(data_dir) if data_dir else paths.data_dir()
        dataset = "tiny-imagenet" if ((real / "tiny-imagenet-200" / "wnids.txt").is_file()
                                      or (real / "wnids.txt").is_file()) else "sample"
    if dataset == "tiny-imagenet":
        root = Path(data_dir) if data_dir else paths.data_dir()
        try:
            train, val = find_tiny_imagenet(root)
        except DataError as error:
            raise DataError(f"{error}\nDownload it with `python -m helpers.data download tiny-imagenet` "
                            "or set DATASET='sample'") from None
    elif dataset == "imagenet":
        root = Path(data_dir) if data_dir else paths.data_dir() / "imagenet"
        train, val = find_image_folder(root)
    else:
        root = ensure_inversion_sample(Path(data_dir) if data_dir else None)
        train, val = find_tiny_imagenet(root)
    val_count = WholeDataset if WholeDataset is True else max(1, int(WholeDataset) // 5)
    return dataset, root, limit_items(train, WholeDataset, seed), limit_items(val, val_count, seed)


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers.data download NAME [--data-dir DIR]``."""
    import argparse

    from .downloads import DATASETS, DownloadError, download

    parser = argparse.ArgumentParser(prog="python -m helpers.data", description="Download the real data sets.")
    commands = parser.add_subparsers(dest="command", required=True)
    fetch = commands.add_parser("download", help="download, verify and extract a data set")
    fetch.add_argument("name", choices=sorted(DATASETS))
    fetch.add_argument("--data-dir", type=Path, default=None, help="default: data/ (or $SALIENCY_DATA_DIR)")
    args = parser.parse_args(argv)
    try:
        download(args.name, args.data_dir)
    except DownloadError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
