"""``WholeDataset``: how much of a data set a run uses, and the split into training and held-out images.

This is the one place that defines it, for every notebook and every data set:

* ``WholeDataset = True`` — every image: the whole training set and the whole held-out set.
* ``WholeDataset = N`` — **N images in all**, training and held-out together, spread evenly over
  the categories (one from each in turn), chosen with the run's seed. Of them, a share of
  :data:`HELD_OUT_FRACTION` (15 %) is held out:

  - data sets without an official held-out set (CAT2000, MIT1003, the saliency sample) hold out
    15 % of the chosen images *inside each category* (the assignment's ``dirs_loader``);
  - data sets with one (SALICON's val, Tiny-ImageNet's val, ImageNet's val, the inversion sample)
    take ``round(0.15 N)`` (at least 1) held-out images from it and the other images from the
    training set.

The held-out images are what notebook 01 validates on and notebook 02 scores, and what notebooks
03–06 test on and notebook 07 compares: those notebooks read ``WholeDataset`` and the seed from the
trained model, so they always score the images that model never trained on.
"""
from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ..identity import digest
from .readers import DataError

#: The share of a run's images that is held out (the assignment's 85 % / 15 % split).
HELD_OUT_FRACTION = 0.15


def check_whole_dataset(WholeDataset) -> bool | int:
    """``WholeDataset`` itself when it is ``True`` or a positive whole number, else a clear error."""
    if WholeDataset is True:
        return True
    if isinstance(WholeDataset, bool) or not isinstance(WholeDataset, (int, np.integer)) or WholeDataset < 1:
        raise ValueError(f"WholeDataset must be True or a positive number of images, got {WholeDataset!r}")
    return int(WholeDataset)


def _key(item) -> tuple:
    return item.category, getattr(item, "stimulus", getattr(item, "path", None)).name


def select_subset(items: Sequence, WholeDataset: bool | int = True, seed: int = 0) -> dict[str, list]:
    """Items grouped by category; ``WholeDataset`` a number keeps that many, spread evenly over categories."""
    WholeDataset = check_whole_dataset(WholeDataset)
    by_category: dict[str, list] = {}
    for item in items:
        by_category.setdefault(item.category, []).append(item)
    rng = random.Random(seed)
    for name in sorted(by_category):
        rng.shuffle(by_category[name])
    if WholeDataset is True:
        return by_category
    names = sorted(by_category)
    quota = {name: 0 for name in names}
    remaining = min(WholeDataset, len(items))
    while remaining:  # deal one image per category in turn, skipping exhausted categories
        for name in names:
            if remaining and quota[name] < len(by_category[name]):
                quota[name] += 1
                remaining -= 1
    return {name: by_category[name][:quota[name]] for name in names if quota[name]}


def spread(items: Sequence, count: bool | int = True, seed: int = 0) -> list:
    """All items, or ``count`` of them spread evenly over the categories, sorted (deterministic)."""
    return sorted((i for group in select_subset(items, count, seed).values() for i in group), key=_key)


def split_per_category(items: Sequence, WholeDataset: bool | int = True, seed: int = 0) -> tuple[list, list]:
    """``(training, held_out)`` of a data set without an official held-out set: ``WholeDataset``
    images, then :data:`HELD_OUT_FRACTION` of each category held out (at least one where a category
    has two or more images)."""
    train, held_out = [], []
    for group in select_subset(items, WholeDataset, seed).values():
        n_held = max(1, round(len(group) * HELD_OUT_FRACTION)) if len(group) >= 2 else 0
        held_out.extend(sorted(group[:n_held], key=_key))
        train.extend(sorted(group[n_held:], key=_key))
    return train, held_out


def split_official(train_items: Sequence, held_out_items: Sequence, WholeDataset: bool | int = True,
                   seed: int = 0) -> tuple[list, list]:
    """``(training, held_out)`` of a data set with an official held-out set: everything, or
    ``WholeDataset`` images of which ``round(0.15 N)`` (at least 1) come from the held-out set."""
    WholeDataset = check_whole_dataset(WholeDataset)
    if WholeDataset is True:
        return spread(train_items, True, seed), spread(held_out_items, True, seed)
    n_held = max(1, round(WholeDataset * HELD_OUT_FRACTION))
    return (spread(train_items, max(1, WholeDataset - n_held), seed), spread(held_out_items, n_held, seed))


@dataclass
class RunData:
    """The data of one run: the data set's name and folder, and its split into training and held-out
    items (held out: Part 1's validation, Part 2's test images)."""

    name: str
    root: Path
    train_items: list
    held_out_items: list

    def fingerprint(self) -> dict:
        """``{"digest", "images"}``: the digest of every file of both splits (path relative to the data
        set's folder, and size) and the number of items in each. Where the folder is is not part of it."""
        root = Path(self.root).resolve()
        splits = {"train": self.train_items, "held_out": self.held_out_items}
        listing = {split: sorted([_relative(file, root), os.stat(file).st_size] for item in items for file in _files(item))
                   for split, items in splits.items()}
        return {"digest": digest(listing, 12), "images": {split: len(items) for split, items in splits.items()}}

    def check_not_empty(self, WholeDataset) -> None:
        """An empty split stops the run, naming the folder and ``WholeDataset``."""
        for split, items in (("training", self.train_items), ("held-out", self.held_out_items)):
            if not items:
                raise DataError(f"{self.root}: no {split} images with WholeDataset = {WholeDataset!r}; give "
                                "WholeDataset a larger number (15 % of it is held out, at least one image per "
                                "category), or check the folder")


def _files(item) -> Iterable[Path]:
    for name in ("stimulus", "saliency_map", "fixations", "path"):
        value = getattr(item, name, None)
        if isinstance(value, Path):
            yield value


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:  # a file outside the data folder: its full path is what identifies it
        return path.resolve().as_posix()


