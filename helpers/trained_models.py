"""Finding and loading what notebook 01 trained: the networks notebook 02, the benchmarks and the
report score, each rebuilt from the spec its checkpoint stores and checked against the code that
builds it now, named as its weights say, and marked when its training did not finish."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from . import paths
from .checkpoints import CheckpointError, read_checkpoint
from .identity import ArchitectureMismatchError, check_architecture
from .data import resolve_saliency_dataset, saliency_splits
from .data.fingerprints import check_trained_on
from .models import CONTRAST, MODEL_NAMES, SALNET
from .notebooks import describe as named
from .parallel import select_device
from .records import SaliencyTraining
from .saliency import SPEC_OF_MODEL, SaliencyData, build_model, network_name, record_training, trainable_part
from .training import TrainingRun


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
        try:
            state = read_checkpoint(path)
        except CheckpointError:   # a file of the user's that happens to share the prefix: not a run of ours
            continue
        if state["epoch"] >= state["epochs_planned"]:
            print(f"no record of the {MODEL_NAMES[model]} in {paths.metrics_dir()}: rebuilt it from {path.name}")
            return record_from_checkpoint(path, state)
    return None


def record_from_checkpoint(path: Path, state: dict) -> SaliencyTraining:
    """Notebook 01's record of a run, from its checkpoint alone (and written)."""
    spec = SPEC_OF_MODEL[state["metadata"]["model"]].from_stored(state["spec"])
    model = build_model(spec)
    run = TrainingRun(epochs_planned=state["epochs_planned"], history=state["history"],
                      checkpoint=path, metadata=state["metadata"])
    images = state["metadata"]["data"]["images"]
    data = SaliencyData(state["metadata"]["dataset"], Path(state.get("data_folder", "")),
                        [None] * images["train"], [None] * images["held_out"], [None] * images.get("validation", 0))
    return record_training(run, spec, model, data)


def load_saliency_model(checkpoint: str | Path, device: torch.device | str = "cpu") -> tuple[nn.Module, dict]:
    """A network trained by notebook 01 (of either kind), rebuilt from the spec its checkpoint
    stores, and the settings it was trained with (``dataset``, ``WholeDataset``, ``seed``,
    ``image_size``, ``epochs_trained``, ``split_files`` ...). A network the code now builds
    differently is refused, saying what differs (:func:`helpers.identity.check_architecture`)."""
    checkpoint = Path(checkpoint)
    if not checkpoint.is_file():
        raise FileNotFoundError(f"{checkpoint}: no trained saliency network; run {named('saliency-training')} "
                                "first (with the same DATASET)")
    state = read_checkpoint(checkpoint)
    meta = state["metadata"]
    retrain = f"train it again with {named('saliency-training')}"
    spec = SPEC_OF_MODEL[meta["model"]].from_stored(state["spec"])
    model = build_model(spec)
    check_architecture(checkpoint, state, trainable_part(model), retrain)
    if meta["model"] == CONTRAST and model.weights_id != meta["front_end_weights"]:
        raise ArchitectureMismatchError(f"{checkpoint}: its readout was trained on the front end "
                                        f"{meta['front_end_weights']!r}, but {model.weights_id!r} is what is here")
    trainable_part(model).load_state_dict(state["model"])
    info = {**spec.as_dict(), **meta, "WholeDataset": spec.whole_dataset, "image_size": list(spec.image_size),
            "spec": spec, "epochs_trained": state["epoch"], "epochs_planned": state["epochs_planned"],
            "split_files": state.get("split_files")}
    return model.to(device).eval(), info


def trained_split(trained: dict, data_dir: str | Path = "", checkpoint: str | Path = "") -> SaliencyData:
    """The split a loaded network (:func:`load_saliency_model`'s settings) was trained, validated and
    tested on, rebuilt from its data set's folder (``data_dir``, else its default) and checked against
    the files its checkpoint stores: an image added, removed, moved between splits or replaced — by
    content — is refused, naming the files (:class:`helpers.data.fingerprints.SplitChangedError`), so
    nothing is scored as "test" that the network trained on."""
    name, root = resolve_saliency_dataset(trained["dataset"], data_dir)
    train, validation, test = saliency_splits(name, root, trained["WholeDataset"], trained["seed"])
    data = SaliencyData(name, Path(root), train, test, validation)
    check_trained_on(data, trained.get("split_files"), trained.get("data"), checkpoint)
    return data


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
