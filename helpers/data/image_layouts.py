"""Part 2's image data sets on disk: Tiny-ImageNet (``wnids.txt``, ``train/<wnid>/images``, ``val`` with
``val_annotations.txt``; the original code's 20 classes drawn with seed 476) and ImageNet class folders.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from .readers import DataError, listed

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
        train += [ImageItem(wnid, p) for p in listed(folder, {".jpeg"})]
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
        splits.append([ImageItem(c.name, p) for c in listed(folder, folders=True) for p in listed(c)])
    return splits[0], splits[1]
