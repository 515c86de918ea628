"""Part 1's recipe: :func:`train` is what notebook 01, ``python -m helpers.train saliency|contrast`` and the tests
call — spec → data → network → :func:`helpers.training.fit` → a record after every epoch. Read it top to
bottom after :mod:`helpers.spec`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import torch
from torch import nn

from . import evaluation, identity
from .checkpoints import checkpoint_path
from .data import RunData, SaliencyDataset, check_saliency_items, make_loader, resolve_saliency_dataset, saliency_splits
from .models import CONTRAST, MODEL_NAMES, SALNET, ContrastSaliencyNet, SaliencyNet, count_parameters
from .notebooks import describe as named
from .parallel import per_rank_batch, rank_zero_first, start_process_group
from .profiles import TOKEN_RUN, profile_of
from .records import SaliencyTraining
from .spec import ContrastSpec, SaliencySpec
from .training import TrainingRun, fit, recipe_options, set_seed

SPEC_OF_MODEL = {SALNET: SaliencySpec, CONTRAST: ContrastSpec}


class SaliencyData(RunData):
    """Part 1's data of a run (:class:`helpers.data.RunData`): training, validation (what notebook 01
    validates on every epoch) and held-out test images (what notebook 02 scores), and the generated
    sample's version."""

    SPLITS = ("train", "held_out", "validation")

    def version(self) -> dict:
        """What identifies the generated sample beyond its files: its seed and version."""
        if self.name != "sample":
            return {}
        manifest = json.loads((self.root / "sample.json").read_text())
        return {"sample_seed": manifest["seed"], "sample_version": manifest["version"]}


def load_data(spec: SaliencySpec) -> SaliencyData:
    """The spec's data set and split; an empty split is refused, naming the folder and ``WholeDataset``."""
    name, root = resolve_saliency_dataset(spec.dataset, spec.data_dir, spec.require_real_data)
    train, validation, test = saliency_splits(name, root, spec.whole_dataset, spec.seed)
    data = SaliencyData(name, Path(root), train, test, validation)
    data.check_not_empty(spec.whole_dataset)
    check_saliency_items(data.train_items, data.validation_items + data.held_out_items)
    return data


def build_model(spec: SaliencySpec) -> nn.Module:
    """A fresh network of the spec's kind."""
    if spec.MODEL == CONTRAST:
        return ContrastSaliencyNet(spec.weights, spec.require_pretrained)
    return SaliencyNet(ceil_mode=spec.ceil_mode)


def trainable_part(model: nn.Module) -> nn.Module:
    """What training optimises and the checkpoint holds: SalNet whole, the second model's readout."""
    return model.trainable if isinstance(model, ContrastSaliencyNet) else model


class DistributionKL(nn.Module):
    """KL divergence between the ground-truth map and the prediction, each first made a
    distribution: shifted so its minimum is 0 and divided by its sum — the normalisation the MIT
    benchmark's KL gives a map scaled to [0, 1]. Inputs ``(B, 1, h, w)``; the mean over the batch."""

    def __init__(self, eps: float = 1e-7):
        super().__init__()
        self.eps = eps

    def distribution(self, maps: torch.Tensor) -> torch.Tensor:
        shifted = maps - maps.amin(dim=(-2, -1), keepdim=True)
        return shifted / (shifted.sum(dim=(-2, -1), keepdim=True) + self.eps)

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        p, q = self.distribution(prediction), self.distribution(target)
        return (q * torch.log(self.eps + q / (p + self.eps))).sum(dim=(-2, -1)).mean()


class Loss(NamedTuple):
    """One of Part 1's training losses: its module, and how tables and sentences name it."""

    module: type[nn.Module]
    short: str
    words: str


#: The losses ``LOSS`` names: Table 2's MSE, or the distributions' KL divergence.
LOSSES = {"mse": Loss(nn.MSELoss, "MSE", "MSE"), "kld": Loss(DistributionKL, "KL", "the KL divergence of the maps")}


def loss_function(spec: SaliencySpec) -> nn.Module:
    """The training loss the spec names (``LOSS``)."""
    return LOSSES[spec.loss].module()


def run_metadata(spec: SaliencySpec, data: SaliencyData, model: nn.Module) -> dict:
    """Everything besides the spec that makes a trained network what it is — the model, the data set
    and its fingerprint, the network's architecture, the front end's weights — which, with the spec's
    identity, names the checkpoint and is checked when it is loaded (:func:`helpers.checkpoints.run_identity`)."""
    meta = {"model": spec.MODEL, "dataset": data.name, **data.version(), "data": data.fingerprint(),
            "architecture": identity.digest(identity.architecture(trainable_part(model)))}
    if spec.MODEL == CONTRAST:
        meta["front_end_weights"] = model.weights_id
    return meta


def network_name(trained: dict) -> str:
    """How tables and figures name a loaded network (``trained``: :func:`load_saliency_model`'s
    settings): its model's name, and for the second model "(random front end)" when its frozen
    MobileNetV2 had random weights — a label follows the weights the checkpoint says it was trained on."""
    name = MODEL_NAMES[trained.get("model", SALNET)]
    if trained.get("model") == CONTRAST and "random" in trained.get("front_end_weights", ""):
        name += " (random front end)"
    if "spec" in trained and profile_of(trained["spec"], trained["spec"].PART) == "ci":   # smoke's, for the second model
        name += f" — {TOKEN_RUN}"
    return name


def name_of(spec: SaliencySpec, model: nn.Module) -> str:
    """:func:`network_name` of a network built from ``spec``, with the weights its front end has."""
    return network_name({"spec": spec, "model": spec.MODEL, "front_end_weights": getattr(model, "weights_id", "")})


@dataclass
class TrainedSaliency:
    """What :func:`train` returns: the network, its run and its data."""

    spec: SaliencySpec
    model: nn.Module
    run: TrainingRun
    data: SaliencyData
    train_set: SaliencyDataset
    validation_set: SaliencyDataset    # what each epoch was checked on (notebook 01 never reads the test images)

    @property
    def name(self) -> str:
        """As tables and figures name it, with its weights (:func:`network_name`)."""
        return name_of(self.spec, self.model)

    def summary(self) -> str:
        (h, w), (mh, mw) = self.spec.image_size, self.model.output_size(self.spec.image_size)
        run = self.run
        return (f"data: {self.data.name} ({self.data.root}); {len(self.data.train_items)} training, "
                f"{len(self.data.validation_items)} validation and {len(self.data.held_out_items)} test images "
                f"(the test images are checked for readability here, and scored in {named('saliency-evaluation')} only)\n"
                f"{self.name}: {count_parameters(trainable_part(self.model)):,} trained parameters; "
                f"input {h}×{w} → output {mh}×{mw}; loss {self.spec.loss}\n"
                f"checkpoint: {run.checkpoint}\nlowest train loss {min(run.train_loss):.4f}, "
                f"lowest validation loss {min(run.val_loss):.4f}")


def train(spec: SaliencySpec, *, device: str = "auto", retrain: bool = False, num_workers: int = 0,
          checkpoint_every: str | None = None, progress: bool = True) -> TrainedSaliency:
    """Train the network ``spec`` describes (or load its finished run, or resume it) and keep its record;
    under ``torchrun``, data-parallel. ``checkpoint_every`` (``"200"`` steps or ``"10m"``) adds checkpoints
    within epochs."""
    device = start_process_group(device)
    if progress and device.type == "cpu" and (note := smoke_is_lighter(spec)):
        print(note, flush=True)
    set_seed(spec.seed)  # the initial weights
    data, model = rank_zero_first(lambda: load_data(spec)), build_model(spec)
    map_size = model.output_size(spec.image_size)
    train_set = SaliencyDataset(data.train_items, spec.image_size, map_size)
    validation_set = SaliencyDataset(data.validation_items, spec.image_size, map_size)
    validation_loader = make_loader(validation_set, spec.batch_size, num_workers=num_workers)
    metadata = run_metadata(spec, data, model)
    checkpoint = _checkpoint_of(spec, data, metadata)
    options = recipe_options(data, trainable_part(model), checkpoint, device=device, retrain=retrain,
                             checkpoint_every=checkpoint_every, progress=progress)
    train_loader = make_loader(train_set, per_rank_batch(spec.batch_size), shuffle=True, seed=spec.seed,
                               num_workers=num_workers)
    run = fit(model, train_loader, validation_loader, spec, checkpoint, loss_fn=loss_function(spec),
              metadata=metadata, name=name_of(spec, model), on_save=lambda run: record_training(run, spec, model, data),
              held_out_scores=evaluation.HeldOutScorer(data.validation_items, validation_loader, device), **options)
    return TrainedSaliency(spec, model, run, data, train_set, validation_set)


def smoke_is_lighter(spec: SaliencySpec) -> str:
    """What a CPU run says of images larger than the smoke profile's (the cost of every step grows with
    their pixels): that the run takes hours there, and what the smoke profile trains instead; "" else."""
    smoke = type(spec).from_values({}, "smoke", report=None)
    (height, width), (smoke_height, smoke_width) = spec.image_size, smoke.image_size
    if height * width <= smoke_height * smoke_width:
        return ""
    return (f"this is a CPU: {spec.epochs} epochs at {height}×{width} take hours here; PROFILE = 'smoke' "
            f"({smoke.epochs} epochs at {smoke_height}×{smoke_width} on the sample) trains in minutes")


def _checkpoint_of(spec: SaliencySpec, data: SaliencyData, metadata: dict) -> Path:
    return checkpoint_path("saliency" if spec.MODEL == SALNET else f"saliency_{spec.MODEL}", data.name,
                           spec, metadata)


def checkpoint_for(spec: SaliencySpec) -> Path:
    """The checkpoint :func:`train` writes for ``spec`` (named by its settings, data and network),
    without training: to read a run another process is still training, for instance."""
    set_seed(spec.seed)
    data, model = load_data(spec), build_model(spec)
    return _checkpoint_of(spec, data, run_metadata(spec, data, model))


def record_training(run: TrainingRun, spec: SaliencySpec, model: nn.Module, data: SaliencyData) -> SaliencyTraining:
    """Write notebook 01's record of one model (its spec, data, network and training) for notebook 02
    and the report."""
    record = SaliencyTraining(
        model=spec.MODEL, dataset=data.name, data_root=str(data.root), spec=spec.as_dict(), metadata=run.metadata,
        checkpoint=str(run.checkpoint), train_images=len(data.train_items),
        validation_images=len(data.validation_items), held_out_images=len(data.held_out_items), history=run.history,
        epochs_trained=len(run.history), epochs_planned=run.epochs_planned,
        parameters=count_parameters(trainable_part(model)), output_size=list(model.output_size(spec.image_size)),
        front_end=getattr(model, "weights_description", ""))
    record.write()
    return record
