"""The training loop of both parts, read top to bottom: :func:`make_optimizer`, :func:`train_epoch`,
:func:`validate`, :func:`fit`. bf16 autocast, DDP under ``torchrun`` and mid-epoch resume show in a line or
two each; the checkpoint's dict is :mod:`helpers.checkpoints`.
"""
from __future__ import annotations

import math
import os
import random
import signal
import socket
import threading
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader

from . import outputs, paths
from .checkpoints import RETRAIN, CheckpointError, Checkpointer
from .identity import architecture
from .io import check_writable_folder
from .parallel import process_group, select_device
from .progress import tqdm


#: This process, as each epoch's row of a run's history names it: host, process id, start time.
PROCESS = f"{socket.gethostname()}:{os.getpid()}:{time.strftime('%Y-%m-%d %H:%M')}"
#: Where no progress bar is drawn, the longest an epoch goes without a line.
PROGRESS_SECONDS = 30.0


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


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices) once, at the start of a notebook or run."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def make_optimizer(parameters, spec) -> torch.optim.Optimizer:
    """The spec's optimiser (``OPTIMIZER``, ``LEARNING_RATE``, ``MOMENTUM`` or ``BETAS``, ``WEIGHT_DECAY``),
    fused (one pass over every parameter: Adam's step over 50 M weights 0.03 s against 0.19 s on a
    2-core CPU) where every parameter lives on the CPU or a CUDA GPU."""
    parameters = list(parameters)
    fused = bool(parameters) and all(p.device.type in ("cpu", "cuda") and p.is_floating_point() for p in parameters)
    if spec.optimizer == "sgd":
        return torch.optim.SGD(parameters, lr=spec.learning_rate, momentum=spec.momentum,
                               weight_decay=spec.weight_decay, fused=fused)
    return torch.optim.Adam(parameters, lr=spec.learning_rate, betas=tuple(spec.betas), weight_decay=spec.weight_decay,
                            fused=fused)


@dataclass
class FitOptions:
    """Everything :func:`fit` takes besides the model, the data, the settings and the file."""

    loss_fn: nn.Module                       # the spec's loss (no default: a recipe says which)
    device: str | torch.device = "auto"
    trainable: nn.Module | None = None       # the part optimised and checkpointed (default: the model)
    retrain: bool = False
    progress: bool = True
    on_epoch_end: Callable[[int, dict], None] | None = None
    on_save: Callable[[TrainingRun], None] | None = None   # after every checkpoint: a record never lags behind
    metadata: dict | None = None             # part of the run's identity (helpers.checkpoints.run_identity)
    extra: dict | None = None                # stored in the checkpoint as it is (architecture, split files)
    held_out_name: str = "validation"        # what the epoch line calls val_loader's images
    name: str = ""                           # what the run's lines call it: "conv2 decoder, random weights"
    held_out_scores: Callable[[nn.Module], dict[str, float]] | None = None   # a held-out AUC for each epoch's row
    checkpoint_every: int | None = None      # steps between checkpoints within an epoch
    checkpoint_minutes: float | None = None  # or minutes


class Training:
    """One :func:`fit` call's state: the model on its device (wrapped for DDP under ``torchrun``), the
    optimiser and step schedule, autocast, the run's history, and where an interrupted epoch resumes."""

    def __init__(self, model: nn.Module, spec, checkpoint: Path, options: FitOptions):
        self.model, self.spec, self.options, self.loss_fn = model, spec, options, options.loss_fn
        self.device = select_device(options.device)
        self.trainable = model if options.trainable is None else options.trainable
        cuda = self.device.type == "cuda"
        self.channels_last = spec.mixed_precision and cuda
        model.to(device=self.device, memory_format=torch.channels_last if self.channels_last else torch.preserve_format)
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
        self.resume_at, self.partial, self.resume_state = 0, (0.0, 0), None   # set by Checkpointer.resume
        self.show_bars = options.progress and self.is_main and os.environ.get("SALIENCY_PROGRESS_BARS", "1") != "0"
        self.last_line = time.monotonic()   # without bars, a line at least every PROGRESS_SECONDS

    def say(self, line: str) -> None:
        if self.options.progress and self.is_main:
            print(f"{self.options.name}: {line}" if self.options.name else line, flush=True)
            self.last_line = time.monotonic()

    def say_progress(self, epoch: int, step: int, steps: int, rate: float) -> None:
        """Where no bar is drawn (headless runs), a line at least every :data:`PROGRESS_SECONDS` of an
        epoch, whatever the load: the steps done and their rate."""
        if not self.show_bars and time.monotonic() - self.last_line >= PROGRESS_SECONDS:
            self.say(f"  epoch {epoch}/{self.spec.epochs}: step {step} of {steps}, {rate:.2f} steps/s")

    def batches(self, loader, description: str):
        return tqdm(loader, desc=description, leave=False, disable=not self.show_bars, mininterval=2.0,
                    unit="batch", dynamic_ncols=True)

    def to_device(self, tensor: torch.Tensor) -> torch.Tensor:
        tensor = tensor.to(self.device, non_blocking=True)
        if self.channels_last and tensor.ndim == 4:
            return tensor.contiguous(memory_format=torch.channels_last)
        return tensor

    def loss(self, inputs: torch.Tensor, targets: torch.Tensor, model: nn.Module) -> torch.Tensor:
        """The loss of one batch: the forward pass under autocast, the loss in float32."""
        with self.autocast:
            outputs = model(self.to_device(inputs))
        return self.loss_fn(_full_precision(outputs), _full_precision(self.to_device(targets)))

    def summed(self, total: float, count: int) -> tuple[float, int]:
        """The loss sum and image count over every process."""
        if self.world == 1:
            return total, count
        both = torch.tensor([total, float(count)], dtype=torch.float64)
        dist.all_reduce(both)
        return float(both[0]), int(both[1])

    def epoch_batches(self, loader: DataLoader, epoch: int, skip: int):
        """This epoch's batches in the seeded order, after the ``skip`` steps a resumed run did."""
        sampler = getattr(loader, "sampler", None)
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)
            if skip:
                sampler.start_at(skip * loader.batch_size)
        elif getattr(loader, "generator", None) is not None:
            if skip:
                raise ValueError("resuming mid-epoch needs a loader from helpers.data.make_loader")
            loader.generator.manual_seed(self.spec.seed * 1_000_003 + epoch)
        batches = iter(self.batches(loader, f"epoch {epoch}"))
        if skip:  # the random states of the step the checkpoint was written at, once the batches are drawn
            restore_random_states(self.resume_state)
        return batches


def load_weights(module: nn.Module, state: dict, path: Path) -> None:
    """``state``'s weights into ``module``; weights of another shape are refused naming the file."""
    try:
        module.load_state_dict(state["model"])
    except RuntimeError as error:
        detail = next((line.strip() for line in str(error).splitlines() if "size mismatch" in line), "other weights")
        raise CheckpointError(f"{path}: its weights do not fit the network the code builds ({detail}); the file is "
                              f"left as it is. {RETRAIN}") from None


def restore_random_states(state: dict) -> None:
    """torch's, NumPy's and Python's random states as a checkpoint stored them."""
    rng = state["rng"]
    name, keys, position, has_gauss, cached = rng["numpy"]
    torch.set_rng_state(rng["torch"])
    np.random.set_state((name, np.array(keys, dtype=np.uint32), position, has_gauss, cached))
    random.setstate((rng["python"][0], tuple(rng["python"][1]), rng["python"][2]))


@contextmanager
def ctrl_c_waits_for_the_step(enabled: bool):
    """While an epoch runs in one process, the first Ctrl-C (a kernel's interrupt too) is noted in the list this
    yields, so the step under way finishes and is saved before the loop stops; a second one stops at once. Off
    under DDP, and where Ctrl-C is ignored (a background job, ``nohup``)."""
    asked: list[bool] = []

    def note(signum, frame):
        if asked:
            raise KeyboardInterrupt
        asked.append(True)

    if (not enabled or threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is signal.SIG_IGN):
        yield asked
        return
    previous = signal.signal(signal.SIGINT, note)
    try:
        yield asked
    finally:
        signal.signal(signal.SIGINT, previous)


def step_due(training: Training, checkpointer: Checkpointer, step: int) -> bool:
    """Whether a checkpoint is due within the epoch after ``step`` (rank 0's clock decides)."""
    every, minutes = training.options.checkpoint_every, training.options.checkpoint_minutes
    due = bool(every and step % every == 0)
    if minutes:
        due = due or time.monotonic() - checkpointer.last_saved >= 60 * minutes
        if training.world > 1:
            flag = torch.tensor([int(due)])
            dist.broadcast(flag, 0)
            due = bool(flag.item())
    return due


def resume(training: Training, state: dict) -> None:
    """Continue the run ``state`` holds: weights, optimiser, schedule, history and random states — those of a
    step within an epoch once that epoch's batches are drawn, as when it was saved."""
    load_weights(training.trainable, state, training.run.checkpoint)
    training.run.history = state["history"]
    if state["optimizer"] is None and training.is_main:
        print(f"{training.run.checkpoint.name} finished after {state['epoch']} epochs and kept no optimiser state; "
              "the optimiser starts afresh for the extra epochs")
    if state["optimizer"] is not None:
        training.optimizer.load_state_dict(state["optimizer"])
    training.scheduler.load_state_dict(state["scheduler"])
    training.run.resumed_from_epoch = state["epoch"]
    training.resume_at = state["step_in_epoch"]
    if training.resume_at:
        training.partial, training.resume_state = tuple(state["partial"]) if training.is_main else (0.0, 0), state
    else:
        restore_random_states(state)
    where = f"step {training.resume_at} of epoch {state['epoch'] + 1}" if training.resume_at else f"epoch {state['epoch']}"
    if training.is_main:
        print(f"Resuming {training.run.checkpoint.name} after {where} of {training.spec.epochs}")


def train_epoch(training: Training, loader: DataLoader, epoch: int, checkpointer: Checkpointer) -> tuple[float, int]:
    """One pass over ``loader``: forward, loss, backward, step; a checkpoint every N steps or minutes
    when asked. Returns the loss sum and the image count over every process."""
    skip = training.resume_at if epoch == training.run.resumed_from_epoch + 1 else 0
    total, count = training.partial if skip else (0.0, 0)
    options = training.options
    training.trainable.train()
    started = time.monotonic()
    with ctrl_c_waits_for_the_step(training.world == 1) as interrupted:
        for step, (inputs, targets) in enumerate(training.epoch_batches(loader, epoch, skip), start=skip + 1):
            loss = training.loss(inputs, targets, training.forward)
            if not torch.isfinite(loss):
                raise NonFiniteLossError(f"the training loss became {loss.item()} at epoch {epoch}, batch {step}; lower "
                                         f"the learning rate (LEARNING_RATE = {training.spec.learning_rate}) or check the data")
            training.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            training.optimizer.step()
            total, count = total + loss.item() * len(inputs), count + len(inputs)
            training.say_progress(epoch, step, len(loader), (step - skip) / max(time.monotonic() - started, 1e-9))
            if interrupted:   # Ctrl-C: this step is done; keep it, then stop (a second Ctrl-C stops at once)
                checkpointer.save(training, epoch - 1, step, (total, count))
                raise KeyboardInterrupt(f"stopped after step {step} of epoch {epoch}, which {checkpointer.path} keeps")
            if (options.checkpoint_every or options.checkpoint_minutes) and step_due(training, checkpointer, step):
                totals = training.summed(total, count)
                if training.is_main:
                    checkpointer.save(training, epoch - 1, step, totals)
                checkpointer.last_saved = time.monotonic()
    return training.summed(total, count)


@torch.no_grad()
def validate(training: Training, loader: DataLoader) -> float:
    """The mean loss over ``loader``'s images."""
    training.model.eval()
    total, count = 0.0, 0
    for inputs, targets in training.batches(loader, "validation"):
        total += training.loss(inputs, targets, training.model).item() * len(inputs)
        count += len(inputs)
    return total / max(count, 1)


def fit(model: nn.Module, train_loader: DataLoader, val_loader: DataLoader | None, spec,
        checkpoint: str | Path, **options) -> TrainingRun:
    """Train ``model`` on ``(inputs, targets)`` batches as ``spec`` (:class:`helpers.spec.Spec`) says —
    ``EPOCHS``, ``OPTIMIZER``, ``LEARNING_RATE``, ``LR_STEP``, ``GAMMA``, ``MOMENTUM``, ``BETAS``,
    ``WEIGHT_DECAY``, ``MIXED_PRECISION`` — validating and checkpointing every epoch into
    ``checkpoint``. Calling it again with the same configuration resumes where the last checkpoint
    stopped, and loads a finished run instead of retraining it unless ``retrain=True``. ``options``
    are :class:`FitOptions`' fields. Shuffling comes from the loader's sampler
    (:func:`helpers.data.make_loader`), so a resumed run sees the batches an uninterrupted one does."""
    options = FitOptions(**options)
    training = Training(model, spec, Path(checkpoint), options)
    checkpointer = Checkpointer(checkpoint, spec, options.metadata, options.extra, training.is_main)
    with checkpointer.locked():  # two identical runs: the second waits, then loads what the first left
        state = checkpointer.start(options.retrain)
        if state is not None and state["epoch"] >= spec.epochs:
            return _loaded_finished(training, state)
        if state is not None:
            resume(training, state)
        # a frozen front end (the second model's, a decoder's encoder) computes each image once, not every epoch
        with getattr(model, "remembering_frozen_features", nullcontext)():
            for epoch in range(training.run.resumed_from_epoch + 1, spec.epochs + 1):
                started = time.perf_counter()
                loss_sum, count = train_epoch(training, train_loader, epoch, checkpointer)
                row = {"epoch": epoch, "train_loss": loss_sum / max(count, 1), "val_loss": math.nan,
                       "lr": training.optimizer.param_groups[0]["lr"]}
                training.scheduler.step()
                if training.is_main:
                    row["val_loss"] = validate(training, val_loader) if val_loader is not None else math.nan
                    row.update(options.held_out_scores(model.eval()) if options.held_out_scores else {})
                row["seconds"] = time.perf_counter() - started
                row["process"] = PROCESS   # which process trained it: a run resumed in another session says so
                training.run.history.append(row)
                if training.is_main:
                    checkpointer.save(training, epoch)
                    if options.on_save is not None:
                        options.on_save(training.run)
                _say_epoch(training, row)
                if options.on_epoch_end is not None:
                    options.on_epoch_end(epoch, row)
    return training.run


def _say_epoch(training: Training, row: dict) -> None:
    """The epoch's line; after the first epoch of this call, what the rest will take at this pace."""
    epoch, epochs = row["epoch"], training.spec.epochs
    extra = "".join(f"  {name} {value:.3f}" for name, value in row.items()
                    if name not in ("epoch", "train_loss", "val_loss", "lr", "seconds", "process"))
    training.say(f"epoch {epoch:>3}/{epochs}  train {row['train_loss']:.4f}  {training.options.held_out_name} "
                 f"{row['val_loss']:.4f}{extra}  lr {row['lr']:.0e}  {row.get('seconds', 0):.0f}s")
    left = epochs - epoch
    if epoch == training.run.resumed_from_epoch + 1 and left:
        training.say(f"  at most about {duration_text(left * row.get('seconds', 0))} more for the remaining {left} "
                     f"epoch{'s' if left > 1 else ''} (this one's pace; it also read every image once)")


def _loaded_finished(training: Training, state: dict) -> TrainingRun:
    load_weights(training.trainable, state, training.run.checkpoint)
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


def recipe_options(data, trainable: nn.Module, checkpoint: Path, *, device, retrain: bool = False,
                   checkpoint_every: str | None = None, progress: bool = True) -> dict:
    """The :func:`fit` options both recipes share: what the checkpoint stores besides the weights (the data's
    folder and files, the network's architecture) and checkpoints within epochs (``"200"`` steps, ``"10m"``)."""
    if process_group()[0] == 0:
        # the records go there after every epoch: a folder that cannot take them is found now
        check_writable_folder(outputs.own(paths.report_dir()), "the report folder", "SALIENCY_REPORT_DIR")
        for other in sorted(set(checkpoint.parent.glob(f"{checkpoint.stem.rsplit('_', 1)[0]}_??????.pt")) - {checkpoint}):
            print(f"{other.name} has the same settings but was trained on other data; this run trains into "
                  f"{checkpoint.name}, and that file is kept")
    every_steps, every_minutes = parse_checkpoint_every(checkpoint_every)
    return {"device": device, "trainable": trainable, "retrain": retrain, "progress": progress,
            "checkpoint_every": every_steps, "checkpoint_minutes": every_minutes,
            "extra": {"data_folder": str(data.root), "architecture": architecture(trainable),
                      "split_files": data.split_files(progress=progress)}}


def parse_checkpoint_every(text: str | None) -> tuple[int | None, float | None]:
    """``"200"`` → every 200 steps; ``"10m"`` → every 10 minutes; ``None`` → epochs only."""
    if not text:
        return None, None
    try:
        if text.endswith("m") and float(text[:-1]) > 0:
            return None, float(text[:-1])
        if not text.endswith("m") and int(text) > 0:
            return int(text), None
    except ValueError:
        pass
    raise ValueError(f"--checkpoint-every must be a number of steps (200) or minutes (10m), got {text!r}")
