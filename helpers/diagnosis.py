"""Notebook 01's diagnosis of a trained network, for the report: what its training loss rewards
(maps that look at no image, scored in the same loss), how concentrated the ground truth is, and
whether the network lights up the frame's edges."""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from scipy.ndimage import gaussian_filter
from torch import nn

from .data import load_ground_truth
from .metrics import centre_bias_map, fit_centre_bias, mit_blur_sigma
from .notebooks import describe as named
from .records import write_table
from .saliency import LOSSES, TrainedSaliency, loss_function
from .training import predict


def trivial_maps(train_maps: torch.Tensor, shape: tuple[int, int], centre_sigma: tuple[float, float]) -> dict:
    """Maps that look at no image, in the network's output scale ([-1, 1]): all background (−1, the
    value of an empty map), the mean training map, and the centre-bias Gaussian."""
    centre = torch.as_tensor(centre_bias_map(shape, centre_sigma), dtype=train_maps.dtype) * 2 - 1
    return {"all background": torch.full(shape, -1.0), "mean training map": train_maps.mean(0)[0], "centre bias": centre}


def held_out_loss(loss_fn: nn.Module, maps: torch.Tensor, held_out_maps: torch.Tensor) -> float:
    """The training loss of ``maps`` — one map ``(h, w)`` for every image, or one per image
    ``(N, 1, h, w)`` — against the held-out ground-truth maps ``(N, 1, h, w)``."""
    predictions = maps.expand_as(held_out_maps) if maps.dim() == 2 else maps
    return float(loss_fn(predictions.float(), held_out_maps.float()))


def mass_share(maps, share: float = 0.5) -> float:
    """The smallest fraction of pixels that hold ``share`` of a map's mass, averaged over ``maps``
    (non-negative 2-D arrays of any sizes): small for maps concentrated on a few spots."""
    fractions = []
    for m in maps:
        values = np.sort(m.ravel())[::-1]
        cumulative = np.cumsum(values) / values.sum()
        fractions.append((np.searchsorted(cumulative, share) + 1) / values.size)
    return float(np.mean(fractions))


def border_ratio(predictions: np.ndarray, band: float = 0.08) -> float:
    """Mean prediction in the outer ``band`` of the frame over the mean inside it, each map first
    scaled to [0, 1]: well above the ground truth's ratio means the network lights up the frame's
    edges (zero padding gives every convolution a border it can detect)."""
    ratios = []
    for p in predictions:
        p = (p - p.min()) / max(p.max() - p.min(), 1e-12)
        h, w = p.shape
        dh, dw = max(1, round(band * h)), max(1, round(band * w))
        inner = p[dh:-dh, dw:-dw]
        outer_mean = (p.sum() - inner.sum()) / (p.size - inner.size)
        ratios.append(outer_mean / max(inner.mean(), 1e-12))
    return float(np.mean(ratios))


def diagnose(trained: TrainedSaliency, device="cpu") -> pd.Series:
    """Notebook 01's diagnosis of a trained network on its validation images, as one table: the
    network's validation loss — the loss it was trained with (``LOSS``) — beside that of maps that
    ignore the image, how concentrated the ground-truth maps are (with their own blur and with the MIT
    benchmark's), and the frame-edge ratio of the predictions against the ground truth's. Also
    written to ``report/metrics/saliency_diagnosis.csv`` for the report."""
    train_set, validation_set = trained.train_set, trained.validation_set
    train_maps = torch.stack([train_set[i][1] for i in range(len(train_set))])
    validation_maps = torch.stack([validation_set[i][1] for i in range(len(validation_set))])
    centre_sigma = fit_centre_bias(load_ground_truth(item).fixations for item in trained.data.train_items)
    loss_fn, loss = loss_function(trained.spec), LOSSES[trained.spec.loss].short
    predictions = predict(trained.model, torch.utils.data.DataLoader(validation_set, batch_size=8), device)
    maps = {**trivial_maps(train_maps, tuple(validation_maps.shape[-2:]), centre_sigma), "the trained network": predictions}
    rows = {f"validation {loss}: {name}": held_out_loss(loss_fn, m, validation_maps) for name, m in maps.items()}
    truth_maps = (validation_maps[:, 0].numpy() + 1) / 2
    truths = [load_ground_truth(item) for item in validation_set.items]
    mit_blurred = [gaussian_filter(t.fixations.astype(float), mit_blur_sigma(t.fixations.shape)) for t in truths]
    rows["pixels holding half the mass: ground-truth maps"] = mass_share(truth_maps)
    rows["pixels holding half the mass: the same fixations, MIT's blur"] = mass_share(mit_blurred)
    rows["frame-edge ratio: predictions"] = border_ratio(predictions[:, 0].numpy())
    rows["frame-edge ratio: ground truth"] = border_ratio(truth_maps)
    table = pd.Series(rows, name="value").round(4)
    write_table("saliency_diagnosis", table.to_frame(),
                comment=f"{named('saliency-training')}'s diagnosis of {trained.name}, in its training loss ({loss})")
    return table
