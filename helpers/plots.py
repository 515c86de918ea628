"""Figures for the notebooks and the report, saved through one function."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np

from . import paths
from .io import atomic_path

plt.rcParams.update({"figure.dpi": 110, "savefig.dpi": 150, "axes.spines.top": False,
                     "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3})


def save_figure(figure: plt.Figure, name: str, vector: bool = False, folder: Path | None = None) -> list[Path]:
    """Write ``figure`` as ``<name>.png`` (and ``<name>.pdf`` when ``vector``) to the report's
    figures folder, atomically; return the paths written."""
    folder = paths.ensure(folder or paths.figures_dir())
    written = []
    for suffix in ("png", "pdf") if vector else ("png",):
        target = folder / f"{name}.{suffix}"
        with atomic_path(target) as tmp:
            figure.savefig(tmp, format=suffix, bbox_inches="tight")
        written.append(target)
    return written


def loss_curves(histories: dict[str, Sequence[dict]], title: str = "Loss per epoch",
                ylabel: str = "MSE loss") -> plt.Figure:
    """Train (solid) and validation (dashed) loss per epoch, one colour per run; learning-rate
    drops marked by dotted vertical lines."""
    figure, axes = plt.subplots(figsize=(6.4, 4.0))
    for index, (label, history) in enumerate(histories.items()):
        colour = f"C{index}"
        epochs = [row["epoch"] for row in history]
        prefix = f"{label}: " if len(histories) > 1 else ""
        axes.plot(epochs, [row["train_loss"] for row in history], "-o", ms=3, color=colour,
                  label=f"{prefix}train")
        axes.plot(epochs, [row["val_loss"] for row in history], "--s", ms=3, color=colour,
                  label=f"{prefix}validation")
        for before, after in zip(history, history[1:]):
            if after["lr"] < before["lr"] and index == 0:
                axes.axvline(after["epoch"] - 0.5, color="grey", ls=":", lw=1)
    axes.set(xlabel="epoch", ylabel=ylabel, title=title)
    axes.legend(frameon=False, ncol=2 if len(histories) > 2 else 1)
    figure.tight_layout()
    return figure


def image_grid(columns: dict[str, Sequence[np.ndarray]], row_labels: Sequence[str] | None = None,
               title: str | None = None, cmaps: dict[str, str] | None = None,
               cell_size: float = 2.2) -> plt.Figure:
    """A grid with one column per entry of ``columns`` (e.g. image, ground truth, prediction) and one
    row per example. Arrays are ``(H, W, 3)`` in [0, 1] or ``(H, W)`` maps (drawn with a colour map)."""
    names = list(columns)
    n_rows = len(columns[names[0]])
    aspect = np.shape(columns[names[0]][0])[0] / np.shape(columns[names[0]][0])[1]
    figure, axes = plt.subplots(n_rows, len(names), squeeze=False,
                                figsize=(cell_size * len(names), cell_size * aspect * n_rows + 0.6))
    cmaps = cmaps or {}
    for col, name in enumerate(names):
        for row in range(n_rows):
            ax = axes[row, col]
            picture = np.asarray(columns[name][row])
            ax.imshow(picture, cmap=cmaps.get(name, "magma") if picture.ndim == 2 else None)
            ax.set_xticks([]), ax.set_yticks([]), ax.grid(False)
            for spine in ax.spines.values():
                spine.set_visible(False)
            if row == 0:
                ax.set_title(name, fontsize=10)
            if col == 0 and row_labels is not None:
                ax.set_ylabel(row_labels[row], fontsize=8)
    if title:
        figure.suptitle(title, fontsize=11)
    figure.tight_layout()
    return figure


def saliency_examples(images, maps, predictions, labels: Sequence[str] | None = None,
                      title: str | None = None) -> plt.Figure:
    """The assignment's Figure 2: input images, ground-truth maps and predicted maps, one row each.

    ``images`` ``(N, 3, H, W)``, ``maps`` and ``predictions`` ``(N, 1, h, w)``, all in [-1, 1].
    """
    as_picture = lambda t: ((np.asarray(t, dtype=np.float32) + 1) / 2).clip(0, 1)  # noqa: E731
    return image_grid({
        "image": [as_picture(x).transpose(1, 2, 0) for x in images],
        "ground truth": [as_picture(m)[0] for m in maps],
        "prediction": [as_picture(p)[0] for p in predictions],
    }, row_labels=labels, title=title)
