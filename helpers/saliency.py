"""Part 1 glue: where the saliency network's checkpoint lives, the record of its training, and loading it.

Notebook 01 trains into :func:`checkpoint_for` (named by the data set and every setting, so two
configurations never share a file) and leaves a :class:`helpers.records.SaliencyTraining` record;
notebook 02 finds the network through that record (:func:`trained_checkpoint`) and rebuilds the
held-out images from the settings stored in the checkpoint.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import torch

from . import paths
from .models import SaliencyNet, count_parameters
from .records import SaliencyTraining
from .training import TrainingConfig, TrainingRun, checkpoint_path, config_record, read_checkpoint


def run_metadata(dataset: str, WholeDataset: bool | int, image_size: Sequence[int], ceil_mode: bool) -> dict:
    """What, besides the training settings, defines a trained saliency network (stored in its checkpoint)."""
    return {"dataset": dataset, "WholeDataset": WholeDataset, "image_size": list(image_size), "ceil_mode": ceil_mode}


def checkpoint_for(config: TrainingConfig, metadata: dict) -> Path:
    """The checkpoint of the saliency network with these settings."""
    return checkpoint_path("saliency", metadata["dataset"], config, metadata)


def recorder(model: SaliencyNet, config: TrainingConfig, data_root: str | Path, train_images: int,
             held_out_images: int) -> Callable[[TrainingRun], SaliencyTraining]:
    """``fit``'s ``on_save``: rewrite notebook 01's record after every checkpoint, so the record always
    says how far the checkpoint got."""
    return lambda run: record_training(run, model, config, data_root, train_images, held_out_images)


def record_training(run: TrainingRun, model: SaliencyNet, config: TrainingConfig, data_root: str | Path,
                    train_images: int, held_out_images: int) -> SaliencyTraining:
    """Write notebook 01's record (the run, its data and its network) for notebook 02 and the report."""
    meta = run.metadata
    record = SaliencyTraining(
        dataset=meta["dataset"], data_root=str(data_root), WholeDataset=meta["WholeDataset"], seed=config.seed,
        checkpoint=str(run.checkpoint), train_images=train_images, held_out_images=held_out_images,
        config=config_record(config), history=run.history,
        epochs_trained=len(run.history), epochs_planned=run.epochs_planned, parameters=count_parameters(model), image_size=meta["image_size"],
        output_size=list(model.output_size(tuple(meta["image_size"]))), ceil_mode=meta["ceil_mode"])
    record.write()
    return record


def trained_checkpoint(checkpoint: str | Path = "") -> Path:
    """The saliency network to score: ``checkpoint`` when given, else the one notebook 01 trained last
    (as its record says)."""
    if checkpoint:
        return Path(checkpoint)
    record = SaliencyTraining.read()
    if record is None:
        raise FileNotFoundError(f"{paths.metrics_dir() / SaliencyTraining.FILE}: no record of a trained saliency "
                                "network; run notebook 01_saliency_model.ipynb first, or set CHECKPOINT")
    return Path(record.checkpoint)


def load_saliency_model(checkpoint: str | Path, device: torch.device | str = "cpu") -> tuple[SaliencyNet, dict]:
    """The network trained by notebook 01 and the settings it was trained with (its training settings
    and ``metadata``: data set, ``WholeDataset``, input size ...; plus ``epochs_trained``)."""
    checkpoint = Path(checkpoint)
    if not checkpoint.is_file():
        raise FileNotFoundError(f"{checkpoint}: no trained saliency network; run notebook "
                                "01_saliency_model.ipynb first (with the same DATASET)")
    state = read_checkpoint(checkpoint)
    model = SaliencyNet(ceil_mode=state["metadata"].get("ceil_mode", False))
    model.load_state_dict(state["model"])
    return model.to(device).eval(), {**state["config"], **state["metadata"], "epochs_trained": state["epoch"],
                                     "epochs_planned": state.get("epochs_planned", state["epoch"])}


class UnfinishedModelError(RuntimeError):
    """The network to score stopped before the end of its training (the message says how far it got)."""


def check_finished(trained: dict, checkpoint: str | Path, allow_unfinished: bool = False) -> str:
    """``""`` for a finished network, else a note such as ``"unfinished: 2 of 20 epochs"`` — printed,
    and stored with the scores — when ``allow_unfinished``; otherwise an :class:`UnfinishedModelError`."""
    done, planned = trained["epochs_trained"], trained["epochs_planned"]
    if done >= planned:
        return ""
    note = f"unfinished: {done} of {planned} epochs"
    if not allow_unfinished:
        raise UnfinishedModelError(f"{checkpoint}: the network is {note}. Run notebook 01 to the end (it resumes), "
                                   "or set ALLOW_UNFINISHED = True to score it as it is")
    print(f"NOTE: scoring a network that is {note}")
    return note


