"""Every file of a run's splits, checked before the first training step (a file found broken after an
epoch costs the epoch): headers for the training files, held-out files decoded whole; an error names the
file; ``benchmarks/data_check.py`` times it.
"""
from __future__ import annotations

import warnings
from typing import Sequence

from PIL import Image, UnidentifiedImageError

from ..progress import tqdm
from .image_layouts import ImageItem
from .readers import DataError, check_same_frame, format_named, image_errors
from .saliency_layouts import SaliencyItem


def _fixations_checked(item: SaliencyItem, read: bool) -> str:
    """Check ``item``'s fixation file: from its headers alone where the format allows (CAT2000's
    ``fixLocs``: the variable, 2-D, the stimulus' frame), or — when ``read``, and for the other formats —
    by reading it. Returns why the fixations score nothing ("" when they are usable); errors name the file."""
    kind = format_named(item.fixation_format)
    if kind.header_shape is not None and not read:
        check_same_frame(item.stimulus, item.fixations, "fixation locations", kind.header_shape(item.fixations)[::-1])
        return ""
    problem = kind.problem(item.fixations) if kind.problem is not None else ""
    if problem:
        return problem
    fixations = kind.read(item.fixations)
    check_same_frame(item.stimulus, item.fixations, "fixation locations", fixations.shape[::-1])
    return "" if fixations.any() else f"{item.fixations}: no fixation at all (the image scores NaN and is left out)"


def decodes(path) -> None:
    """Decode ``path`` whole — at an eighth of its size where the JPEG decoder can, which still reads
    every byte — so a truncated or damaged file is found now, not in the first validation an epoch
    later; a :class:`DataError` names it."""
    with image_errors(path, "cannot be decoded"), Image.open(path) as image:
        if image.format == "JPEG":
            image.draft(image.mode, (max(1, image.width // 8), max(1, image.height // 8)))
        image.load()


def _report(problems: list[str], checked: int, what: str) -> None:
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise DataError(f"{len(problems)} of {checked} {what} cannot be used, found before training: "
                        f"{problems[0]}{more}")


def check_saliency_items(train_items: Sequence[SaliencyItem], held_out_items: Sequence[SaliencyItem],
                         progress: bool = True) -> None:
    """Check every stimulus, fixation map and fixation file of both splits cheaply (image headers;
    MATLAB headers for the training images' ``fixLocs``, read whole for the held-out images, which
    are scored every epoch); raise a :class:`DataError` naming the first bad file, and warn about
    held-out fixation files that mark nothing."""
    problems, items = [], [(item, False) for item in train_items] + [(item, True) for item in held_out_items]
    for item, held_out in tqdm(items, desc="checking the data", disable=not progress or len(items) < 200,
                               leave=False):
        try:
            check_same_frame(item.stimulus, item.saliency_map, "fixation map")
            note = _fixations_checked(item, read=held_out)
            if held_out:  # validated or scored: decoded whole now, so a damaged file costs no epoch
                decodes(item.stimulus)
                decodes(item.saliency_map)
        except DataError as error:
            problems.append(str(error))
            continue
        if note:
            warnings.warn(note, stacklevel=2)
    _report(problems, len(items), "saliency items")


def check_image_items(items: Sequence[ImageItem], held_out_items: Sequence[ImageItem] = (),
                      progress: bool = True) -> None:
    """Open every image's header (its kind and size), and decode each held-out image whole (they are
    scored every epoch); a file that is not a usable image is an error naming it."""
    problems, checked = [], [(item, False) for item in items] + [(item, True) for item in held_out_items]
    for item, held_out in tqdm(checked, desc="checking the data", disable=not progress or len(checked) < 200,
                               leave=False):
        try:
            with Image.open(item.path) as image:
                if image.width < 1 or image.height < 1:
                    problems.append(f"{item.path}: an empty image")
            if held_out:
                decodes(item.path)
        except (FileNotFoundError, UnidentifiedImageError, OSError) as error:
            problems.append(f"{item.path}: not a readable image ({error})")
        except DataError as error:
            problems.append(str(error))
    _report(problems, len(checked), "images")
