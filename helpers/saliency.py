"""Part 1 glue: the two saliency models, their checkpoints, the records of their training, loading them.

Notebook 01 trains the assignment's network (:data:`SALNET`, the halved SalNet of Table 1) and a
second model (:data:`CONTRAST`, a frozen ImageNet front end with a contrast readout) into
:func:`checkpoint_for` (named by the model, the data set and every setting, so two configurations
never share a file), leaving a :class:`helpers.records.SaliencyTraining` record for each; notebook
02 finds them through those records (:func:`trained_checkpoint`) and rebuilds the held-out images
from the settings stored in the checkpoints.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

from . import paths
from .models import ContrastSaliencyNet, SaliencyNet, count_parameters
from .records import SaliencyTraining, write_table
from .training import TrainingConfig, TrainingRun, checkpoint_path, config_record, read_checkpoint

#: The two models: the assignment's network and the second model, by key and by the name tables use.
SALNET, CONTRAST = "salnet", "contrast"
MODEL_NAMES = {SALNET: "SalNet (half)", CONTRAST: "MobileNetV2 + contrast readout"}
#: The second model's recipe: Adam at 1e-3 on batches of 8, the rate ×0.1 after 10 epochs. Only
#: its readout (56 k weights) learns, so it takes a learning rate SalNet's 2.6 M could not.
CONTRAST_TRAINING = TrainingConfig(epochs=20, batch_size=8, optimizer="adam", lr=1e-3, step_size=10)


def build_model(model: str = SALNET, ceil_mode: bool = False, weights: str = "",
                require_pretrained: bool = False) -> nn.Module:
    """A fresh network of either kind (``weights``: the second model's front end, as
    :func:`helpers.weights.resolve` takes them)."""
    if model == SALNET:
        return SaliencyNet(ceil_mode=ceil_mode)
    if model == CONTRAST:
        return ContrastSaliencyNet(weights, require_pretrained)
    raise ValueError(f"model must be one of {sorted(MODEL_NAMES)}, got {model!r}")


def trainable_part(model: nn.Module) -> nn.Module:
    """What training optimises and the checkpoint holds: SalNet whole, the second model's readout."""
    return model.trainable if isinstance(model, ContrastSaliencyNet) else model


def data_version(dataset: str, data_root: str | Path) -> dict:
    """What identifies the data beyond their name: for the generated sample, its seed and version
    (``SAMPLE_SEED`` makes another sample, and a model trained on one is not the other's)."""
    if dataset != "sample":
        return {}
    manifest = json.loads((Path(data_root) / "sample.json").read_text())
    return {"sample_seed": manifest["seed"], "sample_version": manifest["version"]}


def run_metadata(dataset: str, data_root: str | Path, WholeDataset: bool | int, image_size: Sequence[int],
                 model: nn.Module) -> dict:
    """What, besides the training settings, defines a trained saliency network (stored in its checkpoint)."""
    kind = CONTRAST if isinstance(model, ContrastSaliencyNet) else SALNET
    meta = {"model": kind, "dataset": dataset, **data_version(dataset, data_root), "WholeDataset": WholeDataset,
            "image_size": list(image_size)}
    if kind == SALNET:
        meta["ceil_mode"] = model.ceil_mode
    else:
        meta["front_end_weights"] = model.weights_id
    return meta


def checkpoint_for(config: TrainingConfig, metadata: dict) -> Path:
    """The checkpoint of the saliency network with these settings."""
    kind = "saliency" if metadata["model"] == SALNET else f"saliency_{metadata['model']}"
    return checkpoint_path(kind, metadata["dataset"], config, metadata)


def recorder(model: nn.Module, config: TrainingConfig, data_root: str | Path, train_images: int,
             held_out_images: int) -> Callable[[TrainingRun], SaliencyTraining]:
    """``fit``'s ``on_save``: rewrite notebook 01's record after every checkpoint, so the record always
    says how far the checkpoint got."""
    return lambda run: record_training(run, model, config, data_root, train_images, held_out_images)


def record_training(run: TrainingRun, model: nn.Module, config: TrainingConfig, data_root: str | Path,
                    train_images: int, held_out_images: int) -> SaliencyTraining:
    """Write notebook 01's record of one model (the run, its data and its network) for notebook 02
    and the report."""
    meta = run.metadata
    record = SaliencyTraining(
        model=meta["model"], dataset=meta["dataset"], data_root=str(data_root), WholeDataset=meta["WholeDataset"],
        seed=config.seed, checkpoint=str(run.checkpoint), train_images=train_images, held_out_images=held_out_images,
        config=config_record(config), history=run.history, epochs_trained=len(run.history),
        epochs_planned=run.epochs_planned, parameters=count_parameters(trainable_part(model)),
        image_size=meta["image_size"], output_size=list(model.output_size(tuple(meta["image_size"]))),
        ceil_mode=meta.get("ceil_mode", False))
    record.write()
    return record


def trained_checkpoint(checkpoint: str | Path = "", model: str = SALNET) -> Path:
    """The saliency network to score: ``checkpoint`` when given, else the one of kind ``model`` that
    notebook 01 trained last (as its record says)."""
    if checkpoint:
        return Path(checkpoint)
    record = SaliencyTraining.read(SaliencyTraining.file_for(model))
    if record is None:
        raise FileNotFoundError(f"{paths.metrics_dir() / SaliencyTraining.file_for(model)}: no record of a trained "
                                f"{MODEL_NAMES[model]}; run notebook 01_saliency_model.ipynb first, or set CHECKPOINT")
    return Path(record.checkpoint)


def load_saliency_model(checkpoint: str | Path, device: torch.device | str = "cpu") -> tuple[nn.Module, dict]:
    """A network trained by notebook 01 (of either kind) and the settings it was trained with (its
    training settings and ``metadata``: model, data set, ``WholeDataset``, input size ...; plus
    ``epochs_trained``)."""
    checkpoint = Path(checkpoint)
    if not checkpoint.is_file():
        raise FileNotFoundError(f"{checkpoint}: no trained saliency network; run notebook "
                                "01_saliency_model.ipynb first (with the same DATASET)")
    state = read_checkpoint(checkpoint)
    meta = {"model": SALNET, **state["metadata"]}
    pretrained_front_end = meta["model"] == CONTRAST and meta["front_end_weights"] != "mobilenet_v2: random"
    model = build_model(meta["model"], meta.get("ceil_mode", False),
                        weights="" if pretrained_front_end else "random", require_pretrained=pretrained_front_end)
    if meta["model"] == CONTRAST and model.weights_id != meta["front_end_weights"]:
        raise RuntimeError(f"{checkpoint}: its readout was trained on the front end {meta['front_end_weights']!r}, "
                           f"but {model.weights_id!r} is what is here")
    trainable_part(model).load_state_dict(state["model"])
    return model.to(device).eval(), {**state["config"], **meta, "epochs_trained": state["epoch"],
                                     "epochs_planned": state.get("epochs_planned", state["epoch"])}


#: What two networks must share for notebook 02 to score them on the same held-out images.
SAME_SPLIT = ("dataset", "sample_seed", "WholeDataset", "seed")


def second_model_for(trained: dict, device: torch.device | str = "cpu") -> tuple[nn.Module, dict, Path] | None:
    """The second model notebook 01 trained last — ``(network, settings, checkpoint)`` as
    :func:`load_saliency_model` gives them — when it was trained on the same split as ``trained``;
    else ``None``, printing why."""
    record = SaliencyTraining.read(SaliencyTraining.file_for(CONTRAST))
    if record is None or not Path(record.checkpoint).is_file():
        print("no second model to score: notebook 01 has not trained one (SECOND_MODEL = False?)")
        return None
    network, info = load_saliency_model(record.checkpoint, device)
    differs = [name for name in SAME_SPLIT if info.get(name) != trained.get(name)]
    if differs:
        print(f"the second model ({Path(record.checkpoint).name}) is not scored: it was trained on another split "
              f"({', '.join(f'{n} {info.get(n)!r} against {trained.get(n)!r}' for n in differs)}); run notebook 01 again")
        return None
    return network, info, Path(record.checkpoint)


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


# ---------------------------------------------------------------------------------------------
# Diagnosis: what the loss rewards, and where the network puts its output
# ---------------------------------------------------------------------------------------------

def trivial_map_losses(train_maps: torch.Tensor, held_out_maps: torch.Tensor,
                       centre_sigma: tuple[float, float]) -> dict[str, float]:
    """The held-out MSE (the training loss) of maps that look at no image: all background (−1, the
    value of an empty map), the mean training map, and the centre-bias Gaussian (scaled to [−1, 1])."""
    from .metrics import centre_bias_map

    shape = tuple(held_out_maps.shape[-2:])
    centre = torch.as_tensor(centre_bias_map(shape, centre_sigma), dtype=held_out_maps.dtype) * 2 - 1
    candidates = {"all background": torch.full(shape, -1.0), "mean training map": train_maps.mean(0)[0],
                  "centre bias": centre}
    return {name: float(((held_out_maps - m) ** 2).mean()) for name, m in candidates.items()}


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


def diagnose(model: nn.Module, train_set, held_out_set, train_items, device="cpu"):
    """Notebook 01's diagnosis of a trained network on its held-out images, as one table: the MSE of
    maps that ignore the image beside the network's, how concentrated the ground-truth maps are
    (with their own blur and with the MIT benchmark's), and the frame-edge ratio of the predictions
    against the ground truth's. Also written to ``report/metrics/saliency_diagnosis.csv`` for the report."""
    import pandas as pd
    from scipy.ndimage import gaussian_filter

    from .evaluation import load_ground_truth
    from .metrics import fit_centre_bias, mit_blur_sigma
    from .training import predict

    train_maps = torch.stack([train_set[i][1] for i in range(len(train_set))])
    held_out_maps = torch.stack([held_out_set[i][1] for i in range(len(held_out_set))])
    centre_sigma = fit_centre_bias(load_ground_truth(item).fixations for item in train_items)
    losses = trivial_map_losses(train_maps, held_out_maps, centre_sigma)
    loader = torch.utils.data.DataLoader(held_out_set, batch_size=8)
    predictions = predict(model, loader, device)
    losses["the trained network"] = float(((predictions - held_out_maps) ** 2).mean())
    truth_maps = (held_out_maps[:, 0].numpy() + 1) / 2
    truths = [load_ground_truth(item) for item in held_out_set.items]
    mit_blurred = [gaussian_filter(t.fixations.astype(float), mit_blur_sigma(t.fixations.shape)) for t in truths]
    rows = {f"held-out MSE: {name}": value for name, value in losses.items()}
    rows["pixels holding half the mass: ground-truth maps"] = mass_share(truth_maps)
    rows["pixels holding half the mass: the same fixations, MIT's blur"] = mass_share(mit_blurred)
    rows["frame-edge ratio: predictions"] = border_ratio(predictions[:, 0].numpy())
    rows["frame-edge ratio: ground truth"] = border_ratio(truth_maps)
    table = pd.Series(rows, name="value").round(4)
    write_table("saliency_diagnosis", table.to_frame(), comment=f"notebook 01's diagnosis of {MODEL_NAMES[SALNET]}")
    return table
