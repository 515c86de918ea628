"""One stimulus' ground truth as the metrics read it, at the stimulus' resolution — and, for the
generated sample, the answer it keeps beside the displays (the density the fixations were drawn
from, which pixels are the singleton's): found from the sample's own ``sample.json`` and ``truth/``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from .. import metrics, samples
from .readers import check_same_frame, format_named, load_gray
from .saliency_layouts import SaliencyItem


@dataclass
class GroundTruth:
    """One stimulus' ground truth at its original resolution."""

    fixations: np.ndarray   # (H, W) bool
    density: np.ndarray     # (H, W) float64, the continuous fixation map
    known_density: np.ndarray | None = None   # the sample's: the density the fixations were drawn from
    labels: np.ndarray | None = None          # the sample's: 1 on the singleton, 2 on the distractors
    items: list | None = None                 # the sample's: every item's (x, y, radius), singleton first
    observers: list | None = None             # one binary map per observer, where the data keep them


def _sample_root(stimulus: Path) -> Path | None:
    for folder in list(stimulus.parents)[:4]:
        if (folder / "sample.json").is_file() and (folder / samples.TRUTH_DIR).is_dir():
            return folder
    return None


@lru_cache(maxsize=8)
def _sample_items(root: Path) -> dict:
    return json.loads((root / "sample.json").read_text())["items"]


def _sample_truth(item: SaliencyItem) -> dict:
    """The generated sample's known density, item labels and items for ``item`` (empty elsewhere)."""
    root = _sample_root(item.stimulus)
    if root is None:
        return {}
    items = _sample_items(root)
    for key in (f"{item.category}/{item.stimulus.stem}", item.stimulus.stem):
        if key in items:
            stem = root / samples.TRUTH_DIR / key.replace("/", "_")
            density = np.asarray(Image.open(f"{stem}_density.png"), dtype=np.float64)
            return {"known_density": density / density.sum(), "items": items[key],
                    "labels": np.asarray(Image.open(f"{stem}_items.png"))}
    return {}


def load_ground_truth(item: SaliencyItem) -> GroundTruth:
    """Fixations and density of one stimulus (and, where the data have them, the sample's truth and
    each observer's fixations); either of another frame than the stimulus (another aspect ratio, or
    transposed) is a :class:`helpers.data.DataError` naming the files."""
    kind = format_named(item.fixation_format)
    fixations = kind.read(item.fixations)
    check_same_frame(item.stimulus, item.fixations, "fixation locations", fixations.shape[::-1])
    density = np.asarray(load_gray(item.saliency_map), dtype=np.float64)
    check_same_frame(item.stimulus, item.saliency_map, "fixation map", density.shape[::-1])
    if density.shape != fixations.shape:
        density = metrics.imresize(density, fixations.shape)
    observers = kind.observers(item.fixations) if kind.observers is not None else None
    return GroundTruth(fixations, density, observers=observers if observers and len(observers) > 1 else None,
                       **_sample_truth(item))


