"""One training loop for both parts: device choice, seeds, checkpoints, exact resume, data parallel.

``fit`` writes a checkpoint atomically after every epoch (and, if asked, every N steps or minutes).
Calling it again with the same configuration resumes where the last checkpoint stopped — mid-epoch
too: the sampler's position and every random state are in it, so on the CPU the final weights are
bit for bit those of an uninterrupted run — and a finished run is loaded instead of retrained unless
``retrain=True``. Under ``torchrun`` (a started process group, see :mod:`helpers.train`) the model is
wrapped in DistributedDataParallel; only rank 0 validates, prints and writes. A checkpoint of other settings is never overwritten: :func:`checkpoint_path` names
each file by its settings, and ``fit`` refuses a file whose settings differ from the run's.
Checkpoints are read with ``weights_only=True``: opening one cannot run code.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from . import paths
from .io import atomic_path


@dataclass(frozen=True)
class TrainingConfig:
    """Optimiser, schedule and run settings. The defaults are the assignment's Table 2 (saliency)."""

    epochs: int = 20
    batch_size: int = 2
    optimizer: str = "sgd"              # "sgd" (momentum) or "adam"
    lr: float = 1e-4
    momentum: float = 0.9               # SGD only
    betas: tuple[float, float] = (0.9, 0.999)  # Adam only
    weight_decay: float = 1e-4
    step_size: int = 10                 # multiply the learning rate by gamma every step_size epochs
    gamma: float = 0.1
    seed: int = 0
    mixed_precision: bool = False       # bf16 autocast, CUDA only
    channels_last: bool = False         # CUDA only

    def __post_init__(self):
        for name in ("epochs", "batch_size", "step_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not (isinstance(self.lr, (int, float)) and self.lr > 0):
            raise ValueError(f"lr must be a positive number, got {self.lr!r}")
        if self.optimizer not in ("sgd", "adam"):
            raise ValueError(f"optimizer must be 'sgd' or 'adam', got {self.optimizer!r}")


#: Table 2: SGD lr 1e-4, momentum 0.9, weight decay 1e-4, ×0.1 every 10 epochs, batch 2, 20 epochs.
SALIENCY_TRAINING = TrainingConfig()
#: Table 5: Adam lr 1e-3, betas 0.9/0.999, weight decay 1e-4, ×0.1 every 5 epochs, batch 64, 20 epochs.
INVERSION_TRAINING = TrainingConfig(batch_size=64, optimizer="adam", lr=1e-3, step_size=5)


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite; the message names the epoch and batch."""


@dataclass
class TrainingRun:
    """What ``fit`` returns: the per-epoch history and where the checkpoint is."""

    epochs_planned: int = 0
    history: list[dict] = field(default_factory=list)
    checkpoint: Path | None = None
    resumed_from_epoch: int = 0
    loaded_finished: bool = False
    metadata: dict = field(default_factory=dict)   # stored with the checkpoint (e.g. input size, data)

    @property
    def train_loss(self) -> list[float]:
        return [row["train_loss"] for row in self.history]

    @property
    def val_loss(self) -> list[float]:
        return [row["val_loss"] for row in self.history]


def select_device(device: str | torch.device | None = "auto") -> torch.device:
    """``"auto"`` picks CUDA, then Apple MPS, then the CPU; anything else is passed to ``torch.device``."""
    if device in (None, "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        chosen = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'mps', got {device!r}") from exc
    if chosen.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} was asked for, but no CUDA GPU is visible")
    return chosen


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices) once, at the start of a notebook or run."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def make_optimizer(parameters, config: TrainingConfig) -> torch.optim.Optimizer:
    if config.optimizer == "sgd":
        return torch.optim.SGD(parameters, lr=config.lr, momentum=config.momentum,
                               weight_decay=config.weight_decay)
    return torch.optim.Adam(parameters, lr=config.lr, betas=config.betas,
                            weight_decay=config.weight_decay)


def settings_key(config: TrainingConfig, metadata: dict | None = None) -> dict:
    """The settings that make a trained model what it is: every training setting but the epoch
    count (more epochs continue a run) and the run's ``metadata`` (data set, sizes, seed ...)."""
    key = dataclasses.asdict(config)
    key.pop("epochs")
    key["betas"] = list(key["betas"])
    metadata = _plain(metadata or {})
    if set(metadata) & set(key):
        raise ValueError(f"metadata may not repeat a training setting: {sorted(set(metadata) & set(key))}")
    return {**key, **metadata}


def config_record(config: TrainingConfig) -> dict:
    """Every training setting as plain JSON-like data, as the metrics records store it."""
    return _plain(dataclasses.asdict(config))


def _plain(value):
    """JSON-like copy (tuples become lists), as a checkpoint stores and returns it."""
    return json.loads(json.dumps(value))


def checkpoint_path(kind: str, dataset: str, config: TrainingConfig, metadata: dict | None = None) -> Path:
    """Where the run of ``kind`` (``"saliency"``, ``"inversion_conv2"`` ...) on ``dataset`` with these
    settings is checkpointed: ``checkpoints/<kind>_<dataset>_<8 hex digits of the settings>.pt``.
    Two configurations never share a file, and the same configuration always finds its own."""
    digest = hashlib.sha256(json.dumps(settings_key(config, metadata), sort_keys=True).encode()).hexdigest()
    return paths.checkpoint_dir() / f"{kind}_{dataset}_{digest[:8]}.pt"


class CheckpointError(RuntimeError):
    """A checkpoint is unreadable, not this project's, or of other settings (the message names the file)."""


#: What every checkpoint written by :func:`fit` holds.
CHECKPOINT_KEYS = ("model", "optimizer", "scheduler", "torch_rng", "epoch", "history", "config", "metadata")


def process_group() -> tuple[int, int]:
    """``(rank, world size)`` of this process: ``(0, 1)`` outside a started process group."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _random_states() -> dict:
    """NumPy's and Python's random states as plain data (a checkpoint is read with ``weights_only``)."""
    name, keys, position, has_gauss, cached = np.random.get_state()
    return {"numpy": [name, keys.tolist(), int(position), int(has_gauss), float(cached)], "python": random.getstate()}


def _restore_random_states(states: dict | None) -> None:
    if states:
        name, keys, position, has_gauss, cached = states["numpy"]
        np.random.set_state((name, np.array(keys, dtype=np.uint32), position, has_gauss, cached))
        random.setstate(_as_tuple(states["python"]))


def _as_tuple(value):
    return tuple(_as_tuple(v) for v in value) if isinstance(value, (list, tuple)) else value


def read_checkpoint(path: str | Path, device: torch.device | str = "cpu") -> dict:
    """A checkpoint written by :func:`fit`, loaded as plain data (``weights_only=True``: a crafted file
    cannot run code). A missing, truncated or foreign file is a :class:`CheckpointError` naming it."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no checkpoint here")
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except Exception as exc:  # truncated zip, a pickle with code in it, not a torch file at all
        raise CheckpointError(f"{path}: not a readable checkpoint of this project ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0] if str(exc) else 'no detail'}); it is left as it is") from None
    missing = [key for key in CHECKPOINT_KEYS if not isinstance(state, dict) or key not in state]
    if missing:
        raise CheckpointError(f"{path}: not a checkpoint written by this project's training (missing {missing})")
    return state


def load_checkpoint(path: str | Path, module: nn.Module, device: torch.device | str = "cpu") -> dict:
    """Load a checkpoint written by :func:`fit` into ``module``; return its contents."""
    state = read_checkpoint(path, device)
    module.load_state_dict(state["model"])
    return state


def _differences(found: dict, wanted: dict) -> str:
    names = sorted(set(found) | set(wanted))
    return ", ".join(f"{name}: {found.get(name, '(unset)')!r} in the file, {wanted.get(name, '(unset)')!r} now"
                     for name in names if found.get(name) != wanted.get(name))


def _set_aside(path: Path) -> Path:
    """Rename a checkpoint that is about to be replaced to ``<stem>.replaced-<time>.pt`` beside it."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(path.stat().st_mtime))
    kept = path.with_name(f"{path.stem}.replaced-{stamp}{path.suffix}")
    counter = 1
    while kept.exists():
        kept = path.with_name(f"{path.stem}.replaced-{stamp}-{counter}{path.suffix}")
        counter += 1
    path.rename(kept)
    return kept


def _save(path: Path, state: dict) -> None:
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def fit(model: nn.Module, train_loader: DataLoader, val_loader: DataLoader | None,
        config: TrainingConfig, checkpoint: str | Path, *, device: str | torch.device = "auto",
        trainable: nn.Module | None = None, loss_fn: nn.Module | None = None, retrain: bool = False,
        progress: bool = True, on_epoch_end: Callable[[int, dict], None] | None = None,
        on_save: Callable[[TrainingRun], None] | None = None, metadata: dict | None = None,
        held_out_name: str = "validation",
        held_out_scores: Callable[[nn.Module], dict[str, float]] | None = None,
        checkpoint_every: int | None = None, checkpoint_minutes: float | None = None) -> TrainingRun:
    """Train ``model`` on ``(inputs, targets)`` batches with MSE (or ``loss_fn``), validating each epoch.

    ``metadata`` (JSON-like) is stored in the checkpoint for the notebooks that load it later.
    ``held_out_name`` is what the per-epoch line calls ``val_loader``'s images ("validation" in
    Part 1, "test" in Part 2, as the assignment names them). ``on_save(run)`` is called after every
    checkpoint (and when a finished run is loaded), so a record of the run never lags behind its
    checkpoint. ``held_out_scores(model)``, when given, is called after each validation; its scores
    (say, a held-out AUC) join the epoch's row of the history and its printed line. The last epoch's
    checkpoint keeps no optimiser state (for Adam, two thirds of the
    file): a finished run is loaded, not resumed.
    ``checkpoint_every`` steps or ``checkpoint_minutes`` minutes, a checkpoint is also written within
    an epoch, holding the sampler's position, the loss so far and the random states: a run killed
    there resumes there.
    ``trainable`` is the part whose weights are optimised and checkpointed (default: the whole
    model; for feature inversion, the decoder behind a frozen encoder). Shuffling comes from the
    loader's sampler (:func:`helpers.data.make_loader`: one permutation per epoch, seeded by the seed
    and the epoch, shared out among the processes), so a resumed run sees the same batches as an
    uninterrupted one, and N processes at a global batch B see, step by step, the images one process
    sees at B. Under a process group the loader's batch is the per-rank share.
    """
    device = select_device(device)
    trainable = model if trainable is None else trainable
    loss_fn = nn.MSELoss() if loss_fn is None else loss_fn
    checkpoint = Path(checkpoint)
    use_cuda_extras = device.type == "cuda"
    channels_last = config.channels_last and use_cuda_extras
    model.to(device=device)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    optimizer = make_optimizer([p for p in trainable.parameters() if p.requires_grad], config)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=config.step_size, gamma=config.gamma)
    run = TrainingRun(epochs_planned=config.epochs, checkpoint=checkpoint, metadata=dict(metadata or {}))
    rank, world = process_group()
    main = rank == 0
    progress = progress and main
    forward = model
    if world > 1:
        forward = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    resume_at, partial, resume_rng = 0, (0.0, 0), None

    wanted = settings_key(config, run.metadata)
    if checkpoint.is_file() and retrain and main:
        print(f"RETRAIN: the previous {checkpoint.name} is kept as {_set_aside(checkpoint).name}")
    if world > 1:
        dist.barrier()  # every rank sees the set-aside before deciding whether to resume
    if checkpoint.is_file():  # (after RETRAIN set it aside, it is not)
        state = read_checkpoint(checkpoint)  # on the CPU: the RNG state must stay there
        found = {**state["config"], **state["metadata"]}
        if found != wanted:
            raise CheckpointError(
                f"{checkpoint} holds a model trained with other settings ({_differences(found, wanted)}); "
                "it is not overwritten. Use another checkpoint path, or pass retrain=True (RETRAIN = True) "
                "to train anew and keep the old file beside the new one")
        trainable.load_state_dict(state["model"])
        run.history = state["history"]
        if state["epoch"] >= config.epochs:
            run.loaded_finished = True
            if main:
                print(f"Loaded the finished run from {checkpoint} ({state['epoch']} epochs); "
                      "pass retrain=True to train again")
            if on_save is not None and main:
                on_save(run)
            return run
        if state["optimizer"] is None and main:
            print(f"{checkpoint.name} finished after {state['epoch']} epochs and kept no optimiser state; "
                  "the optimiser starts afresh for the extra epochs")
        if state["optimizer"] is not None:
            optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        run.resumed_from_epoch = state["epoch"]
        resume_at = state.get("step_in_epoch", 0)
        if resume_at:  # restored once this epoch's batches are drawn, as they were when it was saved
            partial, resume_rng = tuple(state["partial"]) if main else (0.0, 0), state
        else:
            torch.set_rng_state(state["torch_rng"])
            _restore_random_states(state.get("random"))
        if main:
            where = f"step {resume_at} of epoch {state['epoch'] + 1}" if resume_at else f"epoch {state['epoch']}"
            print(f"Resuming {checkpoint.name} after {where} of {config.epochs}")

    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=config.mixed_precision and use_cuda_extras)

    # Headless runs (helpers.pipeline) keep only the one line per epoch printed below.
    show_bars = progress and os.environ.get("SALIENCY_PROGRESS_BARS", "1") != "0"

    def batches(loader, description):
        return tqdm(loader, desc=description, leave=False, disable=not show_bars, mininterval=2.0,
                    unit="batch", dynamic_ncols=True)

    def to_device(tensor):
        tensor = tensor.to(device, non_blocking=True)
        return tensor.contiguous(memory_format=torch.channels_last) if channels_last and tensor.ndim == 4 else tensor

    @torch.no_grad()
    def validate() -> float:
        model.eval()
        total, count = 0.0, 0
        for inputs, targets in batches(val_loader, "validation"):
            inputs, targets = to_device(inputs), to_device(targets)
            with autocast:
                outputs = model(inputs)
            total += loss_fn(outputs.float(), targets.float()).item() * len(inputs)
            count += len(inputs)
        return total / max(count, 1)

    def save(epoch_done: int, step_in_epoch: int = 0, totals: tuple[float, int] = (0.0, 0)) -> None:
        finished = epoch_done == config.epochs and not step_in_epoch
        _save(checkpoint, {
            "model": trainable.state_dict(), "optimizer": None if finished else optimizer.state_dict(),
            "scheduler": scheduler.state_dict(), "torch_rng": torch.get_rng_state(), "random": _random_states(),
            "epoch": epoch_done, "step_in_epoch": step_in_epoch, "partial": list(totals),
            "epochs_planned": config.epochs, "history": run.history, "config": settings_key(config),
            "metadata": _plain(run.metadata),
        })

    def step_checkpoint_due(step: int, last_saved: float) -> bool:
        due = bool(checkpoint_every and step % checkpoint_every == 0)
        if checkpoint_minutes:
            due = due or time.monotonic() - last_saved >= 60 * checkpoint_minutes
            if world > 1:  # rank 0's clock decides for every rank
                flag = torch.tensor([int(due)])
                dist.broadcast(flag, 0)
                due = bool(flag.item())
        return due

    def summed(total: float, count: int) -> tuple[float, int]:
        if world == 1:
            return total, count
        both = torch.tensor([total, float(count)], dtype=torch.float64)
        dist.all_reduce(both)
        return float(both[0]), int(both[1])

    last_saved = time.monotonic()
    for epoch in range(run.resumed_from_epoch + 1, config.epochs + 1):
        started = time.perf_counter()
        skip = resume_at if epoch == run.resumed_from_epoch + 1 else 0
        sampler = getattr(train_loader, "sampler", None)
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)
            if skip:
                sampler.start_at(skip * train_loader.batch_size)
        elif getattr(train_loader, "generator", None) is not None:
            if skip:
                raise ValueError("resuming mid-epoch needs a loader from helpers.data.make_loader")
            train_loader.generator.manual_seed(config.seed * 1_000_003 + epoch)
        trainable.train()
        total, count = partial if skip else (0.0, 0)
        epoch_batches = iter(batches(train_loader, f"epoch {epoch}"))
        if skip:
            torch.set_rng_state(resume_rng["torch_rng"])
            _restore_random_states(resume_rng.get("random"))
        for batch_index, (inputs, targets) in enumerate(epoch_batches, start=skip + 1):
            inputs, targets = to_device(inputs), to_device(targets)
            with autocast:
                outputs = forward(inputs)
            loss = loss_fn(outputs.float(), targets.float())
            if not torch.isfinite(loss):
                raise NonFiniteLossError(
                    f"the training loss became {loss.item()} at epoch {epoch}, batch {batch_index}; "
                    f"lower the learning rate (lr={config.lr}) or check the data")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(inputs)
            count += len(inputs)
            if (checkpoint_every or checkpoint_minutes) and step_checkpoint_due(batch_index, last_saved):
                totals = summed(total, count)
                if main:
                    save(epoch - 1, batch_index, totals)
                last_saved = time.monotonic()
        lr = optimizer.param_groups[0]["lr"]
        scheduler.step()
        total, count = summed(total, count)
        row = {"epoch": epoch, "train_loss": total / max(count, 1), "val_loss": math.nan, "lr": lr}
        if val_loader is not None and main:
            row["val_loss"] = validate()
        if held_out_scores is not None and main:
            model.eval()
            row.update(held_out_scores(model))
        row["seconds"] = time.perf_counter() - started
        run.history.append(row)
        finished = epoch == config.epochs
        if main:
            save(epoch)
            last_saved = time.monotonic()
        if on_save is not None and main:
            on_save(run)
        if progress:
            extra = "".join(f"  {name} {row[name]:.3f}" for name in row if name not in _ROW_KEYS)
            print(f"epoch {epoch:>3}/{config.epochs}  train {row['train_loss']:.4f}  "
                  f"{held_out_name} {row['val_loss']:.4f}{extra}  lr {lr:.0e}  {row['seconds']:.0f}s", flush=True)
            if epoch == run.resumed_from_epoch + 1 and not finished:
                left = (config.epochs - epoch) * row["seconds"]
                print(f"  about {_duration(left)} more for the remaining {config.epochs - epoch} epochs "
                      f"(the whole run: about {_duration(config.epochs * row['seconds'])})", flush=True)
        if on_epoch_end is not None:
            on_epoch_end(epoch, row)
    return run


_ROW_KEYS = ("epoch", "train_loss", "val_loss", "lr", "seconds")


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


@torch.no_grad()
def predict(model: nn.Module, loader: DataLoader, device: str | torch.device = "auto") -> torch.Tensor:
    """Model outputs for every batch of ``loader`` (inputs only are used), concatenated on the CPU."""
    device = select_device(device)
    model.to(device).eval()
    outputs = [model(batch[0].to(device)).float().cpu() for batch in loader]
    return torch.cat(outputs)
