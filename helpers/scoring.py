"""Notebook 02's story as calls: the trained networks (:mod:`helpers.trained_models`) scored on the test images
of their own split, checked file by file, beside the baselines; :class:`Scored` writes the record and draws
the figures.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from . import baselines, evaluation, metrics, plots
from .data import load_ground_truth, no_oracle_reason
from .parallel import select_device
from .profiles import TOKEN_RUN
from .records import SaliencyEvaluation, write_table
from .saliency import SaliencyData
from .trained_models import TrainedNetwork, trained_split


@dataclass
class TestImages:
    """The split a network was trained on, rebuilt and checked, and the centre bias fitted on it."""

    data: SaliencyData
    centre_sigma: tuple[float, float]

    @classmethod
    def of(cls, network: TrainedNetwork, data_dir: str = "") -> "TestImages":
        """``network``'s split (:func:`helpers.trained_models.trained_split`: refused, naming the files, when
        the folder no longer holds it), the centre bias's width fitted on its training fixations."""
        data = trained_split(network.trained, data_dir, network.checkpoint)
        sigma = metrics.fit_centre_bias(load_ground_truth(item).fixations for item in data.train_items)
        return cls(data, sigma)

    @property
    def items(self) -> list:
        return self.data.held_out_items

    def describe(self) -> str:
        return (f"{len(self.items)} test images of {self.data.name}; centre bias fitted on {len(self.data.train_items)} "
                f"training images: sigma = {self.centre_sigma[0]:.3f} × height, {self.centre_sigma[1]:.3f} × width")


@dataclass
class Scored:
    """Every map of every test image scored: the networks, the baselines, the no-learning row."""

    networks: list[TrainedNetwork]
    test: TestImages
    no_learning: baselines.NoLearningMaps
    predictions: dict[str, np.ndarray]     # map name → maps (N, h, w), the networks' and the no-learning row's
    scores: pd.DataFrame                   # one row per image and map (evaluation.evaluate)
    table: pd.DataFrame                    # the means per map and category (evaluation.summarise)
    oracle: str                            # the oracle row's name, or "" when the data allow none
    jitter: bool = True
    seed: int = 0
    record: SaliencyEvaluation | None = field(default=None, repr=False)

    @property
    def by_image(self) -> dict[str, dict]:
        """map name → ``{(category, stem): map}``."""
        keys = [(item.category, item.stimulus.stem) for item in self.test.items]
        return {name: dict(zip(keys, maps)) for name, maps in self.predictions.items()}

    def write_record(self) -> SaliencyEvaluation:
        """The CSV tables and the record the report reads; unfinished networks are marked in it."""
        trained = self.networks[0].trained
        write_table("saliency_scores_per_image", self.scores, index=False)
        write_table("saliency_metrics", self.table)
        overall, per_category = evaluation.per_model(self.table)
        self.record = SaliencyEvaluation(
            dataset=trained["dataset"], checkpoint=str(self.networks[0].checkpoint),
            checkpoints={n.name: str(n.checkpoint) for n in self.networks},
            held_out_images=int(self.scores.groupby(["category", "image"]).ngroups), jitter=self.jitter, seed=self.seed,
            centre_bias_sigma=list(self.test.centre_sigma), epochs_trained=trained["epochs_trained"],
            epochs_planned=trained["epochs_planned"], overall=overall, per_category=per_category,
            oracle=self.oracle or no_oracle_reason(self.test.data.name), sample_seed=trained.get("sample_seed"),
            no_learning=self.no_learning.summary(),
            unfinished={n.name: n.unfinished for n in self.networks if n.unfinished})
        self.record.write()
        return self.record

    def bars(self) -> str:
        """Each network against every bar of the data set, ✓ or ✗, as lines."""
        overall, per_category = evaluation.per_model(self.table)
        lines = []
        for network in self.networks:
            line = f"{network.name}: AUC-Judd {overall[network.name]['AUC-Judd']:.4f} (centre bias " \
                   f"{overall[evaluation.CENTRE_BIAS]['AUC-Judd']:.4f}" \
                   + (f", oracle {overall[self.oracle]['AUC-Judd']:.4f}" if self.oracle else "") + ")"
            if TOKEN_RUN in network.name:   # its bars are a trained network's, not a token epoch's
                lines += [line, "  not judged against the bars: trained a token epoch to check the notebooks run"]
                continue
            bars = evaluation.quality_bars(overall, network.name, self.oracle, per_category)
            uncertain = evaluation.too_few_to_judge(per_category, network.name)
            lines += [line] + [f"  {'✓' if met else '✗'} {bar}" for bar, met in bars.items()]
            if uncertain:
                lines.append(f"  {uncertain}")
        return "\n".join(lines)

    def gains(self) -> dict[str, "pd.DataFrame"]:
        """Network → what it adds over the best no-learning map, per category
        (:func:`helpers.evaluation.gain_over_no_learning`)."""
        _, per_category = evaluation.per_model(self.table)
        return {n.name: evaluation.gain_over_no_learning(per_category, n.name) for n in self.networks}

    def per_category_figure(self):
        """One test image of each category: the image, the ground truth, each network's map and the
        no-learning map that did best on the validation images, fixations as dots."""
        shown = [n.name for n in self.networks] + [self.no_learning.best_on_validation]
        by_image = self.by_image
        return plots.prediction_figure(plots.one_per_category(self.test.items),
                                            {name: by_image[name] for name in shown})

    def roc_figure(self):
        """ROC curves of every map on one test image of each category."""
        curves = {}
        for item, _ in plots.one_per_category(self.test.items):
            index = self.test.items.index(item)
            truth, seed = load_ground_truth(item), self.seed + index
            maps = evaluation.model_maps({name: maps[index] for name, maps in self.predictions.items()}, truth,
                                         self.test.centre_sigma, seed)
            curves[f"{item.category}/{item.stimulus.stem}"] = {
                name: (*metrics.roc_curve_judd(m, truth.fixations, self.jitter, seed),
                       metrics.auc_judd(m, truth.fixations, self.jitter, seed)) for name, m in maps.items()}
        return plots.roc_panels(curves)

    def best_and_worst_figure(self, network: TrainedNetwork):
        """``network``'s three best and three worst test images by AUC-Judd, fixations over its map."""
        picked = plots.best_and_worst(self.scores, self.test.items, model=network.name)
        return plots.prediction_figure(picked, {network.name: self.by_image[network.name]}, title=network.name)


def score(networks: Sequence[TrainedNetwork], test: TestImages, jitter: bool = True, seed: int = 0,
          device="auto") -> Scored:
    """Score ``networks`` (SalNet first) on ``test``'s images beside the baselines and the no-learning
    rows (each set on the validation images; the feature contrast with the second model's frozen front
    end where there is one: :func:`helpers.baselines.no_learning_maps`); print which oracle the data allow."""
    device = select_device(device)
    second = next((n.model for n in networks[1:]), None)   # its frozen front end gives the feature contrast
    image_size = networks[-1].image_size
    no_learning = baselines.no_learning_maps(test.data.validation_items, test.items, image_size, second, device)
    print(f"{evaluation.NO_LEARNING}: {no_learning.summary()}")
    predictions = {n.name: evaluation.predict_saliency(n.model, test.items, n.image_size, device) for n in networks}
    predictions.update(no_learning.maps)
    scores = evaluation.evaluate(predictions, test.items, test.centre_sigma, jitter=jitter, seed=seed)
    oracle = evaluation.oracle_name([load_ground_truth(item) for item in test.items[:1]])
    if not oracle:
        print(f"no oracle row: {no_oracle_reason(test.data.name)}")
    return Scored(list(networks), test, no_learning, predictions, scores, evaluation.summarise(scores), oracle,
                  jitter, seed)
