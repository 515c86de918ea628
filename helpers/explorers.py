"""Explorers for JupyterLab (ipywidgets): notebook 02's test images, notebook 07's photographs by layer; each
is a few widgets driving one :meth:`show`, and a headless run prints one line instead.
"""
from __future__ import annotations

import io
from typing import Sequence

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import Image, display

from . import metrics, plots
from .data import to_pixels
from .plots import prediction_figure
from .progress import widgets_shown


def draw(output: widgets.Output, figure: plt.Figure) -> None:
    """Replace what ``output`` shows with ``figure`` (as a PNG, set from the kernel: no front end needed)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(figure)
    output.outputs = ()
    output.append_display_data(Image(data=buffer.getvalue(), format="png"))


def show_or_skip(explorer, what: str) -> None:
    """Display ``explorer``'s widget, or — with no front end to draw it — say that it was left out."""
    if widgets_shown():
        explorer.show()
        display(explorer.widget())
    else:
        print(f"{what}: an interactive explorer in JupyterLab; left out of this headless run "
              "(the static figures above show the same)")


class SaliencyExplorer:
    """Notebook 02's test images, ranked by any metric of any map: the image with its fixations, the
    ground truth and every map with the fixations as dots, and that image's scores.

    ``scores``: :func:`helpers.evaluation.evaluate`'s table; ``items``: the test items; ``predictions``:
    map name → ``{(category, stem): map}``."""

    def __init__(self, scores: pd.DataFrame, items: Sequence, predictions: dict[str, dict]):
        self.scores, self.predictions = scores, predictions
        self.items = {(item.category, item.stimulus.stem): item for item in items}
        names = [metric.name for metric in metrics.METRICS if metric.name in scores]
        self.map = widgets.Dropdown(options=list(predictions), description="ranked map")
        self.metric = widgets.Dropdown(options=names, value=names[0], description="by")
        self.rank = widgets.IntSlider(min=1, max=len(self.items), value=1, description="rank",
                                      continuous_update=False)
        self.table, self.output = widgets.HTML(), widgets.Output()
        self.state: dict = {}
        for control in (self.map, self.metric, self.rank):
            control.observe(self.show, names="value")

    def ranking(self) -> list[tuple[str, str]]:
        """The images, best first for the chosen map and metric (images the metric cannot score last)."""
        rows = self.scores[self.scores["model"] == self.map.value]
        better_high = metrics.METRIC_BY_NAME[self.metric.value].higher_is_better
        rows = rows.sort_values(self.metric.value, ascending=not better_high, na_position="last")
        return list(zip(rows["category"], rows["image"]))

    def show(self, change=None) -> None:
        key = self.ranking()[self.rank.value - 1]
        image_scores = self.scores[(self.scores["category"] == key[0]) & (self.scores["image"] == key[1])]
        image_scores = image_scores.set_index("model").drop(columns=["category", "image"])
        value = image_scores.loc[self.map.value, self.metric.value]
        note = f"rank {self.rank.value} of {len(self.items)} by {self.metric.value} of {self.map.value}: {value:.3f}"
        self.table.value = image_scores.round(3).to_html()
        draw(self.output, prediction_figure([(self.items[key], "")], self.predictions, title=note))
        self.state = {"image": key, "metric": self.metric.value, "map": self.map.value, "value": float(value)}

    def widget(self) -> widgets.Widget:
        return widgets.VBox([widgets.HBox([self.map, self.metric, self.rank]), self.output, self.table])


class ReconstructionExplorer:
    """Notebook 07's photographs, one at a time: the original beside its reconstructions from one
    layer by each encoder (pretrained, random), with each reconstruction's error on that image.

    ``images``: normalised ``(N, 3, S, S)``; ``reconstructions``: encoder kind → layer → the same shape."""

    def __init__(self, images: torch.Tensor, reconstructions: dict[str, dict[str, torch.Tensor]], title: str = ""):
        self.images, self.reconstructions, self.title = images, reconstructions, title
        layers = list(next(iter(reconstructions.values())))
        self.photo = widgets.IntSlider(min=0, max=len(images) - 1, value=0, description="photograph",
                                       continuous_update=False)
        self.layer = widgets.Dropdown(options=layers, value=layers[0], description="layer")
        self.output, self.caption = widgets.Output(), widgets.HTML()
        self.state: dict = {}
        for control in (self.photo, self.layer):
            control.observe(self.show, names="value")

    def show(self, change=None) -> None:
        index, layer = self.photo.value, self.layer.value
        original = to_pixels(self.images[index:index + 1])[0]
        shown = {kind: to_pixels(by_layer[layer][index:index + 1])[0] for kind, by_layer in self.reconstructions.items()}
        errors = {kind: float(np.sqrt(((pixels - original) ** 2).mean())) for kind, pixels in shown.items()}
        self.caption.value = "RMS error in [0, 1] pixels: " + ", ".join(f"{kind} {e:.3f}" for kind, e in errors.items())
        draw(self.output, plots.reconstruction_grid(original[None], {f"{layer}\n{kind}": r[None] for kind, r in shown.items()},
                                                    title=self.title or None))
        self.state = {"photo": index, "layer": layer, "errors": errors}

    def widget(self) -> widgets.Widget:
        return widgets.VBox([widgets.HBox([self.photo, self.layer]), self.output, self.caption])
