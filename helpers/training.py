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

import json
import math
import os
import random
import shutil
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader

from . import paths, progress
from .data.datasets import seconds_decoding_into_cache
from .data.fingerprints import split_differences
from .identity import architecture, architecture_differences, digest
from .io import DiskFullError, atomic_path, check_writable_folder, exclusive_lock
from .models import FrozenThenTrained
from .parallel import launch, parse_checkpoint_every, process_group, select_device
from .progress import tqdm


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
    #: What the run said it would take, in seconds (not stored): "first_epoch" and "later_epoch" from the
    #: first steps after the warm-up, "later_epoch_after_first" once the first epoch of this call ends.
    estimates: dict = field(default_factory=dict)

    @property
    def train_loss(self) -> list[float]:
        return [row["train_loss"] for row in self.history]

    @property
    def val_loss(self) -> list[float]:
        return [row["val_loss"] for row in self.history]


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices) once, at the start of a notebook or run."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


#: Devices whose optimisers have a fused kernel (one pass over every parameter): on a 2-core CPU Adam's
#: step over the fc decoders' 50 M parameters takes 0.03 s fused against 0.19 s one tensor at a time
#: (``benchmarks/training_speed.py --part optimizer``). The arithmetic is Adam's and SGD's own.
FUSED_DEVICES = ("cpu", "cuda")


def make_optimizer(parameters, spec) -> torch.optim.Optimizer:
    """The spec's optimiser (``OPTIMIZER``, ``LEARNING_RATE``, ``MOMENTUM`` or ``BETAS``, ``WEIGHT_DECAY``),
    fused where every parameter lives on a device of :data:`FUSED_DEVICES`."""
    parameters = list(parameters)
    fused = bool(parameters) and all(p.device.type in FUSED_DEVICES and p.is_floating_point() for p in parameters)
    if spec.optimizer == "sgd":
        return torch.optim.SGD(parameters, lr=spec.learning_rate, momentum=spec.momentum,
                               weight_decay=spec.weight_decay, fused=fused)
    return torch.optim.Adam(parameters, lr=spec.learning_rate, betas=tuple(spec.betas), weight_decay=spec.weight_decay,
                            fused=fused)


def run_identity(spec, metadata: dict | None = None) -> dict:
    """What makes a trained model what it is: the spec's identity (:meth:`helpers.spec.Spec.identity`:
    every setting but how to run and the epoch count) and the run's ``metadata`` (the data set's
    resolved name, the data's fingerprint, the network, the frozen weights), which wins where both
    name a key (``dataset``: the spec's may say "auto"). It names the checkpoint and is stored in it."""
    return {**_plain(spec.identity()), **_plain(metadata or {})}


def _plain(value):
    """JSON-like copy (tuples become lists), as a checkpoint stores and returns it."""
    return json.loads(json.dumps(value))


def checkpoint_path(kind: str, dataset: str, spec, metadata: dict | None = None) -> Path:
    """Where the run of ``kind`` (``"saliency"``, ``"inversion_conv2"`` ...) on ``dataset`` with these
    settings is checkpointed: ``checkpoints/<kind>_<dataset>_<8 hex digits of the settings>.pt``, and
    when ``metadata`` holds the data's fingerprint (``"data"``, :meth:`helpers.data.RunData.fingerprint`)
    ``..._<settings>_<6 hex digits of the data>.pt``. Two configurations never share a file, the same
    configuration always finds its own, and the same settings on other data are found by
    :func:`same_settings_other_data`."""
    key = run_identity(spec, metadata)
    data = key.pop("data", None)
    name = f"{kind}_{dataset}_{digest(key, 8)}"
    if data is not None:
        name += f"_{data['digest'][:6]}"
    return paths.checkpoint_dir() / f"{name}.pt"


def same_settings_other_data(checkpoint: Path) -> list[str]:
    """One line for each checkpoint beside ``checkpoint`` trained with the same settings on other
    data (named ``<kind>_<dataset>_<settings>_<data>.pt``): which folder and how many images."""
    head = checkpoint.stem.rsplit("_", 1)[0]
    lines = []
    for other in sorted(checkpoint.parent.glob(f"{head}_*.pt")):
        if other == checkpoint or other.stem.rsplit("_", 1)[0] != head or SET_ASIDE in other.name:
            continue  # a file RETRAIN set aside is this run's own earlier model, not one of other data
        try:
            state = read_checkpoint(other)
        except (CheckpointError, OSError):
            continue
        counts = [f"{n} {split.replace('held_out', 'test')}" for split, n in state["metadata"].get("data", {}).get("images", {}).items()]
        images = ", ".join(counts[:-1]) + " and " + counts[-1] if len(counts) > 1 else "".join(counts)
        lines.append(f"{other.name} has the same settings but was trained on other data ({state.get('data_folder', '?')}: "
                     f"{images} images); this run trains into {checkpoint.name}, and that file is kept")
    return lines


class CheckpointError(RuntimeError):
    """A checkpoint is unreadable, not this project's, or of other settings (the message names the file)."""


#: What every checkpoint written by :func:`fit` holds, besides its identity: ``identity`` (what
#: :func:`run_identity` gave) — or, in a checkpoint written before the spec was the only training
#: config, ``config`` (the loop's settings) beside ``metadata``, which together were the same dict.
CHECKPOINT_KEYS = ("model", "optimizer", "scheduler", "torch_rng", "epoch", "history", "metadata")


def stored_identity(state: dict) -> dict:
    """The identity a checkpoint was written with, whichever version wrote it."""
    return state["identity"] if "identity" in state else {**state.get("config", {}), **state["metadata"]}


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
    if not missing and "identity" not in state and "config" not in state:
        missing = ["identity"]
    if missing:
        raise CheckpointError(f"{path}: not a checkpoint written by this project's training (missing {missing})")
    return state


def load_checkpoint(path: str | Path, module: nn.Module, device: torch.device | str = "cpu") -> dict:
    """Load a checkpoint written by :func:`fit` into ``module``; return its contents."""
    state = read_checkpoint(path, device)
    module.load_state_dict(state["model"])
    return state


class ArchitectureMismatchError(RuntimeError):
    """A checkpoint holds a network the code no longer builds (the message says what differs)."""


def check_architecture(path: str | Path, state: dict, module: nn.Module, retrain_hint: str) -> None:
    """Refuse a checkpoint whose network is not the one ``module`` is (its module tree, settings and
    parameter shapes, :func:`helpers.identity.architecture`), saying what differs — the check
    training makes through the run's identity, made again by everything that loads a trained model."""
    if "architecture" not in state:
        raise ArchitectureMismatchError(f"{path}: trained by an earlier version of this project (no architecture "
                                        f"stored); {retrain_hint} (the file is kept as it is)")
    built = architecture(module)
    if built != state["architecture"]:
        raise ArchitectureMismatchError(f"{path}: the network in it is not the one the code builds now "
                                        f"({architecture_differences(state['architecture'], built)}); {retrain_hint}, "
                                        "or restore the code it was trained with")


def _differences(found: dict, wanted: dict) -> str:
    names = sorted(set(found) | set(wanted))
    return ", ".join(f"{name}: {found.get(name, '(unset)')!r} in the file, {wanted.get(name, '(unset)')!r} now"
                     for name in names if found.get(name) != wanted.get(name))


#: What a checkpoint set aside by ``RETRAIN`` carries in its name: ``<stem>.replaced-<time>.pt``.
SET_ASIDE = ".replaced-"


def _set_aside(path: Path) -> Path:
    """Rename a checkpoint that is about to be replaced to ``<stem>.replaced-<time>.pt`` beside it."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(path.stat().st_mtime))
    kept = path.with_name(f"{path.stem}{SET_ASIDE}{stamp}{path.suffix}")
    counter = 1
    while kept.exists():
        kept = path.with_name(f"{path.stem}{SET_ASIDE}{stamp}-{counter}{path.suffix}")
        counter += 1
    path.rename(kept)
    return kept


def _save(path: Path, state: dict) -> None:
    """Write ``state`` to ``path`` atomically; a full disk is a :class:`CheckpointError` naming the
    file (the previous checkpoint, if any, is still there). torch reports a full disk as a failed
    write inside its zip writer ("unexpected pos"), which is read as such."""
    try:
        with atomic_path(path, durable=True) as tmp:
            torch.save(state, tmp)
    except (OSError, RuntimeError) as error:
        full = isinstance(error, DiskFullError) or "unexpected pos" in str(error) or "No space" in str(error)
        if not full:
            raise
        free = shutil.disk_usage(path.parent).free
        raise CheckpointError(f"{path}: could not be written, the disk is full ({free / 2**20:.1f} MiB free); the "
                              "previous checkpoint is kept. Free some space and run again to resume") from None


@dataclass
class FitOptions:
    """Everything :func:`fit` takes besides the model, the data, the settings and the file."""

    loss_fn: nn.Module                       # the spec's loss (no default: a recipe says which)
    device: str | torch.device = "auto"
    trainable: nn.Module | None = None       # the part optimised and checkpointed (default: the model)
    retrain: bool = False
    progress: bool = True
    on_epoch_end: Callable[[int, dict], None] | None = None
    on_save: Callable[[TrainingRun], None] | None = None
    metadata: dict | None = None             # part of the run's identity (see run_identity)
    extra: dict | None = None                # stored in the checkpoint as it is, not compared (architecture ...)
    held_out_name: str = "validation"
    held_out_scores: Callable[[nn.Module], dict[str, float]] | None = None
    checkpoint_every: int | None = None
    checkpoint_minutes: float | None = None
    cost_hint: Callable[[float], str] | None = None   # seconds per training image → a sentence for the estimate


class Checkpointer:
    """One run's checkpoint file: setting an old one aside, resuming, and saving (rank 0 only)."""

    def __init__(self, path: Path, spec, options: FitOptions, is_main: bool):
        self.path, self.spec, self.options, self.is_main = path, spec, options, is_main
        self.wanted = run_identity(spec, options.metadata)
        self.last_saved = time.monotonic()

    def set_aside_for_retrain(self) -> None:
        if self.path.is_file() and self.options.retrain and self.is_main:
            print(f"RETRAIN: the previous {self.path.name} is kept as {_set_aside(self.path).name}")

    def read_matching(self) -> dict | None:
        """The checkpoint's contents when there is one; one of other settings is refused."""
        if not self.path.is_file():
            return None
        state = read_checkpoint(self.path)  # on the CPU: the RNG state must stay there
        found = stored_identity(state)
        if found != self.wanted:
            raise CheckpointError(
                f"{self.path} holds a model trained with other settings ({_differences(found, self.wanted)}); "
                "it is not overwritten. Use another checkpoint path, or set RETRAIN = True (retrain=True, "
                "--retrain) to train anew and keep the old file beside the new one")
        stored, now = state.get("split_files"), (self.options.extra or {}).get("split_files")
        differences = split_differences(stored, now) if stored is not None and now is not None else []
        if differences:
            raise CheckpointError(
                f"{self.path} was trained on other images than the folder holds now ({'; '.join(differences)}); it is "
                "not overwritten. Restore the files, or set RETRAIN = True (retrain=True, --retrain) to train on the "
                "folder as it is and keep the old file beside the new one")
        return state

    def save(self, training: "_Training", epoch_done: int, step_in_epoch: int = 0,
             totals: tuple[float, int] = (0.0, 0)) -> None:
        finished = epoch_done == self.spec.epochs and not step_in_epoch
        _save(self.path, {
            "model": training.trainable.state_dict(),
            "optimizer": None if finished else training.optimizer.state_dict(),
            "scheduler": training.scheduler.state_dict(), "torch_rng": torch.get_rng_state(),
            "random": _random_states(), "epoch": epoch_done, "step_in_epoch": step_in_epoch,
            "partial": list(totals), "epochs_planned": self.spec.epochs, "history": training.run.history,
            "identity": self.wanted, "metadata": _plain(training.run.metadata), "spec": _plain(self.spec.as_dict()),
            **_plain(self.options.extra or {}),
        })
        self.last_saved = time.monotonic()

    def step_due(self, step: int, world: int) -> bool:
        """Whether a checkpoint is due within the epoch after ``step`` (rank 0's clock decides)."""
        every, minutes = self.options.checkpoint_every, self.options.checkpoint_minutes
        due = bool(every and step % every == 0)
        if minutes:
            due = due or time.monotonic() - self.last_saved >= 60 * minutes
            if world > 1:
                flag = torch.tensor([int(due)])
                dist.broadcast(flag, 0)
                due = bool(flag.item())
        return due


@dataclass
class EpochTimes:
    """Where one epoch's time went, in seconds: waiting for each batch and each step itself, with the
    once-only work within them — decoding an image into the decode cache (later epochs read the cache)
    and the frozen front end's features (computed once, then remembered) — then the held-out pass
    (validation and the held-out scores) and its own once-only work (its images decoded, their
    features computed, the ground truth read)."""

    waiting: list[float] = field(default_factory=list)
    working: list[float] = field(default_factory=list)
    once: list[float] = field(default_factory=list)       # the front end's, within each step
    decoding: list[float] = field(default_factory=list)   # into the cache, within each wait
    held_out_once: float = 0.0
    #: The loader decodes into its cache in worker processes, where this process cannot time it: a later
    #: epoch's waiting is then counted as nothing (the workers read the cache ahead of the steps).
    decoded_out_of_sight: bool = False

    seconds: float = 0.0              # waiting and working, every step so far

    def add(self, waiting: float, working: float, once: float, decoding: float = 0.0) -> None:
        self.waiting.append(waiting)
        self.working.append(working)
        self.once.append(once)
        self.decoding.append(decoding)
        self.seconds += waiting + working

    def seconds_after(self, warmup: int) -> float:
        """The steps' time, the first ``warmup`` steps left out."""
        return self.seconds - sum(self.waiting[:warmup]) - sum(self.working[:warmup])

    def later_waiting(self, waiting: float, decoding: float) -> float:
        """What a wait of the first epoch becomes in a later one: the wait less its decoding into the
        cache (what remains — reading the cache, collating — recurs), nothing where the decoding was out
        of sight, all of it where the data are decoded every epoch (no cache: nothing counted as decoding)."""
        return 0.0 if self.decoded_out_of_sight else max(waiting - decoding, 0.0)


def first_epoch_estimate(times: EpochTimes, steps: int, warmup: int) -> tuple[float, float]:
    """``(this epoch, each later epoch)``: the training steps' seconds, from the steps after the first
    ``warmup`` (which pay one-off costs: allocations, oneDNN's first kernels). This epoch pays its
    batches' decoding and its once-only work; later epochs skip both (:meth:`EpochTimes.later_waiting`)."""
    timed = slice(warmup, None)
    count = max(len(times.working[timed]), 1)
    waiting, working, once, decoding = (sum(values[timed]) / count
                                        for values in (times.waiting, times.working, times.once, times.decoding))
    return steps * (waiting + working), steps * (max(working - once, 0.0) + times.later_waiting(waiting, decoding))


def later_epoch_seconds(times: EpochTimes, epoch_seconds: float, warmup: int) -> float:
    """What an epoch after the first will take, from the first's whole time (training and the held-out
    pass): less its once-only work (the front end's, the held-out pass's, and decoding into the cache),
    and what its first ``warmup`` steps took beyond a usual step."""
    usual = times.working[warmup:]
    typical = sum(usual) / len(usual) if usual else 0.0
    warm_up = sum(max(w - typical, 0.0) for w in times.working[:warmup])
    waits_once = sum(times.waiting) - sum(times.later_waiting(w, d) for w, d in zip(times.waiting, times.decoding))
    one_off = sum(times.once) + waits_once + times.held_out_once + warm_up
    return max(epoch_seconds - one_off, 0.0)


def decodes_once(loader: DataLoader) -> bool:
    """Whether ``loader``'s images are decoded once and read from a cache after (see
    :class:`helpers.data.datasets.DecodeOnceDataset`); a data set of other kinds counts as decoded each time."""
    return getattr(loader.dataset, "cache_dir", None) is not None


def decoded_out_of_sight(loader: DataLoader) -> bool:
    """Whether ``loader`` decodes into a cache in worker processes, where this process cannot time it."""
    return decodes_once(loader) and loader.num_workers > 0


class _Training:
    """The state of one :func:`fit` call: the model on its device, the optimiser, the schedule, the
    run's history, and where an interrupted epoch resumes."""

    def __init__(self, model: nn.Module, spec, checkpoint: Path, options: FitOptions):
        self.model, self.spec, self.options = model, spec, options
        self.device = select_device(options.device)
        self.trainable = model if options.trainable is None else options.trainable
        self.loss_fn = options.loss_fn
        cuda = self.device.type == "cuda"
        self.channels_last = spec.mixed_precision and cuda
        model.to(device=self.device)
        if self.channels_last:
            model.to(memory_format=torch.channels_last)
        self.optimizer = make_optimizer([p for p in self.trainable.parameters() if p.requires_grad], spec)
        self.scheduler = torch.optim.lr_scheduler.StepLR(self.optimizer, step_size=spec.lr_step, gamma=spec.gamma)
        self.run = TrainingRun(epochs_planned=spec.epochs, checkpoint=checkpoint, metadata=dict(options.metadata or {}))
        self.rank, self.world = process_group()
        self.is_main = self.rank == 0
        self.forward = model if self.world == 1 else nn.parallel.DistributedDataParallel(
            model, device_ids=[self.device.index] if cuda else None)
        bf16_here = self.device.type in ("cuda", "cpu")  # MPS: float32 throughout
        self.autocast = torch.autocast(self.device.type if bf16_here else "cpu", dtype=torch.bfloat16,
                                       enabled=spec.mixed_precision and bf16_here)
        self.resume_at, self.partial, self.resume_rng = 0, (0.0, 0), None
        self.times = EpochTimes()
        # Headless runs (helpers.pipeline) keep only the one line per epoch that fit prints.
        self.show_bars = (options.progress and self.is_main
                          and os.environ.get("SALIENCY_PROGRESS_BARS", "1") != "0")

    def resume_from(self, state: dict) -> None:
        """Continue the run ``state`` holds: optimiser, schedule, history and random states."""
        self.trainable.load_state_dict(state["model"])
        self.run.history = state["history"]
        if state["optimizer"] is None and self.is_main:
            print(f"{self.run.checkpoint.name} finished after {state['epoch']} epochs and kept no optimiser state; "
                  "the optimiser starts afresh for the extra epochs")
        if state["optimizer"] is not None:
            self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.run.resumed_from_epoch = state["epoch"]
        self.resume_at = state.get("step_in_epoch", 0)
        if self.resume_at:  # restored once this epoch's batches are drawn, as they were when it was saved
            self.partial, self.resume_rng = tuple(state["partial"]) if self.is_main else (0.0, 0), state
        else:
            torch.set_rng_state(state["torch_rng"])
            _restore_random_states(state.get("random"))
        if self.is_main:
            where = (f"step {self.resume_at} of epoch {state['epoch'] + 1}" if self.resume_at
                     else f"epoch {state['epoch']}")
            print(f"Resuming {self.run.checkpoint.name} after {where} of {self.spec.epochs}")

    def batches(self, loader, description: str):
        return tqdm(loader, desc=description, leave=False, disable=not self.show_bars, mininterval=2.0,
                    unit="batch", dynamic_ncols=True)

    def to_device(self, tensor: torch.Tensor) -> torch.Tensor:
        tensor = tensor.to(self.device, non_blocking=True)
        if self.channels_last and tensor.ndim == 4:
            return tensor.contiguous(memory_format=torch.channels_last)
        return tensor

    def summed(self, total: float, count: int) -> tuple[float, int]:
        """The loss sum and image count over every process."""
        if self.world == 1:
            return total, count
        both = torch.tensor([total, float(count)], dtype=torch.float64)
        dist.all_reduce(both)
        return float(both[0]), int(both[1])

    def start_epoch(self, loader: DataLoader, epoch: int, skip: int):
        """This epoch's batches, in the seeded order, after the ``skip`` steps a resumed run did."""
        sampler = getattr(loader, "sampler", None)
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)
            if skip:
                sampler.start_at(skip * loader.batch_size)
        elif getattr(loader, "generator", None) is not None:
            if skip:
                raise ValueError("resuming mid-epoch needs a loader from helpers.data.make_loader")
            loader.generator.manual_seed(self.spec.seed * 1_000_003 + epoch)
        self.trainable.train()
        epoch_batches = iter(self.batches(loader, f"epoch {epoch}"))
        if skip:
            torch.set_rng_state(self.resume_rng["torch_rng"])
            _restore_random_states(self.resume_rng.get("random"))
        return epoch_batches

    def once_seconds(self) -> float:
        """The frozen front end's once-only work so far (0 for a network without one)."""
        memo = getattr(self.model, "feature_memo", None)
        return memo.once_seconds if memo is not None else 0.0

    def held_out_once_seconds(self) -> float:
        """The once-only work so far that a held-out pass can do: the front end's, decoding into the
        cache, and the held-out scorer's own (reading the ground truth)."""
        return (self.once_seconds() + seconds_decoding_into_cache()
                + getattr(self.options.held_out_scores, "once_seconds", 0.0))

    def timed_enough(self, steps: int) -> bool:
        """Whether the steps after the warm-up are enough to estimate from: at least
        :data:`ESTIMATE_AFTER_STEPS` of them, and :data:`ESTIMATE_AFTER_SECONDS` of their time (a
        handful of short steps measures the noise of the machine, not the run)."""
        return (steps - ESTIMATE_WARMUP_STEPS >= ESTIMATE_AFTER_STEPS
                and self.times.seconds_after(ESTIMATE_WARMUP_STEPS) >= ESTIMATE_AFTER_SECONDS)

    def estimate_due(self, epoch: int) -> bool:
        """Whether the first estimate is still to be said: in the first epoch of this call, on the main
        process, with progress shown, and not yet said."""
        return (epoch == self.run.resumed_from_epoch + 1 and self.options.progress and self.is_main
                and "first_epoch" not in self.run.estimates)

    def estimate(self, loader: DataLoader, epoch: int) -> None:
        """Before the run spends its time: what the steps after the warm-up took, scaled to this epoch
        (which decodes every image once) and to the later epochs (which read the decoded cache)."""
        steps = len(loader)
        this_epoch, later = first_epoch_estimate(self.times, steps, ESTIMATE_WARMUP_STEPS)
        self.run.estimates.update(first_epoch=this_epoch, later_epoch=later)
        epochs = self.spec.epochs - epoch
        hint = self.options.cost_hint(this_epoch * self.world / max(len(loader.dataset), 1)) \
            if self.options.cost_hint is not None else ""
        rest = (f", then about {duration_text(later)} for each of the {epochs} later epoch{'s' if epochs > 1 else ''}"
                + (" (the decoded images cached)" if decodes_once(loader) else "")
                + f": about {duration_text(this_epoch + epochs * later)} of training in all, validation not counted"
                if epochs else "")
        last = len(self.times.working)
        print(f"  timed over steps {ESTIMATE_WARMUP_STEPS + 1}–{last} (the first "
              f"{ESTIMATE_WARMUP_STEPS} left out as warm-up): about {duration_text(this_epoch)} for this epoch, which "
              f"decodes every image once{rest}" + (f"; {hint}" if hint else ""), flush=True)

    def train_epoch(self, loader: DataLoader, epoch: int, checkpointer: Checkpointer) -> tuple[float, int]:
        """One pass over ``loader``; returns the loss sum and the image count over every process."""
        skip = self.resume_at if epoch == self.run.resumed_from_epoch + 1 else 0
        total, count = self.partial if skip else (0.0, 0)
        self.times = EpochTimes(decoded_out_of_sight=decoded_out_of_sight(loader))
        step_checkpoints = self.options.checkpoint_every or self.options.checkpoint_minutes
        mark, decoded_before = progress.clock(), seconds_decoding_into_cache()
        for step, (inputs, targets) in enumerate(self.start_epoch(loader, epoch, skip), start=skip + 1):
            arrived, once_before = progress.clock(), self.once_seconds()
            decoding = seconds_decoding_into_cache() - decoded_before
            inputs, targets = self.to_device(inputs), self.to_device(targets)
            with self.autocast:
                outputs = self.forward(inputs)
            loss = self.loss_fn(_full_precision(outputs), _full_precision(targets))
            if not torch.isfinite(loss):
                raise NonFiniteLossError(
                    f"the training loss became {loss.item()} at epoch {epoch}, batch {step}; "
                    f"lower the learning rate (LEARNING_RATE = {self.spec.learning_rate}) or check the data")
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            total += loss.item() * len(inputs)
            count += len(inputs)
            done = progress.clock()
            self.times.add(arrived - mark, done - arrived, self.once_seconds() - once_before, decoding)
            mark, decoded_before = done, seconds_decoding_into_cache()
            if self.estimate_due(epoch) and self.timed_enough(step - skip):
                self.estimate(loader, epoch)
            if step_checkpoints and checkpointer.step_due(step, self.world):
                totals = self.summed(total, count)
                if self.is_main:
                    checkpointer.save(self, epoch - 1, step, totals)
                checkpointer.last_saved = time.monotonic()
                mark = progress.clock()
        if self.estimate_due(epoch) and len(self.times.working) > ESTIMATE_WARMUP_STEPS:
            self.estimate(loader, epoch)   # an epoch too short to reach the mark: timed whole, less its warm-up
        return self.summed(total, count)

    @torch.no_grad()
    def validate(self, loader: DataLoader) -> float:
        """The mean loss over ``loader``'s images."""
        self.model.eval()
        total, count = 0.0, 0
        out_of_sight = decoded_out_of_sight(loader)
        mark = progress.clock()
        for inputs, targets in self.batches(loader, "validation"):
            if out_of_sight:   # decoded in worker processes: the waiting counted as once-only, as in training
                self.times.held_out_once += progress.clock() - mark
            inputs, targets = self.to_device(inputs), self.to_device(targets)
            with self.autocast:
                outputs = self.model(inputs)
            total += self.loss_fn(_full_precision(outputs), _full_precision(targets)).item() * len(inputs)
            count += len(inputs)
            mark = progress.clock()
        return total / max(count, 1)

    def epoch_row(self, epoch: int, totals: tuple[float, int], lr: float, val_loader, started: float) -> dict:
        """The history's row of one finished epoch: losses, held-out scores, learning rate, and the
        seconds of the whole epoch and of its held-out pass (validation and held-out scores)."""
        total, count = totals
        row = {"epoch": epoch, "train_loss": total / max(count, 1), "val_loss": math.nan, "lr": lr}
        scorer = self.options.held_out_scores
        held_out_started, once_before = progress.clock(), self.held_out_once_seconds()
        if val_loader is not None and self.is_main:
            row["val_loss"] = self.validate(val_loader)
        if scorer is not None and self.is_main:
            self.model.eval()
            row.update(scorer(self.model))
        self.times.held_out_once += self.held_out_once_seconds() - once_before
        ended = progress.clock()
        row["seconds"], row["validation_seconds"] = ended - started, ended - held_out_started
        return row

    def report(self, row: dict) -> None:
        """The epoch's line, and after the first epoch of this call the time the rest will take."""
        if not (self.options.progress and self.is_main):
            return
        epoch, epochs = row["epoch"], self.spec.epochs
        extra = "".join(f"  {name} {row[name]:.3f}" for name in row if name not in _ROW_KEYS)
        print(f"epoch {epoch:>3}/{epochs}  train {row['train_loss']:.4f}  {self.options.held_out_name} "
              f"{row['val_loss']:.4f}{extra}  lr {row['lr']:.0e}  {row['seconds']:.0f}s", flush=True)
        if epoch == self.run.resumed_from_epoch + 1 and epoch != epochs:
            later = later_epoch_seconds(self.times, row["seconds"], ESTIMATE_WARMUP_STEPS)
            self.run.estimates["later_epoch_after_first"] = later
            print(f"  about {duration_text((epochs - epoch) * later)} more for the remaining {epochs - epoch} epochs "
                  f"(each about {duration_text(later)}: this one, less its warm-up, decoding and once-only work)",
                  flush=True)


@dataclass
class HowToRun:
    """A recipe's options of how to run (none of them part of what is trained)."""

    device: torch.device
    nproc: int = 1
    retrain: bool = False
    num_workers: int = 0
    checkpoint_every: str | None = None   # "200" steps or "10m"
    progress: bool = True

    def fit_options(self, spec, data, trainable: nn.Module, checkpoint: Path) -> dict:
        """What both recipes do between naming the checkpoint and calling :func:`fit`: say which
        checkpoint has the same settings on other data, train with ``nproc`` processes under
        ``torchrun`` first when asked (then this process loads what they left), and collect
        :func:`fit`'s options — among them what the checkpoint stores besides the weights."""
        if process_group()[0] == 0:
            for line in same_settings_other_data(checkpoint):
                print(line)
        retrain = self.retrain
        if self.nproc > 1 and process_group()[1] == 1:
            launch(spec, self.nproc, str(self.device), retrain, self.num_workers, self.checkpoint_every)
            retrain = False  # the processes trained it
        every_steps, every_minutes = parse_checkpoint_every(self.checkpoint_every)
        return {"device": self.device, "trainable": trainable, "retrain": retrain, "progress": self.progress,
                "checkpoint_every": every_steps, "checkpoint_minutes": every_minutes,
                "extra": {"data_folder": str(data.root), "architecture": architecture(trainable),
                          "split_files": data.split_files(progress=self.progress)}}


def fit(model: nn.Module, train_loader: DataLoader, val_loader: DataLoader | None, spec,
        checkpoint: str | Path, **options) -> TrainingRun:
    """Train ``model`` on ``(inputs, targets)`` batches with ``loss_fn``, validating each epoch, as
    ``spec`` (:class:`helpers.spec.Spec`: the only training config) says: ``EPOCHS``, ``OPTIMIZER``,
    ``LEARNING_RATE``, ``LR_STEP``, ``GAMMA``, ``MOMENTUM``, ``BETAS``, ``WEIGHT_DECAY``, ``SEED``,
    ``MIXED_PRECISION``, under those names; the checkpoint stores the spec whole.

    ``options`` are :class:`FitOptions`' fields. ``metadata`` (JSON-like) is, with the spec's
    identity, the run's identity (:func:`run_identity`), and stored in the checkpoint; ``extra`` is
    stored as it is (the network's architecture, the split's files). ``held_out_name`` is what the per-epoch line calls ``val_loader``'s images
    ("validation" in Part 1, "test" in Part 2). ``on_save(run)`` is called after every checkpoint
    (and when a finished run is loaded), so a record never lags behind its checkpoint.
    ``held_out_scores(model)`` adds scores (a held-out AUC) to each epoch's row. The last epoch's
    checkpoint keeps no optimiser state: a finished run is loaded, not resumed.
    ``checkpoint_every`` steps or ``checkpoint_minutes`` minutes, a checkpoint is also written within
    an epoch, holding the sampler's position, the loss so far and the random states: a run killed
    there resumes there. ``trainable`` is the part optimised and checkpointed (default: the whole
    model). A :class:`helpers.models.FrozenThenTrained` model's frozen front end computes each image
    once for the whole run (:class:`helpers.models.FrozenFeatureMemo`). Shuffling comes from the
    loader's sampler (:func:`helpers.data.make_loader`), so a resumed run sees the same batches as
    an uninterrupted one, and N processes at a global batch B see, step by step, the images one
    process sees at B; under a process group the loader's batch is the per-rank share, and only
    rank 0 validates, prints and writes.
    """
    options = FitOptions(**options)
    checkpoint = Path(checkpoint)
    is_main = process_group()[0] == 0
    if is_main:  # found now, not at the first save an epoch later
        check_writable_folder(checkpoint.parent, "the checkpoint folder", "SALIENCY_CHECKPOINT_DIR")
    # Two identical runs at once: the second waits for the first, then loads (or resumes) what it left.
    with exclusive_lock(checkpoint, f"training {checkpoint.name}") if is_main else nullcontext():
        return _fit(model, train_loader, val_loader, spec, checkpoint, options)


def _fit(model: nn.Module, train_loader: DataLoader, val_loader: DataLoader | None, spec,
         checkpoint: Path, options: FitOptions) -> TrainingRun:
    training = _Training(model, spec, checkpoint, options)
    checkpointer = Checkpointer(checkpoint, spec, options, training.is_main)
    checkpointer.set_aside_for_retrain()
    if training.world > 1:
        dist.barrier()  # every rank sees the set-aside before deciding whether to resume
    state = checkpointer.read_matching()
    if state is not None and state["epoch"] >= spec.epochs:
        return _loaded_finished(training, state)
    if state is not None:
        training.resume_from(state)
    # a frozen front end (the second saliency model's) computes each image once, not once an epoch
    remembered = model.remembering_frozen_features() if isinstance(model, FrozenThenTrained) else nullcontext()
    with remembered:
        for epoch in range(training.run.resumed_from_epoch + 1, spec.epochs + 1):
            started = progress.clock()
            totals = training.train_epoch(train_loader, epoch, checkpointer)
            lr = training.optimizer.param_groups[0]["lr"]
            training.scheduler.step()
            row = training.epoch_row(epoch, totals, lr, val_loader, started)
            training.run.history.append(row)
            if training.is_main:
                checkpointer.save(training, epoch)
                if options.on_save is not None:
                    options.on_save(training.run)
            training.report(row)
            if options.on_epoch_end is not None:
                options.on_epoch_end(epoch, row)
    return training.run


def _loaded_finished(training: _Training, state: dict) -> TrainingRun:
    training.trainable.load_state_dict(state["model"])
    training.run.history = state["history"]
    training.run.loaded_finished = True
    if training.is_main:
        print(f"Loaded the finished run from {training.run.checkpoint} ({state['epoch']} epochs); "
              "set RETRAIN = True (--retrain) to train again")
        if training.options.on_save is not None:
            training.options.on_save(training.run)
    return training.run


def _full_precision(tensor: torch.Tensor) -> torch.Tensor:
    """bf16/fp16 (autocast) outputs in float32 for the loss; float32 and float64 as they are."""
    return tensor.float() if tensor.dtype in (torch.float16, torch.bfloat16) else tensor


#: Steps, and seconds, timed at the start of a run after the warm-up steps, before its duration is
#: estimated and printed (both must be reached; a first epoch too short for them is timed whole instead).
ESTIMATE_AFTER_STEPS = 5
ESTIMATE_AFTER_SECONDS = 20.0
#: The first steps, left out of the estimate: they pay one-off costs (allocations, oneDNN's first kernels).
ESTIMATE_WARMUP_STEPS = 2
_ROW_KEYS = ("epoch", "train_loss", "val_loss", "lr", "seconds", "validation_seconds")


def duration_text(seconds: float) -> str:
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
