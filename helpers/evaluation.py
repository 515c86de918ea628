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
from tqdm.auto import tqdm

from . import metrics
from .data import (SaliencyDataset, SaliencyItem, check_same_frame, load_fixations, load_gray, load_rgb,
                   make_loader)
from .models import SaliencyNet
from .records import SaliencyEvaluation, write_table
from .training import predict

#: The maps scored for every image: the trained network and the two baselines.
NETWORK, CENTRE_BIAS, CHANCE = "SalNet (half)", "centre bias", "chance"
MODELS = (NETWORK, CENTRE_BIAS, CHANCE)


@dataclass
class GroundTruth:
    """One stimulus' ground truth at its original resolution."""

    fixations: np.ndarray   # (H, W) bool
    density: np.ndarray     # (H, W) float64, the continuous fixation map


def load_ground_truth(item: SaliencyItem) -> GroundTruth:
    """Fixations and density of one stimulus; either of another frame than the stimulus (another
    aspect ratio, or transposed) is a :class:`helpers.data.DataError` naming the files."""
    fixations = load_fixations(item.fixations, fixation_format=item.fixation_format)
    check_same_frame(item.stimulus, item.fixations, "fixation locations", fixations.shape[::-1])
    density = np.asarray(load_gray(item.saliency_map), dtype=np.float64)
    check_same_frame(item.stimulus, item.saliency_map, "fixation map", density.shape[::-1])
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
    return {NETWORK: upsample(prediction, shape), CENTRE_BIAS: metrics.centre_bias_map(shape, centre_sigma),
            CHANCE: metrics.chance_map(shape, seed=seed)}


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
            scores = score_map(saliency, truth, other, maps[CENTRE_BIAS], jitter=jitter, seed=seed + index)
            rows.append({"model": model_name, "category": item.category, "image": item.stimulus.stem,
                         "fixated_pixels": int(truth.fixations.sum()), **scores})
    return pd.DataFrame(rows)


def summarise(scores: pd.DataFrame) -> pd.DataFrame:
    """Mean of every metric per model, per category and over all images (category ``"all"``).

    ``images`` counts the images that were scored — those with a finite AUC-Judd; an image without
    fixations has none and is left out of every mean that needs fixations."""
    metric_names = [m for m in metrics.METRIC_NAMES if m in scores]
    per_category = scores.groupby(["model", "category"], sort=False)[metric_names].mean()
    overall = scores.groupby("model", sort=False)[metric_names].mean()
    overall.index = pd.MultiIndex.from_product([overall.index, ["all"]], names=["model", "category"])
    table = pd.concat([per_category, overall]).sort_index(level=0, sort_remaining=False)
    scored = scores.assign(all="all", scored=np.isfinite(scores["AUC-Judd"]))
    counts = pd.concat([scored.groupby(["model", "category"])["scored"].sum(),
                        scored.groupby(["model", "all"])["scored"].sum().rename_axis(["model", "category"])])
    table.insert(0, "images", [int(counts[key]) for key in table.index])
    return table


def per_model(table: pd.DataFrame) -> tuple[dict, dict]:
    """``(overall, per_category)`` of a :func:`summarise` table as plain dicts: model → metric → mean,
    and model → category → metric → mean (the metrics record's layout)."""
    overall = {model: table.loc[(model, "all")].to_dict() for model in table.index.unique(level=0)}
    per_category: dict[str, dict] = {}
    for (model, category), row in table.iterrows():
        if category != "all":
            per_category.setdefault(model, {})[category] = row.to_dict()
    return overall, per_category


def best_and_worst(scores: pd.DataFrame, items: Sequence[SaliencyItem], count: int = 3,
                   metric: str = "AUC-Judd") -> list[tuple[SaliencyItem, float, str]]:
    """The network's ``count`` best and ``count`` worst images by ``metric``: ``(item, score, label)``,
    matched to the items by category and name (not by row order)."""
    by_key = {(item.category, item.stimulus.stem): item for item in items}
    ranked = scores[(scores["model"] == NETWORK) & np.isfinite(scores[metric])].sort_values(metric)
    best, worst = ranked.iloc[::-1][:count], ranked.iloc[:count]
    return [(by_key[(row.category, row.image)], float(row[metric]), f"{kind}: {metric} {row[metric]:.3f}")
            for kind, rows in (("best", best), ("worst", worst)) for _, row in rows.iterrows()]


def prediction_panels(picked: Sequence[tuple[SaliencyItem, float, str]], predictions: dict) -> dict[str, list]:
    """Columns for :func:`helpers.plots.image_grid`: the stimulus with its fixations, the ground-truth
    density and the prediction (``predictions[(category, name)]``, upsampled to the ground truth)."""
    from .plots import with_fixations

    columns: dict[str, list] = {"image and fixations": [], "ground truth": [], "prediction": []}
    for item, _, _ in picked:
        truth = load_ground_truth(item)
        image = np.asarray(load_rgb(item.stimulus, expected_size=truth.fixations.shape[::-1])) / 255
        columns["image and fixations"].append(with_fixations(image, truth.fixations))
        columns["ground truth"].append(truth.density)
        columns["prediction"].append(upsample(predictions[(item.category, item.stimulus.stem)], truth.fixations.shape))
    return columns


def upsample(prediction: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A predicted map in [0, 1] at the ground truth's size: MATLAB's bicubic ``imresize``, clipped
    back to [0, 1] (bicubic overshoot would otherwise leave negative values, which KL cannot take)."""
    return np.clip(metrics.imresize(prediction, shape), 0.0, 1.0)


def record_evaluation(scores: pd.DataFrame, table: pd.DataFrame, trained: dict, checkpoint: str | Path,
                      centre_sigma: tuple[float, float], jitter: bool, seed: int) -> SaliencyEvaluation:
    """Write notebook 02's results: the per-image scores and the summary as CSV, and the record the
    report reads (:class:`helpers.records.SaliencyEvaluation`)."""
    write_table("saliency_scores_per_image", scores, index=False)
    write_table("saliency_metrics", table)
    overall, per_category = per_model(table)
    record = SaliencyEvaluation(
        dataset=trained["dataset"], checkpoint=str(checkpoint), held_out_images=int(scores.groupby(["category", "image"]).ngroups),
        jitter=jitter, seed=seed, centre_bias_sigma=list(centre_sigma), epochs_trained=trained["epochs_trained"],
        epochs_planned=trained["epochs_planned"], overall=overall, per_category=per_category)
    record.write()
    return record
