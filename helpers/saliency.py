"""Part 1's recipe: train a saliency network from its spec, record it, and load it back.

:func:`train` is what notebook 01, ``python -m helpers.train saliency|contrast`` and the tests
call: spec (:class:`helpers.spec.SaliencySpec` for the halved SalNet of Table 1,
:class:`helpers.spec.ContrastSpec` for the second model) → data → network → :func:`helpers.training.fit`
into the checkpoint named by the run's identity (the spec's identity, the data's fingerprint, the
network's architecture) → a :class:`helpers.records.SaliencyTraining` record after every epoch.
Notebook 02 finds the models through those records (:func:`trained_checkpoint`) and rebuilds the
network and the held-out images from what the checkpoint stores (:func:`load_saliency_model`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.ndimage import gaussian_filter
from torch import nn

from . import evaluation, identity, paths
from .data import (RunData, SaliencyDataset, check_saliency_items, make_loader, resolve_saliency_dataset,
                   saliency_splits)
from .data.fingerprints import check_trained_on
from .data import load_ground_truth
from .notebooks import describe as named
from .metrics import centre_bias_map, fit_centre_bias, mit_blur_sigma
from .models import CONTRAST, MODEL_NAMES, SALNET, ContrastSaliencyNet, SaliencyNet, count_parameters
from .parallel import check_nproc, per_rank_batch, rank_zero_first, select_device, start_process_group
from .records import SaliencyTraining, write_table
from .spec import ContrastSpec, SaliencySpec
from .checkpoints import ArchitectureMismatchError, check_architecture, checkpoint_path, read_checkpoint, run_identity
from .parallel import HowToRun
from .training import TrainingRun, fit, predict, set_seed

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


#: How tables name each training loss.
LOSS_NAMES = {"mse": "MSE", "kld": "KL"}


def loss_function(spec: SaliencySpec) -> nn.Module:
    """The training loss the spec names (``LOSS``): Table 2's MSE, or the distributions' KL divergence."""
    return DistributionKL() if spec.loss == "kld" else nn.MSELoss()


def run_metadata(spec: SaliencySpec, data: SaliencyData, model: nn.Module) -> dict:
    """Everything besides the spec that makes a trained network what it is — the model, the data set
    and its fingerprint, the network's architecture, the front end's weights — which, with the spec's
    identity, names the checkpoint and is checked when it is loaded (:func:`helpers.checkpoints.run_identity`)."""
    meta = {"model": spec.MODEL, "dataset": data.name, **data.version(), "data": data.fingerprint(),
            "architecture": identity.digest(identity.architecture(trainable_part(model)))}
    if spec.MODEL == CONTRAST:
        meta["front_end_weights"] = model.weights_id
    return meta


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
        return network_name({"model": self.spec.MODEL, "front_end_weights": getattr(self.model, "weights_id", "")})

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


def train(spec: SaliencySpec, *, device: str = "auto", nproc: int = 1, retrain: bool = False, num_workers: int = 0,
          checkpoint_every: str | None = None, progress: bool = True) -> TrainedSaliency:
    """Train the network ``spec`` describes (or load its finished run, or resume it) and keep its record.

    ``nproc`` > 1 trains with that many processes under ``torchrun`` first (:func:`helpers.parallel.launch`),
    then loads what they left; ``checkpoint_every`` (``"200"`` steps or ``"10m"``) adds checkpoints
    within epochs."""
    device = start_process_group(device)
    check_nproc(nproc, device)
    if progress and device.type == "cpu" and smoke_is_lighter(spec):
        print(smoke_is_lighter(spec), flush=True)
    set_seed(spec.seed)  # the initial weights
    data, model = rank_zero_first(lambda: load_data(spec)), build_model(spec)
    map_size = model.output_size(spec.image_size)
    train_set = SaliencyDataset(data.train_items, spec.image_size, map_size)
    validation_set = SaliencyDataset(data.validation_items, spec.image_size, map_size)
    validation_loader = make_loader(validation_set, spec.batch_size, num_workers=num_workers)
    metadata = run_metadata(spec, data, model)
    checkpoint = _checkpoint_of(spec, data, metadata)
    how = HowToRun(device, nproc, retrain, num_workers, checkpoint_every, progress)
    options = how.fit_options(spec, data, trainable_part(model), checkpoint)
    train_loader = make_loader(train_set, per_rank_batch(spec.batch_size), shuffle=True, seed=spec.seed,
                               num_workers=num_workers)
    run = fit(model, train_loader, validation_loader, spec, checkpoint, loss_fn=loss_function(spec),
              metadata=metadata, on_save=lambda run: record_training(run, spec, model, data),
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
        model=spec.MODEL, dataset=data.name, data_root=str(data.root), WholeDataset=spec.whole_dataset,
        seed=spec.seed, checkpoint=str(run.checkpoint), train_images=len(data.train_items),
        validation_images=len(data.validation_items), held_out_images=len(data.held_out_items), history=run.history,
        epochs_trained=len(run.history), epochs_planned=run.epochs_planned,
        parameters=count_parameters(trainable_part(model)), image_size=list(spec.image_size),
        output_size=list(model.output_size(spec.image_size)), ceil_mode=spec.ceil_mode, spec=spec.as_dict(),
        identity=run_identity(spec, run.metadata), front_end=getattr(model, "weights_description", ""))
    record.write()
    return record


def trained_checkpoint(checkpoint: str | Path = "", model: str = SALNET) -> Path:
    """The saliency network to score: ``checkpoint`` when given, else the one of kind ``model`` that
    notebook 01 trained last — as its record says, or, without a record (``make clean`` removes
    them), the newest finished checkpoint of that kind, whose record is rebuilt from it."""
    if checkpoint:
        return Path(checkpoint)
    record = training_record(model)
    if record is None:
        raise FileNotFoundError(f"no trained {MODEL_NAMES[model]}: neither a record in {paths.metrics_dir()} nor a "
                                f"finished checkpoint in {paths.checkpoint_dir()}; run {named('saliency-training')} "
                                "first, or set CHECKPOINT")
    return Path(record.checkpoint)


def training_record(model: str = SALNET) -> SaliencyTraining | None:
    """Notebook 01's record of ``model``; when it is gone, the one rebuilt from the newest finished
    checkpoint of that kind (a checkpoint carries its spec, identity and history) and written again."""
    record = SaliencyTraining.read(SaliencyTraining.file_for(model))
    if record is not None:
        return record
    prefix = "saliency_" if model == SALNET else f"saliency_{model}_"
    candidates = sorted((p for p in paths.checkpoint_dir().glob(f"{prefix}*.pt") if ".replaced-" not in p.name
                         and (model != SALNET or not p.name.startswith("saliency_contrast_"))),
                        key=lambda p: p.stat().st_mtime, reverse=True)
    for path in candidates:
        state = read_checkpoint(path)
        if "spec" in state and state["epoch"] >= state.get("epochs_planned", state["epoch"]):
            print(f"no record of the {MODEL_NAMES[model]} in {paths.metrics_dir()}: rebuilt it from {path.name}")
            return record_from_checkpoint(path, state)
    return None


def record_from_checkpoint(path: Path, state: dict) -> SaliencyTraining:
    """Notebook 01's record of a run, from its checkpoint alone (and written)."""
    spec = SPEC_OF_MODEL[state["metadata"]["model"]].from_stored(state["spec"])
    model = build_model(spec)
    run = TrainingRun(epochs_planned=state.get("epochs_planned", state["epoch"]), history=state["history"],
                      checkpoint=path, metadata=state["metadata"])
    images = state["metadata"]["data"]["images"]
    data = SaliencyData(state["metadata"]["dataset"], Path(state.get("data_folder", "")),
                        [None] * images["train"], [None] * images["held_out"], [None] * images.get("validation", 0))
    return record_training(run, spec, model, data)


def load_saliency_model(checkpoint: str | Path, device: torch.device | str = "cpu") -> tuple[nn.Module, dict]:
    """A network trained by notebook 01 (of either kind), rebuilt from the spec its checkpoint
    stores, and the settings it was trained with (``dataset``, ``WholeDataset``, ``seed``,
    ``image_size``, ``epochs_trained``, ``split_files`` ...). A network the code now builds
    differently is refused, saying what differs (:func:`helpers.checkpoints.check_architecture`)."""
    checkpoint = Path(checkpoint)
    if not checkpoint.is_file():
        raise FileNotFoundError(f"{checkpoint}: no trained saliency network; run {named('saliency-training')} "
                                "first (with the same DATASET)")
    state = read_checkpoint(checkpoint)
    meta = state["metadata"]
    retrain = f"train it again with {named('saliency-training')}"
    if "spec" not in state:
        raise ArchitectureMismatchError(f"{checkpoint}: trained by an earlier version of this project (no spec stored); "
                                        f"{retrain} (it is kept as it is)")
    spec = SPEC_OF_MODEL[meta["model"]].from_stored(state["spec"])
    model = build_model(spec)
    check_architecture(checkpoint, state, trainable_part(model), retrain)
    if meta["model"] == CONTRAST and model.weights_id != meta["front_end_weights"]:
        raise ArchitectureMismatchError(f"{checkpoint}: its readout was trained on the front end "
                                        f"{meta['front_end_weights']!r}, but {model.weights_id!r} is what is here")
    trainable_part(model).load_state_dict(state["model"])
    info = {**spec.as_dict(), **meta, "WholeDataset": spec.whole_dataset, "image_size": list(spec.image_size),
            "spec": spec, "epochs_trained": state["epoch"], "epochs_planned": state.get("epochs_planned", state["epoch"]),
            "split_files": state.get("split_files")}
    return model.to(device).eval(), info


def trained_split(trained: dict, data_dir: str | Path = "", checkpoint: str | Path = "") -> SaliencyData:
    """The split a loaded network (:func:`load_saliency_model`'s settings) was trained, validated and
    tested on, rebuilt from its data set's folder (``data_dir``, else its default) and checked against
    the files its checkpoint stores: an image added, removed, moved between splits or replaced — by
    content — is refused, naming the files (:class:`helpers.data.fingerprints.SplitChangedError`), so
    nothing is scored as "test" that the network trained on. A checkpoint written before the files
    were stored is checked by its fingerprint of paths and sizes."""
    name, root = resolve_saliency_dataset(trained["dataset"], data_dir)
    train, validation, test = saliency_splits(name, root, trained["WholeDataset"], trained["seed"])
    data = SaliencyData(name, Path(root), train, test, validation)
    check_trained_on(data, trained.get("split_files"), trained.get("data"), checkpoint)
    return data


def network_name(trained: dict) -> str:
    """How tables and figures name a loaded network (``trained``: :func:`load_saliency_model`'s
    settings): its model's name, and for the second model "(random front end)" when its frozen
    MobileNetV2 had random weights — a label follows the weights the checkpoint says it was trained on."""
    name = MODEL_NAMES[trained.get("model", SALNET)]
    if trained.get("model") == CONTRAST and "random" in trained.get("front_end_weights", ""):
        name += " (random front end)"
    return name


#: What two networks must share for notebook 02 to score them on the same held-out images.
SAME_SPLIT = ("dataset", "sample_seed", "WholeDataset", "seed", "data")


def second_model_for(trained: dict, device: torch.device | str = "cpu",
                     allow_unfinished: bool = True) -> "TrainedNetwork | None":
    """The second model notebook 01 trained last (:class:`TrainedNetwork`) when it was trained on the
    same split as ``trained``; else ``None``, printing why."""
    record = training_record(CONTRAST)
    if record is None or not Path(record.checkpoint).is_file():
        print(f"no second model to score: {named('saliency-training')} has not trained one (SECOND_MODEL = False?)")
        return None
    network, info = load_saliency_model(record.checkpoint, device)
    differs = [name for name in SAME_SPLIT if info.get(name) != trained.get(name)]
    if info.get("split_files") is not None and trained.get("split_files") is not None \
            and info["split_files"] != trained["split_files"]:
        differs.append("split_files")  # the same names and sizes, other contents
    if differs:
        print(f"the second model ({Path(record.checkpoint).name}) is not scored: it was trained on another split "
              f"({', '.join(f'{n} {info.get(n)!r} against {trained.get(n)!r}' for n in differs)}); "
              f"run {named('saliency-training')} again")
        return None
    note = check_finished(info, record.checkpoint, allow_unfinished)
    return TrainedNetwork(network, network_name(info), note, Path(record.checkpoint), info)


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
        raise UnfinishedModelError(f"{checkpoint}: the network is {note}. Run {named('saliency-training')} to the end (it resumes), "
                                   "or set ALLOW_UNFINISHED = True to score it as it is")
    print(f"NOTE: scoring a network that is {note}")
    return note



@dataclass
class TrainedNetwork:
    """A network notebook 01 trained, as notebook 02, the benchmarks and the report name and score it."""

    model: nn.Module
    name: str           # as tables and figures call it, with its weights ("… (random front end)")
    unfinished: str     # "" when its training finished, else a note such as "unfinished: 2 of 20 epochs"
    checkpoint: Path
    trained: dict       # the settings it was trained with (load_saliency_model)

    @property
    def image_size(self) -> list[int]:
        return self.trained["image_size"]

    @property
    def file_suffix(self) -> str:
        """How figure files tell the networks apart: "" for SalNet, "_second_model" for the other."""
        return "" if self.trained.get("model", SALNET) == SALNET else "_second_model"

    def describe(self) -> str:
        trained = self.trained
        return (f"{self.name}: {self.checkpoint.name}, {trained['epochs_trained']} of {trained['epochs_planned']} "
                f"epochs on {trained['dataset']}, input {trained['image_size']}"
                + (f" — {self.unfinished}" if self.unfinished else ""))


def load_network(checkpoint: str | Path, device: torch.device | str = "cpu", allow_unfinished: bool = True) -> TrainedNetwork:
    """The network in ``checkpoint`` (:func:`load_saliency_model`), named as its weights say
    (:func:`network_name`) and marked when unfinished (:func:`check_finished`, which refuses it unless
    ``allow_unfinished``)."""
    model, trained = load_saliency_model(checkpoint, device)
    note = check_finished(trained, checkpoint, allow_unfinished)
    return TrainedNetwork(model, network_name(trained), note, Path(checkpoint), trained)


def trained_networks(checkpoint: str | Path = "", second_model: bool = True, allow_unfinished: bool = False,
                     device: torch.device | str = "cpu") -> list[TrainedNetwork]:
    """The networks notebook 02 scores, SalNet first: ``checkpoint`` (default: the one notebook 01
    trained last) and — when ``second_model`` — the second model notebook 01 trained on the same
    split, if it did (else why not is printed). An unfinished network stops here unless
    ``allow_unfinished``, which marks it instead."""
    device = select_device(device)
    salnet = load_network(trained_checkpoint(checkpoint), device, allow_unfinished)
    networks = [salnet]
    second = second_model_for(salnet.trained, device, allow_unfinished) if second_model else None
    return networks + ([second] if second is not None else [])


# ---------------------------------------------------------------------------------------------
# Diagnosis: what the loss rewards, and where the network puts its output
# ---------------------------------------------------------------------------------------------

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
    loss_fn, loss = loss_function(trained.spec), LOSS_NAMES[trained.spec.loss]
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
