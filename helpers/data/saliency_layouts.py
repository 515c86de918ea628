"""The three saliency data sets on disk: CAT2000 (``trainSet/{Stimuli,FIXATIONMAPS,FIXATIONLOCS}/<Category>/``,
fixations in ``fixLocs``), SALICON (``images|maps|fixations/<train|val>/``) and MIT1003 (``ALLSTIMULI/``,
``ALLFIXATIONMAPS/``).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .readers import DataError, listed
from .subsets import split_per_category

SKIPPED_FOLDERS = {"Output"}


@dataclass(frozen=True)
class SaliencyItem:
    """One stimulus with its ground truth, as paths."""

    category: str
    stimulus: Path
    saliency_map: Path
    fixations: Path
    #: how ``fixations`` stores them: one of :data:`helpers.data.readers.FIXATION_FORMATS`
    fixation_format: str = "fixLocs"


def _require(stimulus: Path, needed: tuple[tuple[Path, str], ...]) -> None:
    for path, what in needed:
        if not path.is_file():
            raise DataError(f"{stimulus}: its {what} {path} is missing")


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
    categories = [p for p in listed(base / "Stimuli", folders=True) if p.name not in SKIPPED_FOLDERS]
    if not categories:
        raise DataError(f"{base / 'Stimuli'}: no category folders")
    for category in categories:
        for stimulus in listed(category):
            saliency_map = base / "FIXATIONMAPS" / category.name / stimulus.name
            fixations = base / "FIXATIONLOCS" / category.name / f"{stimulus.stem}.mat"
            _require(stimulus, ((saliency_map, "fixation map"), (fixations, "fixation locations")))
            items.append(SaliencyItem(category.name, stimulus, saliency_map, fixations))
    return items


def dirs_loader(root: str | Path, WholeDataset: bool | int = True,
                seed: int = 0) -> tuple[list[SaliencyItem], list[SaliencyItem]]:
    """The assignment's loader: CAT2000's ``(train, validation)`` items, 85 % / 15 % inside each
    category, of all images or ``WholeDataset`` of them (:mod:`helpers.data.subsets`)."""
    return split_per_category(find_cat2000(root), WholeDataset, seed)


def find_salicon(root: str | Path, split: str) -> list[SaliencyItem]:
    """SALICON items of ``split`` ("train" or "val"): ``images/<split>/*.jpg``, ``maps/<split>/*.png``,
    ``fixations/<split>/*.mat``; ``split=""`` for one flat ``images/``, ``maps/``, ``fixations/``."""
    root = Path(root)
    images = root / "images" / split
    if not images.is_dir():
        raise DataError(f"{root}: not a SALICON folder (expected images/, maps/ and fixations/; "
                        "see `python -m helpers.downloads salicon`)")
    items = []
    for stimulus in listed(images, {".jpg"}):
        saliency_map = root / "maps" / split / f"{stimulus.stem}.png"
        fixations = root / "fixations" / split / f"{stimulus.stem}.mat"
        _require(stimulus, ((saliency_map, "saliency map"), (fixations, "fixations")))
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
    maps = root / "ALLFIXATIONMAPS"
    for stimulus in listed(stimuli):
        saliency_map, points = maps / f"{stimulus.stem}_fixMap.jpg", maps / f"{stimulus.stem}_fixPts.jpg"
        _require(stimulus, ((saliency_map, "fixation map"), (points, "fixation points")))
        items.append(SaliencyItem("MIT1003", stimulus, saliency_map, points, "fixPts"))
    return items
