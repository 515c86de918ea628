"""Every file of a run's splits, checked before the first training step.

A damaged or mismatched file found after an epoch costs that epoch; found before, it costs seconds.
:func:`check_saliency_items` opens each stimulus' and fixation map's image header (no decoding: the
kind and the size), reads each fixation file (CAT2000's ``fixLocs`` variable, SALICON's ``gaze``
struct, MIT1003's points) and checks that all three show the same frame; :func:`check_image_items`
opens each image's header. A file that cannot be used is an error naming it (and how many others
there are); an all-zero or NaN fixation file is a warning naming it — the image scores nothing.
``benchmarks/data_check.py`` times the check on 2,000 CAT2000-sized items.
"""
from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
from PIL import Image, UnidentifiedImageError
from tqdm.auto import tqdm

from .image_layouts import ImageItem
from .readers import DataError, check_same_frame, load_fixations, load_mat
from .saliency_layouts import SaliencyItem


def _fixation_warning(item: SaliencyItem) -> str:
    """Why ``item``'s fixations score nothing ("" when they are usable); errors name the file."""
    if item.fixation_format == "fixLocs":
        raw = load_mat(item.fixations).get("fixLocs")
        if raw is not None and np.issubdtype(np.asarray(raw).dtype, np.floating) and np.isnan(raw).any():
            return f"{item.fixations}: its fixLocs holds NaN values (counted as not fixated)"
    fixations = load_fixations(item.fixations, fixation_format=item.fixation_format)
    check_same_frame(item.stimulus, item.fixations, "fixation locations", fixations.shape[::-1])
    return "" if fixations.any() else f"{item.fixations}: no fixation at all (the image scores NaN and is left out)"


def _report(problems: list[str], checked: int, what: str) -> None:
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise DataError(f"{len(problems)} of {checked} {what} cannot be used, found before training: "
                        f"{problems[0]}{more}")


def check_saliency_items(items: Sequence[SaliencyItem], progress: bool = True) -> None:
    """Open every stimulus, fixation map and fixation file of ``items`` cheaply; raise a
    :class:`DataError` naming the first bad file, warn about fixation files that mark nothing."""
    problems = []
    for item in tqdm(items, desc="checking the data", disable=not progress or len(items) < 200, leave=False):
        try:
            check_same_frame(item.stimulus, item.saliency_map, "fixation map")
            note = _fixation_warning(item)
        except DataError as error:
            problems.append(str(error))
            continue
        if note:
            warnings.warn(note, stacklevel=2)
    _report(problems, len(items), "saliency items")


def check_image_items(items: Sequence[ImageItem], progress: bool = True) -> None:
    """Open every image's header (its kind and size, no decoding); a file that is not an image is an
    error naming it."""
    problems = []
    for item in tqdm(items, desc="checking the data", disable=not progress or len(items) < 200, leave=False):
        try:
            with Image.open(item.path) as image:
                if image.width < 1 or image.height < 1:
                    problems.append(f"{item.path}: an empty image")
        except (FileNotFoundError, UnidentifiedImageError, OSError) as error:
            problems.append(f"{item.path}: not a readable image ({error})")
    _report(problems, len(items), "images")
