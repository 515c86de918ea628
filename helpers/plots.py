"""Figures for the notebooks and the report, saved through one function."""
from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from . import evaluation, outputs, paths
from .data import SaliencyItem, load_ground_truth, load_rgb, to_pixels
from .models import MODEL_NAMES, SALNET
from .io import atomic_path

plt.rcParams.update({"figure.dpi": 110, "savefig.dpi": 150, "axes.spines.top": False,
                     "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3})


def save_figure(figure: plt.Figure, name: str, vector: bool = False, folder: Path | None = None) -> list[Path]:
    """Write ``figure`` as ``<name>.png`` (and ``<name>.pdf`` when ``vector``) to the report's
    figures folder, atomically; return the paths written."""
    folder = folder or paths.figures_dir()
    saved = []
    for suffix in ("png", "pdf") if vector else ("png",):
        target = outputs.check_may_write(folder / f"{name}.{suffix}", paths.report_dir())
        with atomic_path(target) as tmp:
            figure.savefig(tmp, format=suffix, bbox_inches="tight")
        saved.append(target)
    return saved


def loss_curves(histories: dict[str, Sequence[dict]], title: str = "Loss per epoch",
                ylabel: str | dict[str, str] = "MSE loss", held_out: str = "validation") -> plt.Figure:
    """Train (solid) and held-out (dashed; ``held_out`` names it: "validation" in Part 1, "test" in
    Part 2) loss per epoch, one panel per run (each has its own scale, epochs and schedule), its
    learning-rate drops marked by a labelled dotted line. ``ylabel``: one for every panel, or one per
    run (runs trained with different losses)."""
    width = 6.4 if len(histories) == 1 else 4.2 * len(histories)
    figure, panels = plt.subplots(1, len(histories), figsize=(width, 4.0), squeeze=False)
    for axes, (label, history) in zip(panels[0], histories.items()):
        _loss_panel(axes, history, held_out)
        axes.set(xlabel="epoch", ylabel=ylabel[label] if isinstance(ylabel, dict) else ylabel,
                 title=label if len(histories) > 1 else title)
    if len(histories) > 1:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def _loss_panel(axes: plt.Axes, history: Sequence[dict], held_out: str) -> None:
    epochs = [row["epoch"] for row in history]
    axes.plot(epochs, [row["train_loss"] for row in history], "-o", ms=3, color="C0", label="train")
    axes.plot(epochs, [row["val_loss"] for row in history], "--s", ms=3, color="C1", label=held_out)
    drops = [(after["epoch"], after["lr"] / before["lr"]) for before, after in zip(history, history[1:])
             if after["lr"] < before["lr"]]
    for number, (epoch, factor) in enumerate(drops):
        axes.axvline(epoch - 0.5, color="grey", ls=":", lw=1, label=f"learning rate ×{factor:.2g}" if number == 0 else None)
    if len(epochs) <= 12:
        axes.set_xticks(epochs)   # whole epochs, even for a run of one
    else:
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.legend(frameon=False)


MAP_LABEL = "saliency (÷ the map's maximum)"


def image_grid(columns: dict[str, Sequence[np.ndarray]], row_labels: Sequence[str] | None = None,
               title: str | None = None, cmaps: dict[str, str] | None = None,
               cell_size: float = 2.2, points: dict[str, Sequence[np.ndarray]] | None = None) -> plt.Figure:
    """A grid with one column per entry of ``columns`` (e.g. image, ground truth, prediction) and one
    row per example. Arrays are ``(H, W, 3)`` in [0, 1] or ``(H, W)`` maps, drawn with a colour map
    after dividing by their maximum, with a colour bar under each column of maps. ``points[column]``
    gives each row's points (a binary ``(H, W)`` map, e.g. fixations), drawn over that column as
    white dots ringed in black."""
    names = list(columns)
    n_rows = len(columns[names[0]])
    aspect = np.shape(columns[names[0]][0])[0] / np.shape(columns[names[0]][0])[1]
    has_maps = any(np.ndim(columns[name][0]) == 2 for name in names)
    figure, axes = plt.subplots(n_rows, len(names), squeeze=False, layout="constrained",
                                figsize=(cell_size * len(names), cell_size * aspect * n_rows + 0.6 + 0.5 * has_maps))
    cmaps = cmaps or {}
    for col, name in enumerate(names):
        drawn = None
        for row in range(n_rows):
            ax = axes[row, col]
            picture = np.asarray(columns[name][row], dtype=np.float64)
            if picture.ndim == 2:
                peak = picture.max()
                drawn = ax.imshow(picture / peak if peak > 0 else picture, cmap=cmaps.get(name, "magma"), vmin=0, vmax=1)
            else:
                ax.imshow(picture.clip(0, 1))
            if points and name in points:
                rows, cols = np.nonzero(points[name][row])
                ax.scatter(cols, rows, s=7, c="white", edgecolors="black", linewidths=0.5)
                ax.set(xlim=(-0.5, picture.shape[1] - 0.5), ylim=(picture.shape[0] - 0.5, -0.5))
            ax.set_xticks([]), ax.set_yticks([]), ax.grid(False)
            for spine in ax.spines.values():
                spine.set_visible(False)
            if row == 0:
                ax.set_title("\n".join(textwrap.fill(line, 28) for line in name.split("\n")), fontsize=9)  # keep breaks
            if col == 0 and row_labels is not None:
                ax.set_ylabel(row_labels[row], fontsize=7)
        if drawn is not None:
            bar = figure.colorbar(drawn, ax=axes[:, col], location="bottom", shrink=0.8, aspect=25, pad=0.01)
            bar.set_label(MAP_LABEL, fontsize=7)
            bar.ax.tick_params(labelsize=7)
    if title:
        figure.suptitle(title, fontsize=11)
    return figure


@dataclass
class PredictionRow:
    """One row of :func:`prediction_grid`: an image, its ground truth and the maps predicted for it."""

    label: str
    image: np.ndarray                 # (H, W, 3) in [0, 1]
    density: np.ndarray               # the ground-truth map, (H, W)
    fixations: np.ndarray             # (H, W) bool, drawn as dots over every map (not the image: they would hide the target)
    maps: dict[str, np.ndarray]       # map name → (H, W), at the ground truth's size


def prediction_grid(rows: Sequence[PredictionRow], title: str | None = None) -> plt.Figure:
    """The image as it is (fixations drawn over it would hide the target they cluster on), the ground
    truth and every map, one row per image, the fixations as dots over each map (Part 1's per-category,
    best-and-worst and validation figures)."""
    names = list(rows[0].maps) if rows else []
    columns = {"image": [row.image for row in rows],
               "ground truth": [row.density for row in rows], **{name: [row.maps[name] for row in rows] for name in names}}
    return image_grid(columns, row_labels=[row.label for row in rows], title=title,
                      points={name: [row.fixations for row in rows] for name in names})


def roc_panels(curves: dict[str, dict[str, tuple[np.ndarray, np.ndarray, float]]]) -> plt.Figure:
    """ROC curves (true-positive rate against false-positive rate), one panel per image (three to a
    row) and one line per model; each panel lists its curves' AUCs in the models' colours, and one
    legend below names the models. ``curves[image][model] = (fpr, tpr, auc)``."""
    models = list(dict.fromkeys(model for by_model in curves.values() for model in by_model))
    columns = min(3, len(curves))
    rows = -(-len(curves) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.6 * columns, 3.5 * rows + 0.25 * len(models) / 2 + 0.4),
                                squeeze=False)
    for ax, (image, by_model) in zip(axes.flat, curves.items()):
        for model, (fpr, tpr, auc) in by_model.items():
            ax.plot(fpr, tpr, color=f"C{models.index(model) % 10}", lw=1.4,
                    ls="-" if models.index(model) < 10 else "--", label=f"{auc:.3f}")
        ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":")
        ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="false-positive rate", ylabel="true-positive rate",
               title=image, aspect="equal")
        ax.legend(frameon=False, fontsize=6, loc="lower right", ncol=2, title="AUC-Judd", title_fontsize=6,
                  handlelength=1.2, columnspacing=0.8)
    for ax in list(axes.flat)[len(curves):]:
        ax.axis("off")
    handles = [plt.Line2D([], [], color=f"C{i % 10}", ls="-" if i < 10 else "--", lw=1.6) for i in range(len(models))]
    figure.legend(handles, [textwrap.shorten(model, 72, placeholder="…") for model in models], loc="lower center",
                  ncol=2, frameon=False, fontsize=8)
    figure.tight_layout(rect=(0, 0.04 + 0.028 * len(models) / 2, 1, 1))
    return figure


def score_distribution(scores, metric: str = "AUC-Judd", by: str = "model") -> plt.Figure:
    """Per-image scores of ``metric`` for each model: a violin with the images as dots (seaborn)."""
    import seaborn as sns  # here, not at the top: it brings scipy.stats, 1.5 s that no other figure needs

    figure, axes = plt.subplots(figsize=(max(6.4, 1.35 * scores[by].nunique()), 4.0))
    sns.violinplot(data=scores, x=by, y=metric, hue=by, inner=None, cut=0, linewidth=0.8,
                   palette="pastel", legend=False, ax=axes)
    sns.stripplot(data=scores, x=by, y=metric, color="0.25", size=3, alpha=0.6, jitter=0.15, ax=axes)
    means = scores.groupby(by, sort=False)[metric].mean()
    for position, label in enumerate(means.index):
        axes.hlines(means[label], position - 0.3, position + 0.3, color="crimson", lw=2)
    if metric.startswith("AUC") or metric == "sAUC":
        axes.axhline(0.5, color="grey", ls=":", lw=1)
    axes.set_xticks(range(len(means)), [textwrap.fill(str(label), 16) for label in means.index], fontsize=8)
    axes.set(xlabel="", title=f"{metric} per image (red: mean)")
    figure.tight_layout()
    return figure


def reconstruction_grid(originals: np.ndarray, reconstructions: dict[str, np.ndarray],
                        title: str | None = None, cell_size: float = 1.6) -> plt.Figure:
    """The assignment's Figure 4: one row per image; the original, then its reconstruction from
    each layer. Arrays ``(N, S, S, 3)`` in [0, 1]."""
    columns = {"original": list(originals), **{layer: list(r) for layer, r in reconstructions.items()}}
    return image_grid(columns, title=title, cell_size=cell_size)


def reconstruction_examples(images, reconstructions: dict, count: int = 6, title: str | None = None) -> plt.Figure:
    """:func:`reconstruction_grid` of ``count`` images spread evenly over ``images`` (normalised
    ``(N, 3, S, S)`` tensors, in class order), with their reconstructions (same shape, same order)."""
    shown = np.linspace(0, len(images) - 1, min(count, len(images))).astype(int)
    return reconstruction_grid(to_pixels(images[shown]),
                               {name: to_pixels(r[shown]) for name, r in reconstructions.items()}, title=title)


def error_by_layer(table, title: str | None = None, mean_image: float | None = None) -> plt.Figure:
    """Reconstruction error against depth: the test MSE after the last epoch and the normalised
    reconstruction error of each layer, in network order, with the mean image's error (measured on
    the same test images) as the line a decoder must stay under."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6), layout="constrained")
    layers = list(table.index)
    left.plot(layers, table["MSE"], "-o", color="C0")
    left.set(ylabel="test MSE", xlabel="layer", title="loss after the last epoch (normalised pixels)")
    right.plot(layers, table["normalised error"], "-o", color="C3", label="decoder")
    if mean_image is not None:
        right.axhline(mean_image, color="grey", ls=":", lw=1.2, label=f"mean image ({mean_image:.3f})")
        figure.legend(loc="outside lower center", ncol=2, frameon=False, fontsize=8)   # below, off the data
    right.set(ylabel="normalised reconstruction error", xlabel="layer", title="test error")
    if title:
        figure.suptitle(title, fontsize=10)
    return figure


def comparison_table(comparison):
    """Notebook 07's part two as a table: one row per depth and kind of weights decoded there, and the mean image."""
    columns = ["normalised error", "PSNR", "SSIM", "mean-colour error",
               "images with a better mean colour than the mean image"]
    rows = {("mean image", ""): {k: comparison.mean_image.get(k, float("nan")) for k in columns}}
    for layer in comparison.layers:
        for kind in ("pretrained", "random"):
            if layer in comparison.rows[kind]:
                rows[(layer, kind)] = {k: comparison.rows[kind][layer][k] for k in columns}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.names = ["layer", "weights"]
    return table


def comparison_by_depth(comparison) -> plt.Figure:
    """Normalised error and SSIM against depth for decoders of the pretrained and of the random
    network, with the mean image's error as the line a decoder must stay under."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(9.5, 4), layout="constrained")
    layers = comparison.layers
    for kind, colour in (("pretrained", "C0"), ("random", "C1")):
        label = comparison.weights.get(kind, kind)
        left.plot(layers, [comparison.rows[kind][l]["normalised error"] for l in layers], "-o", color=colour, label=label)
        right.plot(layers, [comparison.rows[kind][l]["SSIM"] for l in layers], "-o", color=colour, label=label)
    left.axhline(comparison.mean_image["normalised error"], color="grey", ls=":", lw=1.2,
                 label=f"mean image ({comparison.mean_image['normalised error']:.3f})")
    right.axhline(comparison.mean_image["SSIM"], color="grey", ls=":", lw=1.2)
    left.set(ylabel="normalised reconstruction error (lower is better)", xlabel=f"{comparison.encoder} layer",
             title="error against depth")
    right.set(ylabel="SSIM (higher is better)", xlabel=f"{comparison.encoder} layer", title="structure against depth")
    for axes in (left, right):
        axes.tick_params(axis="x", labelrotation=20, labelsize=8)
    figure.legend(*left.get_legend_handles_labels(), loc="outside lower center", ncol=3, frameon=False,
                  fontsize=8)   # below the panels, off the data
    figure.suptitle(f"{comparison.test_images} test crops of photographs never used for training, "
                    f"{comparison.image_size}² input", fontsize=10)
    return figure


# ---------------------------------------------------------------------------------------------
# Which test images a figure shows, and their rows
# ---------------------------------------------------------------------------------------------

def best_and_worst(scores: pd.DataFrame, items: Sequence[SaliencyItem], count: int = 3,
                   metric: str = "AUC-Judd", model: str = MODEL_NAMES[SALNET]) -> list[tuple[SaliencyItem, str]]:
    """``model``'s ``count`` best and ``count`` worst images by ``metric``: ``(item, label)``,
    matched to the items by category and name (not by row order)."""
    by_key = {(item.category, item.stimulus.stem): item for item in items}
    ranked = scores[(scores["model"] == model) & np.isfinite(scores[metric])].sort_values(metric)
    best, worst = ranked.iloc[::-1][:count], ranked.iloc[:count]
    return [(by_key[(row.category, row.image)], f"{kind}: {metric} {row[metric]:.3f}")
            for kind, rows in (("best", best), ("worst", worst)) for _, row in rows.iterrows()]


def one_per_category(items: Sequence[SaliencyItem]) -> list[tuple[SaliencyItem, str]]:
    """The first held-out image of every category: ``(item, "")`` (no note beside its name)."""
    first: dict[str, SaliencyItem] = {}
    for item in items:
        first.setdefault(item.category, item)
    return [(item, "") for item in first.values()]


def prediction_figure(picked: Sequence[tuple[SaliencyItem, str]], predictions: dict[str, dict],
                      title: str | None = None):
    """One row per picked ``(item, note)`` (:func:`helpers.plots.prediction_grid` draws it): the stimulus
    with its held-out fixations, the ground-truth density, and each map of ``predictions``
    (``predictions[name][(category, stem)]``) upsampled to the ground truth as it is scored."""
    rows = []
    for item, note in picked:
        truth = load_ground_truth(item)
        image = np.asarray(load_rgb(item.stimulus, expected_size=truth.fixations.shape[::-1])) / 255
        maps = {name: evaluation.upsample(by_image[(item.category, item.stimulus.stem)], truth.fixations.shape)
                for name, by_image in predictions.items()}
        label = f"{item.category}\n{item.stimulus.stem}"
        rows.append(PredictionRow(f"{note}\n{label}" if note else label, image, truth.density, truth.fixations, maps))
    return prediction_grid(rows, title)


def prediction_figure_of(trained: Sequence, device="cpu", count: int = 6):
    """Figure 2 of notebook 01: one validation image of each category (at most ``count``) and each
    trained network's map (``trained``: :class:`helpers.saliency.TrainedSaliency` of one split); the
    test images are left to notebook 02."""
    shown = one_per_category(trained[0].data.validation_items)[:count]
    items = [item for item, _ in shown]
    keys = [(item.category, item.stimulus.stem) for item in items]
    predictions = {model.name: dict(zip(keys, evaluation.predict_saliency(model.model, items, model.spec.image_size, device)))
                   for model in trained}
    return prediction_figure(shown, predictions)
