"""Checkpoints as nanoGPT and torchvision's references keep them: one dict in one file, named by the run's identity.

Read :func:`checkpoint_path` (the name), :func:`read_checkpoint` (every check of a file, in one place) and
:class:`Checkpointer` (one run's file: the lock, RETRAIN's set-aside, saving and resuming).
"""
from __future__ import annotations

import contextlib
import json
import random
import shutil
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from . import outputs, paths
from .data.fingerprints import split_differences
from .identity import architecture, architecture_differences, digest
from .io import DiskFullError, atomic_path, check_writable_folder
from .spec import parameter_name

KEYS = ("model", "optimizer", "scheduler", "epoch", "step_in_epoch", "partial", "epochs_planned", "history", "spec",
        "metadata", "rng")
RETRAIN = "set RETRAIN = True (retrain=True, --retrain) to train anew, keeping the old file beside the new one"


class CheckpointError(RuntimeError):
    """A checkpoint is unreadable, damaged, not this project's, or of another run (the message names the file)."""


class ArchitectureMismatchError(CheckpointError):
    """A checkpoint holds a network the code no longer builds (the message says what differs)."""


def run_identity(spec, metadata: dict | None = None) -> dict:
    """What makes a trained model what it is: the spec's identity and the run's metadata (data, network, weights)."""
    return json.loads(json.dumps({**spec.identity(), **(metadata or {})}))


def checkpoint_path(kind: str, dataset: str, spec, metadata: dict | None = None) -> Path:
    """``checkpoints/<kind>_<dataset>_<8 hex of the settings>[_<6 hex of the data>].pt``."""
    key = run_identity(spec, metadata)
    data = key.pop("data", None)
    return paths.checkpoint_dir() / f"{kind}_{dataset}_{digest(key, 8)}{'_' + data['digest'][:6] if data else ''}.pt"


def same_settings_other_data(checkpoint: Path) -> list[str]:
    """One line for each checkpoint beside ``checkpoint`` of the same settings trained on other data."""
    head, lines = checkpoint.stem.rsplit("_", 1)[0], []
    for other in sorted(checkpoint.parent.glob(f"{head}_??????.pt")):
        if other != checkpoint:
            lines.append(f"{other.name} has the same settings but was trained on other data; this run trains into "
                         f"{checkpoint.name}, and that file is kept")
    return lines


def read_checkpoint(path: str | Path, wanted: dict | None = None, spec=None) -> dict:
    """A checkpoint loaded as plain data (``weights_only``: a crafted file cannot run code), refused naming the
    file when unreadable, foreign, damaged (an epoch count its history cannot have, weights not finite) or — with
    ``wanted`` — of another identity than ``wanted`` (``spec`` names the settings as a notebook sets them)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no checkpoint here")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated zip, a pickle with code in it, not a torch file at all
        raise CheckpointError(f"{path}: not a readable checkpoint of this project ({type(exc).__name__}); it is left "
                              "as it is") from None
    missing = [key for key in KEYS if not isinstance(state, dict) or key not in state]
    if missing:
        raise CheckpointError(f"{path}: not a checkpoint written by this project's training (missing {missing})")
    epoch, planned, history = state["epoch"], state["epochs_planned"], state["history"]
    if not isinstance(epoch, int) or not 0 <= epoch <= planned or len(history) != epoch:
        raise CheckpointError(f"{path}: says {epoch!r} epochs done of {planned!r} planned, and its history holds "
                              f"{len(history)}; damaged or edited, it is left as it is. {RETRAIN}")
    broken = [name for name, w in state["model"].items() if w.is_floating_point() and not torch.isfinite(w).all()]
    if broken:
        raise CheckpointError(f"{path}: weights that are not finite (in {', '.join(broken[:3])}); it is left as it "
                              f"is. {RETRAIN}")
    found = run_identity(type(spec).from_stored(state["spec"]), state["metadata"]) if wanted is not None else None
    if found != wanted:
        names = set(spec.field_names())
        differ = ", ".join(f"{parameter_name(n) if n in names else n}: {found.get(n, '(unset)')!r} in the file, "
                           f"{wanted.get(n, '(unset)')!r} now" for n in sorted({*found, *wanted}) if found.get(n) != wanted.get(n))
        raise CheckpointError(f"{path} holds a model trained with other settings ({differ}); it is not overwritten. "
                              f"Use another checkpoint path, or {RETRAIN}")
    return state


def check_architecture(path: str | Path, state: dict, module: nn.Module, retrain_hint: str) -> None:
    """Refuse a checkpoint whose network (module tree, settings, parameter shapes) is not ``module``."""
    built = architecture(module)
    if built != state.get("architecture"):
        raise ArchitectureMismatchError(f"{path}: the network in it is not the one the code builds now "
                                        f"({architecture_differences(state.get('architecture', []), built)}); "
                                        f"{retrain_hint}, or restore the code it was trained with")


def load_weights(module: nn.Module, state: dict, path: Path) -> None:
    """``state``'s weights into ``module``; weights of another shape are refused naming the file."""
    try:
        module.load_state_dict(state["model"])
    except RuntimeError as error:
        detail = next((line.strip() for line in str(error).splitlines() if "size mismatch" in line), "other weights")
        raise CheckpointError(f"{path}: its weights do not fit the network the code builds ({detail}); the file is "
                              f"left as it is. {RETRAIN}") from None


def save(path: Path, state: dict) -> None:
    """Write ``state`` to ``path`` atomically and durably; a full disk is refused naming the file (the previous
    checkpoint is still there)."""
    try:
        with atomic_path(outputs.check_may_write(path, paths.checkpoint_dir()), durable=True) as tmp:
            torch.save(state, tmp)
    except (OSError, RuntimeError) as error:
        if not (isinstance(error, DiskFullError) or "unexpected pos" in str(error) or "No space" in str(error)):
            raise
        free = shutil.disk_usage(path.parent).free / 2**20
        raise CheckpointError(f"{path}: could not be written, the disk is full ({free:.1f} MiB free); the previous "
                              "checkpoint is kept. Free some space and run again to resume") from None


def held(checkpoint: Path, doing: str):
    """Hold ``.<checkpoint>.lock`` while ``doing``; a second process asking for it says so and waits."""
    lock = checkpoint.with_name(f".{checkpoint.name}.lock")
    return outputs.held_or_waited_for(lock, lambda: f"{lock.name} is held by another process ({doing}): waiting for "
                                                    "it to finish, then this run loads or resumes what it left")


def random_states() -> dict:
    """torch's, NumPy's and Python's random states as plain data (a checkpoint is read with ``weights_only``)."""
    name, keys, position, has_gauss, cached = np.random.get_state()
    return {"torch": torch.get_rng_state(), "python": random.getstate(),
            "numpy": [name, keys.tolist(), int(position), int(has_gauss), float(cached)]}


def restore_random_states(state: dict) -> None:
    rng = state["rng"]
    name, keys, position, has_gauss, cached = rng["numpy"]
    torch.set_rng_state(rng["torch"])
    np.random.set_state((name, np.array(keys, dtype=np.uint32), position, has_gauss, cached))
    random.setstate((rng["python"][0], tuple(rng["python"][1]), rng["python"][2]))


class Checkpointer:
    """One run's file: its lock, RETRAIN's set-aside, the matching state, saving (rank 0) and what ``extra`` adds."""

    def __init__(self, path: Path, spec, metadata: dict | None, extra: dict | None, is_main: bool):
        self.path, self.spec, self.extra, self.is_main = Path(path), spec, extra or {}, is_main
        self.wanted, self.last_saved = run_identity(spec, metadata), time.monotonic()

    def locked(self):
        if not self.is_main:
            return contextlib.nullcontext()
        check_writable_folder(self.path.parent, "the checkpoint folder", "SALIENCY_CHECKPOINT_DIR")
        outputs.check_may_write(self.path, paths.checkpoint_dir())   # before the lock file goes in
        return held(self.path, f"training {self.path.name}")

    def start(self, retrain: bool) -> dict | None:
        """The state to go on from: ``None`` for a fresh run (RETRAIN renames an old file ``*.replaced-<time>.pt``)."""
        if retrain and self.is_main and self.path.is_file():
            stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(self.path.stat().st_mtime))
            kept = self.path.with_name(f"{self.path.stem}.replaced-{stamp}-{time.time_ns() % 10**6}.pt")
            print(f"RETRAIN: the previous {self.path.name} is kept as {self.path.rename(kept).name}")
        if dist.is_available() and dist.is_initialized():
            dist.barrier()  # every rank sees the set-aside before deciding whether to resume
        if not self.path.is_file():
            return None
        state = read_checkpoint(self.path, self.wanted, self.spec)
        stored, now = state.get("split_files"), self.extra.get("split_files")
        differences = split_differences(stored, now) if stored is not None and now is not None else []
        if differences:
            raise CheckpointError(f"{self.path} was trained on other images than the folder holds now "
                                  f"({'; '.join(differences)}); it is not overwritten. Restore the files, or {RETRAIN}")
        return state

    def save(self, training, epoch_done: int, step_in_epoch: int = 0, totals: tuple[float, int] = (0.0, 0)) -> None:
        """The run's dict; a finished run keeps no optimiser state (it is loaded, not resumed)."""
        finished = epoch_done == self.spec.epochs and not step_in_epoch
        save(self.path, {
            "model": training.trainable.state_dict(), "optimizer": None if finished else training.optimizer.state_dict(),
            "scheduler": training.scheduler.state_dict(), "epoch": epoch_done, "step_in_epoch": step_in_epoch,
            "partial": list(totals), "epochs_planned": self.spec.epochs, "history": training.run.history,
            "spec": self.spec.as_dict(), "metadata": json.loads(json.dumps(training.run.metadata)),
            "rng": random_states(), **self.extra})
        self.last_saved = time.monotonic()
