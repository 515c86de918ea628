"""Checkpoints as nanoGPT and torchvision's references keep them: one dict in one file named by the run's
identity. Read :func:`checkpoint_path`, :func:`read_checkpoint` (every check of a file), :class:`Checkpointer`.
"""
from __future__ import annotations

import contextlib
import random
import shutil
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist

from . import outputs, paths
from .data.fingerprints import split_differences
from .identity import digest
from .io import DiskFullError, atomic_path, check_writable_folder
from .spec import parameter_name, plain

KEYS = ("model", "optimizer", "scheduler", "epoch", "step_in_epoch", "partial", "epochs_planned", "history", "spec",
        "metadata", "rng")
RETRAIN = "set RETRAIN = True (retrain=True, --retrain) to train anew, keeping the old file beside the new one"


class CheckpointError(RuntimeError):
    """A checkpoint is unreadable, damaged, not this project's, or of another run (the message names the file)."""


def run_identity(spec, metadata: dict | None = None) -> dict:
    """What makes a trained model what it is: the spec's identity and the run's metadata (data, network, weights)."""
    return plain({**spec.identity(), **(metadata or {})})


def checkpoint_path(kind: str, dataset: str, spec, metadata: dict | None = None) -> Path:
    """``checkpoints/<kind>_<dataset>_<8 hex of the settings>[_<6 hex of the data>].pt``."""
    key = run_identity(spec, metadata)
    data = key.pop("data", None)
    return paths.checkpoint_dir() / f"{kind}_{dataset}_{digest(key, 8)}{'_' + data['digest'][:6] if data else ''}.pt"


def read_checkpoint(path: str | Path, wanted: dict | None = None, spec=None, split_files: dict | None = None) -> dict:
    """A checkpoint loaded as plain data (``weights_only``: a crafted file cannot run code), refused naming the
    file when unreadable, foreign, damaged (an epoch count its history cannot have, weights not finite), of
    another identity than ``wanted`` (``spec`` names its settings) or trained on other files than ``split_files``."""
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
                           f"{wanted.get(n, '(unset)')!r} now"
                           for n in sorted({*found, *wanted}) if found.get(n) != wanted.get(n))
        raise CheckpointError(f"{path} holds a model trained with other settings ({differ}); it is not overwritten. "
                              f"Use another checkpoint path, or {RETRAIN}")
    stored = state.get("split_files")
    differences = split_differences(stored, split_files) if stored is not None and split_files is not None else []
    if differences:
        raise CheckpointError(f"{path} was trained on other images than the folder holds now "
                              f"({'; '.join(differences)}); it is not overwritten. Restore the files, or {RETRAIN}")
    return state


def save(path: Path, state: dict) -> None:
    """Write ``state`` atomically and durably; on a full disk the previous checkpoint stays, and the error says so."""
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
    """``.<checkpoint>.lock`` while ``doing``: a second run of the same file says so, waits, then loads it."""
    lock = checkpoint.with_name(f".{checkpoint.name}.lock")
    return outputs.held_or_waited_for(lock, lambda: f"{lock.name} is held by another process ({doing}): waiting for "
                                                    "it to finish, then this run loads or resumes what it left")


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
        return read_checkpoint(self.path, self.wanted, self.spec, self.extra.get("split_files")) \
            if self.path.is_file() else None

    @staticmethod
    def random_states() -> dict:
        """torch's, NumPy's and Python's random states as plain data (a checkpoint is read with ``weights_only``)."""
        name, keys, position, has_gauss, cached = np.random.get_state()
        return {"torch": torch.get_rng_state(), "python": random.getstate(),
                "numpy": [name, keys.tolist(), int(position), int(has_gauss), float(cached)]}

    def save(self, training, epoch_done: int, step_in_epoch: int = 0, totals: tuple[float, int] = (0.0, 0)) -> None:
        """The run's dict; a finished run keeps no optimiser state (it is loaded, not resumed)."""
        finished = epoch_done == self.spec.epochs and not step_in_epoch
        save(self.path, {
            "model": training.trainable.state_dict(), "scheduler": training.scheduler.state_dict(),
            "optimizer": None if finished else training.optimizer.state_dict(), "epoch": epoch_done, "step_in_epoch": step_in_epoch,
            "partial": list(totals), "epochs_planned": self.spec.epochs, "history": training.run.history,
            "spec": self.spec.as_dict(), "metadata": plain(training.run.metadata),
            "rng": self.random_states(), **self.extra})
        self.last_saved = time.monotonic()
