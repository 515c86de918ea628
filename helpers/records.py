"""The records the notebooks leave in ``report/metrics/``: one class per file, whose fields are the file's
schema (training, evaluation, each layer, the inversion summary and comparison), one writer and one reader
that refuses a file without them, naming it.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import pandas as pd

from . import outputs, paths
from .io import write_json_atomic, write_text_atomic
from .models import SALNET


class RecordError(ValueError):
    """A record file is not in the expected format (the message names it)."""


@dataclass(kw_only=True)
class Record:
    """A JSON file in the metrics folder whose fields are this dataclass's."""

    FILE: ClassVar[str] = ""
    written: str = ""  # when: set by :meth:`write`
    run: str = ""      # which run wrote it, and the commit of the code: set by :meth:`write`

    def file_name(self) -> str:
        return self.FILE

    def write(self) -> Path:
        """Write the record atomically into the metrics folder; return its path."""
        self.written = _dt.datetime.now().isoformat(timespec="seconds")
        self.run = f"{outputs.this_run()}, commit {paths.commit()}"
        path = outputs.check_may_write(paths.metrics_dir() / self.file_name(), paths.report_dir())
        return write_json_atomic(path, dataclasses.asdict(self))

    @classmethod
    def read(cls, file_name: str | None = None):
        """The record in the metrics folder, or None when its notebook has not written it yet."""
        path = paths.metrics_dir() / (file_name or cls.FILE)
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text())
            return cls(**data)
        except (json.JSONDecodeError, TypeError) as error:
            expected = [f.name for f in dataclasses.fields(cls)]
            raise RecordError(f"{path}: not a {cls.__name__} record (expected the fields {expected}; {error}); "
                              "run the notebook that writes it again") from None


@dataclass(kw_only=True)
class TrainingFields:
    """What every trained model's record carries (see :func:`helpers.training.fit`): the spec it was
    trained from (:mod:`helpers.spec`; its settings are read from it, never copied beside it), the
    run's metadata (what else named its checkpoint: the data's fingerprint, the architecture, the
    frozen weights), and its training."""

    dataset: str
    data_root: str
    spec: dict
    metadata: dict
    checkpoint: str
    train_images: int
    held_out_images: int
    history: list[dict]
    epochs_trained: int
    epochs_planned: int

    @property
    def WholeDataset(self) -> bool | int:
        return self.spec["whole_dataset"]

    @property
    def seed(self) -> int:
        return self.spec["seed"]

    @property
    def image_size(self):
        return self.spec["image_size"]

    @property
    def finished(self) -> bool:
        return self.epochs_trained >= self.epochs_planned

    @property
    def lowest_train_loss(self) -> float:
        return min(row["train_loss"] for row in self.history)

    @property
    def lowest_val_loss(self) -> float:
        return min(row["val_loss"] for row in self.history)


@dataclass(kw_only=True)
class SaliencyTraining(TrainingFields, Record):
    """Notebook 01's run: the data, the network and its training."""

    FILE: ClassVar[str] = "saliency_training.json"
    model: str = SALNET        # or CONTRAST (the second model)
    parameters: int = 0
    output_size: list[int] = field(default_factory=list)
    validation_images: int = 0                     # what each epoch validated on (apart from the test images)
    front_end: str = ""                            # the second model's: which weights its frozen front end has

    @property
    def ceil_mode(self) -> bool:
        return self.spec.get("ceil_mode", False)

    def file_name(self) -> str:
        return self.file_for(self.model)

    @classmethod
    def file_for(cls, model: str) -> str:
        """``saliency_training.json`` for SalNet, ``saliency_training_<model>.json`` for another model."""
        return cls.FILE if model == SALNET else f"saliency_training_{model}.json"


@dataclass(kw_only=True)
class SaliencyEvaluation(Record):
    """Notebook 02's scores: the mean of every metric per model, overall and per category."""

    FILE: ClassVar[str] = "saliency_metrics.json"
    dataset: str
    checkpoint: str
    held_out_images: int
    jitter: bool
    seed: int
    centre_bias_sigma: list[float]
    epochs_trained: int
    epochs_planned: int
    overall: dict[str, dict[str, float]]             # model → metric → mean
    per_category: dict[str, dict[str, dict[str, float]]]  # model → category → metric → mean
    checkpoints: dict[str, str] = field(default_factory=dict)  # network → its checkpoint
    oracle: str = ""                                   # the oracle row's name, or why there is none
    sample_seed: int | None = None                     # the generated sample's seed, when scored on it
    no_learning: str = ""                              # the no-learning row: which map, and what chose it
    unfinished: dict[str, str] = field(default_factory=dict)  # network → "unfinished: 2 of 20 epochs", when scored so


@dataclass(kw_only=True)
class InversionLayer(TrainingFields, Record):
    """One decoder's run (notebooks 03–06, or notebook 07's comparison): the encoder and its weights,
    the decoder's training and the test scores. One file per encoder, layer and kind of weights."""

    encoder: str = "alexnet"
    layer: str = ""
    weights: str = ""          # what the figures and tables say about the encoder's weights
    weights_id: str = ""       # which weights they are, however they arrived
    pretrained: bool = False   # False: the seeded random weights
    scores: dict[str, float] = field(default_factory=dict)   # on the test images, after the last epoch
    validation_images: int = 0                     # what each epoch was checked on (0: a run before there were any)

    @property
    def kind(self) -> str:
        return "pretrained" if self.pretrained else "random"

    def file_name(self) -> str:
        return f"inversion_{self.encoder}_{self.layer}_{self.kind}.json"

    @staticmethod
    def files(encoder: str) -> list[Path]:
        return list(paths.metrics_dir().glob(f"inversion_{encoder}_*.json"))


@dataclass(kw_only=True)
class InversionSummary(Record):
    """Notebook 07's comparison of every trained layer on the same test images."""

    FILE: ClassVar[str] = "inversion_metrics.json"
    dataset: str
    weights: str
    weights_id: str
    WholeDataset: bool | int
    seed: int
    test_images: int
    layers: dict[str, dict[str, float]]    # layer → metric → value


@dataclass(kw_only=True)
class InversionComparison(Record):
    """Notebook 07's second part: decoders trained on a pretrained network and on the same network
    with random weights, depth by depth, beside the mean-image predictor."""

    FILE: ClassVar[str] = "inversion_comparison.json"
    dataset: str
    encoder: str
    layers: list[str]
    WholeDataset: bool | int
    seed: int
    test_images: int
    image_size: int
    mean_image: dict[str, float]                      # metric → value of predicting the training mean
    rows: dict[str, dict[str, dict[str, float]]]      # kind ("pretrained"/"random") → layer → metric → value
    weights: dict[str, str]                           # kind → description of the encoder's weights
    differences: dict[str, dict[str, float]] = field(default_factory=dict)   # layer → pretrained − random error


def write_table(name: str, table: pd.DataFrame, index: bool = True, comment: str = "") -> Path:
    """A table as ``report/metrics/<name>.csv`` (atomically), with an optional ``# comment`` line."""
    text = (f"# {comment}\n" if comment else "") + table.to_csv(index=index)
    path = outputs.check_may_write(paths.metrics_dir() / f"{name}.csv", paths.report_dir())
    return write_text_atomic(path, text)
