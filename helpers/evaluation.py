"""Scoring saliency maps the way the MIT benchmark does: ground truth at the stimulus' resolution.

Predictions, the centre-bias baseline and chance are each resized once to the fixation map's size
(MATLAB's ``imresize``) and then scored with every metric of :mod:`helpers.metrics`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from . import metrics
from .data import SaliencyDataset, SaliencyItem, load_fixations, load_gray, make_loader
from .models import SaliencyNet
from .training import predict

MODELS = ("SalNet (half)", "centre bias", "chance")


def load_saliency_model(checkpoint: str | Path, device: torch.device | str = "cpu") -> tuple[SaliencyNet, dict]:
    """The network trained by notebook 01 and the settings it was trained with (``metadata``)."""
    checkpoint = Path(checkpoint)
    if not checkpoint.is_file():
        raise FileNotFoundError(f"{checkpoint}: no trained saliency network; run notebook "
                                "01_saliency_model.ipynb first (with the same DATASET)")
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    model = SaliencyNet(ceil_mode=state["metadata"].get("ceil_mode", False))
    model.load_state_dict(state["model"])
    return model.to(device).eval(), {**state["metadata"], "epochs_trained": state["epoch"]}


@dataclass
class GroundTruth:
    """One stimulus' ground truth at its original resolution."""

    fixations: np.ndarray   # (H, W) bool
    density: np.ndarray     # (H, W) float64, the continuous fixation map


def load_ground_truth(item: SaliencyItem) -> GroundTruth:
    fixations = load_fixations(item.fixations, fixation_format=item.fixation_format)
    density = np.asarray(load_gray(item.saliency_map), dtype=np.float64)
    if density.shape != fixations.shape:
        density = metrics.imresize(density, fixations.shape)
    return GroundTruth(fixations, density)


def predict_saliency(model: SaliencyNet, items: Sequence[SaliencyItem], image_size, device="cpu",
                     batch_size: int = 8) -> np.ndarray:
    """Predicted maps ``(N, h, w)`` in [0, 1] at the network's output size."""
    dataset = SaliencyDataset(items, tuple(image_size), model.output_size(tuple(image_size)))
    outputs = predict(model, make_loader(dataset, batch_size), device)[:, 0]
    return ((outputs + 1) / 2).clamp(0, 1).numpy().astype(np.float64)


def _fixation_counts(fixations: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """How many fixated pixels of ``fixations`` fall on each pixel of a map of ``shape``."""
    rows, cols = np.nonzero(fixations)
    rows = ((rows + 0.5) * shape[0] // fixations.shape[0]).astype(int)
    cols = ((cols + 0.5) * shape[1] // fixations.shape[1]).astype(int)
    return np.bincount(rows * shape[1] + cols, minlength=shape[0] * shape[1]).reshape(shape)


def other_fixations(truths: Sequence[GroundTruth]) -> Iterator[np.ndarray]:
    """For each image in turn, the fixations of every *other* image mapped onto its size (for
    shuffled AUC). The counts of all images are summed once per size and each image's own removed,
    so scoring N images costs N passes, not N²."""
    totals: dict[tuple[int, int], np.ndarray] = {}
    for truth in truths:
        shape = truth.fixations.shape
        if shape not in totals:
            totals[shape] = sum(_fixation_counts(other.fixations, shape) for other in truths)
        yield (totals[shape] - _fixation_counts(truth.fixations, shape)) > 0


def model_maps(prediction: np.ndarray, shape: tuple[int, int], centre_sigma: tuple[float, float],
               seed: int = 0) -> dict[str, np.ndarray]:
    """The three maps scored for one image, at the ground truth's ``shape``: the network's prediction
    (upsampled), the centre-bias baseline and chance (seeded)."""
    return {MODELS[0]: upsample(prediction, shape), MODELS[1]: metrics.centre_bias_map(shape, centre_sigma),
            MODELS[2]: metrics.chance_map(shape, seed=seed)}


def score_map(saliency: np.ndarray, truth: GroundTruth, other: np.ndarray, baseline: np.ndarray,
              jitter: bool = True, seed: int = 0) -> dict[str, float]:
    """Every metric for one map already at the ground truth's size."""
    return {
        "AUC-Judd": metrics.auc_judd(saliency, truth.fixations, jitter=jitter, seed=seed),
        "AUC-Borji": metrics.auc_borji(saliency, truth.fixations, seed=seed),
        "sAUC": metrics.auc_shuffled(saliency, truth.fixations, other, seed=seed),
        "NSS": metrics.nss(saliency, truth.fixations),
        "CC": metrics.cc(saliency, truth.density),
        "SIM": metrics.similarity(saliency, truth.density),
        "KL": metrics.kl_div(saliency, truth.density),
        "IG": metrics.info_gain(saliency, truth.fixations, baseline),
    }


def evaluate(predictions: np.ndarray, items: Sequence[SaliencyItem], centre_sigma: tuple[float, float],
             jitter: bool = True, seed: int = 0, progress: bool = True) -> pd.DataFrame:
    """One row per image and model (the network, the centre-bias baseline and chance) with every
    metric; the prediction is upsampled to the fixation map's resolution once."""
    truths = [load_ground_truth(item) for item in items]
    rows = []
    scored = zip(items, truths, other_fixations(truths))
    for index, (item, truth, other) in enumerate(tqdm(scored, total=len(items), desc="scoring", disable=not progress)):
        maps = model_maps(predictions[index], truth.fixations.shape, centre_sigma, seed + index)
        for model_name, saliency in maps.items():
            scores = score_map(saliency, truth, other, maps[MODELS[1]], jitter=jitter, seed=seed + index)
            rows.append({"model": model_name, "category": item.category, "image": item.stimulus.stem,
                         "fixated_pixels": int(truth.fixations.sum()), **scores})
    return pd.DataFrame(rows)


def summarise(scores: pd.DataFrame) -> pd.DataFrame:
    """Mean of every metric per model, per category and over all images (category ``"all"``)."""
    metric_names = [m for m in metrics.METRIC_NAMES if m in scores]
    per_category = scores.groupby(["model", "category"], sort=False)[metric_names].mean()
    overall = scores.groupby("model", sort=False)[metric_names].mean()
    overall.index = pd.MultiIndex.from_product([overall.index, ["all"]], names=["model", "category"])
    table = pd.concat([per_category, overall]).sort_index(level=0, sort_remaining=False)
    counts = scores.groupby(["model", "category"]).size()
    table.insert(0, "images", [int(counts.get(k, 0)) if k[1] != "all" else int(
        (scores["model"] == k[0]).sum()) for k in table.index])
    return table


def upsample(prediction: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A predicted map in [0, 1] at the ground truth's size: MATLAB's bicubic ``imresize``, clipped
    back to [0, 1] (bicubic overshoot would otherwise leave negative values, which KL cannot take)."""
    return np.clip(metrics.imresize(prediction, shape), 0.0, 1.0)
