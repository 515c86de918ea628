"""The records the notebooks leave in ``report/metrics/``: one class per file, one writer and one reader.

=====================  ==========================  ==============================================
record                 file                        written by → read by
=====================  ==========================  ==============================================
``SaliencyTraining``   ``saliency_training.json``  notebook 01 → notebook 02 (which model), report
``SaliencyEvaluation`` ``saliency_metrics.json``   notebook 02 → report
``InversionLayer``     ``inversion_<layer>.json``  notebooks 03–06 → notebook 07 (which decoders), report
``InversionSummary``   ``inversion_metrics.json``  notebook 07 → report
=====================  ==========================  ==============================================

The fields of each class are the file's schema; :meth:`Record.read` refuses a file that does not
have them (written by an older version, or by hand) with a message naming it.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import pandas as pd

from . import paths
from .io import write_json_atomic, write_text_atomic


class RecordError(ValueError):
    """A record file is not in the expected format (the message names it)."""


@dataclass
class Record:
    """A JSON file in the metrics folder whose fields are this dataclass's."""

    FILE: ClassVar[str] = ""

    def file_name(self) -> str:
        return self.FILE

    def write(self) -> Path:
        """Write the record atomically into the metrics folder; return its path."""
        return write_json_atomic(paths.ensure(paths.metrics_dir()) / self.file_name(), dataclasses.asdict(self))

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


@dataclass
class TrainingFields:
    """What every trained model's record carries (see :func:`helpers.training.fit`)."""

    dataset: str
    data_root: str
    WholeDataset: bool | int
    seed: int
    checkpoint: str
    train_images: int
    held_out_images: int
    config: dict
    history: list[dict]
    epochs_trained: int

    @property
    def lowest_train_loss(self) -> float:
        return min(row["train_loss"] for row in self.history)

    @property
    def lowest_val_loss(self) -> float:
        return min(row["val_loss"] for row in self.history)


@dataclass
class SaliencyTraining(TrainingFields, Record):
    """Notebook 01's run: the data, the network and its training."""

    FILE: ClassVar[str] = "saliency_training.json"
    parameters: int = 0
    image_size: list[int] = field(default_factory=list)
    output_size: list[int] = field(default_factory=list)
    ceil_mode: bool = False


@dataclass
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
    overall: dict[str, dict[str, float]]             # model → metric → mean
    per_category: dict[str, dict[str, dict[str, float]]]  # model → category → metric → mean


@dataclass
class InversionLayer(TrainingFields, Record):
    """One layer notebook's run (03–06): the decoder, the encoder's weights and the test scores."""

    layer: str = ""
    weights: str = ""          # what the figures and tables say about the encoder's weights
    weights_id: str = ""       # which weights they are, however they arrived
    image_size: int = 227
    scores: dict[str, float] = field(default_factory=dict)

    def file_name(self) -> str:
        return self.file_for(self.layer)

    @staticmethod
    def file_for(layer: str) -> str:
        return f"inversion_{layer}.json"

    @classmethod
    def read_layer(cls, layer: str) -> "InversionLayer | None":
        return cls.read(cls.file_for(layer))


@dataclass
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


def write_table(name: str, table: pd.DataFrame, index: bool = True, comment: str = "") -> Path:
    """A table as ``report/metrics/<name>.csv`` (atomically), with an optional ``# comment`` line."""
    text = (f"# {comment}\n" if comment else "") + table.to_csv(index=index)
    return write_text_atomic(paths.ensure(paths.metrics_dir()) / f"{name}.csv", text)
