"""``WholeDataset`` and the split, defined once for every notebook and data set: ``True`` is every image, N is
N images spread over the categories; 15 % is held out as the test set (inside each category, or from the
official held-out set), and Part 1 keeps another 15 % for validation: 70 / 15 / 15.
"""
from __future__ import annotations

import os
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from ..identity import digest
from .fingerprints import item_files, relative_name, split_files
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


def split_validation(train_items: Sequence, test_items: Sequence, seed: int = 0) -> tuple[list, list]:
    """``(training, validation)``: the training items of a split, less a validation set that is
    :data:`HELD_OUT_FRACTION` of each category's images (training and test counted together, so it is
    as large as the test set where that is 15 % per category; at least one, and one training image
    is always left), chosen with another draw of ``seed`` than the test set's."""
    test_count = Counter(item.category for item in test_items)
    train, validation = [], []
    for category, group in select_subset(train_items, True, seed + 1).items():
        whole = len(group) + test_count[category]
        n_validation = min(len(group) - 1, max(1, round(whole * HELD_OUT_FRACTION))) if len(group) >= 2 else 0
        validation.extend(sorted(group[:n_validation], key=_key))
        train.extend(sorted(group[n_validation:], key=_key))
    return train, validation


@dataclass
class RunData:
    """The data of one run: the data set's name and folder, and its split into training, held-out
    (test) and — Part 1 only — validation items."""

    name: str
    root: Path
    train_items: list
    held_out_items: list
    validation_items: list = field(default_factory=list)
    #: The splits a run of this kind has: Part 2's decoders choose nothing, so they have no validation set.
    SPLITS = ("train", "held_out")

    def fingerprint(self) -> dict:
        """``{"digest", "images"}``: the digest of every file of both splits (path relative to the data
        set's folder, and size) and the number of items in each. Where the folder is is not part of it."""
        root = Path(self.root).resolve()
        splits = self.splits()
        listing = {split: sorted([relative_name(file, root), os.stat(file).st_size] for item in items
                                 for file in item_files(item)) for split, items in splits.items()}
        return {"digest": digest(listing, 12), "images": {split: len(items) for split, items in splits.items()}}

    def split_files(self, progress: bool = False) -> dict[str, dict[str, str]]:
        """Every file of every split by its path relative to the folder and its content digest
        (:func:`helpers.data.fingerprints.split_files`): what a checkpoint stores, and what resuming,
        loading and scoring the model check the folder against."""
        return split_files(self.root, self.splits(), progress)

    def splits(self) -> dict[str, list]:
        """The run's splits by name (:attr:`SPLITS`) and their items."""
        return {split: getattr(self, f"{split}_items") for split in self.SPLITS}

    def check_not_empty(self, WholeDataset) -> None:
        """An empty split stops the run, naming the folder and ``WholeDataset``."""
        for split, items in self.splits().items():
            split = {"train": "training", "held_out": "held-out"}.get(split, split)
            if not items:
                raise DataError(f"{self.root}: no {split} images with WholeDataset = {WholeDataset!r}; give "
                                "WholeDataset a larger number (15 % of it is held out for testing, and in Part 1 as "
                                "much again for validation, at least one image per category), or check the folder")
