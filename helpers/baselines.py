"""Saliency maps with no learned parameter: the **contrast, no learning** row of every Part 1 table.

How much of a trained network's score is the contrast step alone, and how much its training adds?
Two maps answer it, neither with a trained parameter:

* **colour contrast** — each colour channel's z-score across the image
  (:func:`helpers.models.image_contrast`), the root mean square over the three channels, blurred a
  little: a pixel of a colour or brightness rare in its image scores high;
* **feature contrast** — the same z-score of the frozen MobileNetV2 front end's features (the second
  model's three taps, :meth:`helpers.models.ContrastSaliencyNet.frozen_features`), without its
  trained readout.

The row keeps the one with the higher mean AUC-Judd on the **validation** images, so the choice never
looks at the test images it is then scored on.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from scipy.ndimage import gaussian_filter

from . import evaluation
from .data import SaliencyDataset, SaliencyItem, make_loader
from .data import load_ground_truth
from .evaluation import upsample
from .models import ContrastSaliencyNet, image_contrast

COLOUR, FEATURES = "colour contrast of the pixels", "contrast of the frozen front end's features"
#: The blur of each map, as a share of its width (fixed, not fitted): a fixation lands near, not on, the pixel.
BLUR = {COLOUR: 1 / 64, FEATURES: 1 / 32}


def contrast_map(values: torch.Tensor, blur: float) -> np.ndarray:
    """``(B, C, h, w)`` → ``(B, h, w)``: the root mean square of each channel's z-score across its
    image, blurred by ``blur`` × the width."""
    energy = image_contrast(values).pow(2).mean(dim=1).sqrt().numpy().astype(np.float64)
    sigma = blur * values.shape[-1]
    return np.stack([gaussian_filter(one, sigma) for one in energy])


def no_learning_maps(items: Sequence[SaliencyItem], image_size: tuple[int, int], front_end: ContrastSaliencyNet,
                     device: torch.device | str = "cpu") -> dict[str, np.ndarray]:
    """Both candidate maps of ``items`` (each ``(N, h, w)``), from images at ``image_size``."""
    dataset = SaliencyDataset(items, tuple(image_size), tuple(image_size))
    maps: dict[str, list] = {COLOUR: [], FEATURES: []}
    front_end = front_end.to(device).eval()
    with torch.no_grad():
        for images, _ in make_loader(dataset, batch_size=8):
            maps[COLOUR].append(contrast_map(images.float(), BLUR[COLOUR]))
            features = front_end.frozen_features(images.to(device)).float().cpu()
            maps[FEATURES].append(contrast_map(features, BLUR[FEATURES]))
    return {name: np.concatenate(parts) for name, parts in maps.items()}


@dataclass
class NoLearningBaseline:
    """The row's maps of the test images, which candidate they are, and what chose it."""

    choice: str
    validation_auc: dict[str, float]   # candidate → mean AUC-Judd on the validation images
    candidates: dict[str, np.ndarray]  # candidate → its maps of the test images, (N, h, w)

    @property
    def maps(self) -> np.ndarray:
        """The chosen candidate's maps of the test images."""
        return self.candidates[self.choice]

    def summary(self) -> str:
        """Which map the row is and what chose it, e.g. for the report."""
        scores = ", ".join(f"{name} {auc:.4f}" for name, auc in self.validation_auc.items())
        return (f"the {self.choice}, chosen on the validation images by mean AUC-Judd ({scores}); no "
                "trained parameter, and the test images not looked at")


def mean_auc_judd(maps: np.ndarray, items: Sequence[SaliencyItem]) -> float:
    """The mean AUC-Judd of ``maps`` against the items' fixations, each map upsampled as a network's is."""
    truths = [load_ground_truth(item) for item in items]
    return evaluation.mean_auc_judd([upsample(m, t.fixations.shape) for m, t in zip(maps, truths)], truths)


def no_learning_baseline(validation_items: Sequence[SaliencyItem], test_items: Sequence[SaliencyItem],
                         image_size: tuple[int, int], front_end: ContrastSaliencyNet | None = None,
                         device: torch.device | str = "cpu") -> NoLearningBaseline:
    """The "contrast, no learning" row: the candidate with the higher mean AUC-Judd on
    ``validation_items``, and every candidate's maps of ``test_items``. ``front_end``: the second model
    (its frozen front end is used, never its readout); ``None`` builds one with the default MobileNetV2 weights."""
    front_end = front_end if front_end is not None else ContrastSaliencyNet()
    on_validation = no_learning_maps(validation_items, image_size, front_end, device)
    validation_auc = {name: mean_auc_judd(maps, validation_items) for name, maps in on_validation.items()}
    choice = max(validation_auc, key=validation_auc.get)
    return NoLearningBaseline(choice, validation_auc, no_learning_maps(test_items, image_size, front_end, device))
