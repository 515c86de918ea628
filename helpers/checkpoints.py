"""Checkpoints: what names them, what they hold, and how a run resumes from one.

The plumbing behind :func:`helpers.training.fit`, kept out of the loop:

* **identity and name** — :func:`run_identity` (the spec's identity and the run's metadata: data,
  network, frozen weights) names the file, :func:`checkpoint_path`; two configurations never share a
  file and the same configuration always finds its own;
* **reading** — :func:`read_checkpoint` loads with ``weights_only=True`` (opening a file cannot run
  code) and names the file in every refusal; :func:`check_architecture` refuses a network the code no
  longer builds;
* **one run's file** — :class:`Checkpointer`: the lock (two identical runs: the second waits, then
  loads what the first left), RETRAIN's set-aside, the refusal of a file of other settings or other
  images, the atomic save after every epoch (and every N steps or minutes), and the resume state (the
  optimiser, the schedule, every random state, the sampler's position).
"""
from __future__ import annotations

import contextlib
import json
import random
import shutil
import signal
import threading
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from . import paths, written
from .data.fingerprints import split_differences
from .identity import architecture, architecture_differences, digest
from .io import DiskFullError, atomic_path, check_writable_folder, held_or_waited_for
from .spec import parameter_name


class CheckpointError(RuntimeError):
    """A checkpoint is unreadable, not this project's, or of other settings (the message names the file)."""


class ArchitectureMismatchError(RuntimeError):
    """A checkpoint holds a network the code no longer builds (the message says what differs)."""


#: The names two settings had before the spec was the training loop's only config. Checkpoint names
#: are digests of the identity under these names, so every existing checkpoint keeps its file name
#: (``tests/fixtures/checkpoints_before_one_spec.json``); only here, and where an old file is read.
LEGACY_NAMES = {"learning_rate": "lr", "lr_step": "step_size"}
#: What every checkpoint written by :func:`helpers.training.fit` holds, besides its identity.
CHECKPOINT_KEYS = ("model", "optimizer", "scheduler", "torch_rng", "epoch", "history", "metadata")
#: What a checkpoint set aside by ``RETRAIN`` carries in its name: ``<stem>.replaced-<time>.pt``.
SET_ASIDE = ".replaced-"


def _plain(value):
    """JSON-like copy (tuples become lists), as a checkpoint stores and returns it."""
    return json.loads(json.dumps(value))


def run_identity(spec, metadata: dict | None = None) -> dict:
    """What makes a trained model what it is: the spec's identity (:meth:`helpers.spec.Spec.identity`:
    every setting but how to run and the epoch count) and the run's ``metadata`` (the data set's
    resolved name, the data's fingerprint, the network, the frozen weights), which wins where both
    name a key (``dataset``: the spec's may say "auto")."""
    return {**_plain(spec.identity()), **_plain(metadata or {})}


def _named_as_before(identity: dict) -> dict:
    """``identity`` with the settings under the names they had when checkpoints were first named."""
    return {LEGACY_NAMES.get(name, name): value for name, value in identity.items()}


def stored_identity(state: dict, spec_class, path: Path | str = "the checkpoint") -> dict:
    """The identity a checkpoint was trained with, under today's names, whichever version wrote it:
    its spec (of ``spec_class``) and metadata; before that, ``identity`` under the legacy names (and a
    spec beside it that must agree: the spec builds and labels the network); and before the spec was
    the loop's only config, ``config`` beside ``metadata``."""
    if "identity" not in state and "config" not in state:
        return run_identity(spec_class.from_stored(state["spec"]), state["metadata"])
    stored = state["identity"] if "identity" in state else {**state["config"], **state["metadata"]}
    today = {old: new for new, old in LEGACY_NAMES.items()}
    identity = {today.get(name, name): value for name, value in stored.items()}
    if "spec" in state:
        from_spec = run_identity(spec_class.from_stored(state["spec"]), state["metadata"])
        edited = [name for name in identity if name in from_spec and from_spec[name] != identity[name]]
        if edited:
            raise CheckpointError(f"{path}: the settings stored in it disagree with the identity it was saved under "
                                  f"({', '.join(f'{parameter_name(n)}: {from_spec[n]!r} against {identity[n]!r}' for n in edited)}; "
                                  f"edited by hand?); it is left as it is. Set RETRAIN = True to train anew beside it")
    return identity


def checkpoint_path(kind: str, dataset: str, spec, metadata: dict | None = None) -> Path:
    """``checkpoints/<kind>_<dataset>_<8 hex digits of the settings>.pt`` — and, when ``metadata``
    holds the data's fingerprint (``"data"``), ``..._<settings>_<6 hex digits of the data>.pt``, so
    the same settings on other data are found by :func:`same_settings_other_data`."""
    key = _named_as_before(run_identity(spec, metadata))
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


def read_checkpoint(path: str | Path, device: torch.device | str = "cpu") -> dict:
    """A checkpoint written by :func:`helpers.training.fit`, loaded as plain data (``weights_only=True``:
    a crafted file cannot run code). A missing, truncated or foreign file is a :class:`CheckpointError`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no checkpoint here")
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except Exception as exc:  # truncated zip, a pickle with code in it, not a torch file at all
        raise CheckpointError(f"{path}: not a readable checkpoint of this project ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0] if str(exc) else 'no detail'}); it is left as it is") from None
    missing = [key for key in CHECKPOINT_KEYS if not isinstance(state, dict) or key not in state]
    if not missing and not {"spec", "identity", "config"} & set(state):
        missing = ["spec"]
    if missing:
        raise CheckpointError(f"{path}: not a checkpoint written by this project's training (missing {missing})")
    check_whole(path, state)
    return state


def check_whole(path: Path, state: dict) -> None:
    """Refuse a checkpoint whose count of epochs its history and plan cannot have (``epoch`` edited to 99),
    or whose weights are not finite: loaded, either would pass for a finished network."""
    epoch, planned, history = state["epoch"], state.get("epochs_planned"), state["history"]
    if not isinstance(epoch, int) or not 0 <= epoch <= (planned if isinstance(planned, int) else epoch) \
            or len(history) != epoch:
        raise CheckpointError(f"{path}: says {epoch!r} epochs done of {planned!r} planned, and its history holds "
                              f"{len(history)}; damaged or edited, it is left as it is. Set RETRAIN = True to train "
                              "anew beside it")
    weights = state["model"] if isinstance(state["model"], dict) else {}
    broken = [name for name, tensor in weights.items() if torch.is_tensor(tensor) and tensor.is_floating_point()
              and not torch.isfinite(tensor).all()]
    if broken:
        raise CheckpointError(f"{path}: weights that are not finite (NaN or infinity in {', '.join(broken[:3])}); it "
                              "is left as it is. Set RETRAIN = True to train anew beside it")


def load_weights(module: nn.Module, state: dict, path: Path) -> None:
    """``state``'s weights into ``module``; weights of another shape are a :class:`CheckpointError`
    naming the file (PyTorch's own message names neither the file nor what to do)."""
    try:
        module.load_state_dict(state["model"])
    except RuntimeError as error:
        detail = next((line.strip() for line in str(error).splitlines() if "size mismatch" in line or "Missing" in line
                       or "Unexpected" in line), str(error).splitlines()[0])
        raise CheckpointError(f"{path}: its weights do not fit the network the code builds ({detail}); the file is "
                              "left as it is. Set RETRAIN = True (--retrain) to train anew beside it") from None


def check_architecture(path: str | Path, state: dict, module: nn.Module, retrain_hint: str) -> None:
    """Refuse a checkpoint whose network is not the one ``module`` is (its module tree, settings and
    parameter shapes, :func:`helpers.identity.architecture`), saying what differs."""
    if "architecture" not in state:
        raise ArchitectureMismatchError(f"{path}: trained by an earlier version of this project (no architecture "
                                        f"stored); {retrain_hint} (the file is kept as it is)")
    built = architecture(module)
    if built != state["architecture"]:
        raise ArchitectureMismatchError(f"{path}: the network in it is not the one the code builds now "
                                        f"({architecture_differences(state['architecture'], built)}); {retrain_hint}, "
                                        "or restore the code it was trained with")


def _differences(found: dict, wanted: dict, spec) -> str:
    """Where two identities differ, a spec's settings named as a notebook sets them (``LEARNING_RATE``)."""
    fields = set(spec.field_names())
    return ", ".join(f"{parameter_name(name) if name in fields else name}: {found.get(name, '(unset)')!r} in the file, "
                     f"{wanted.get(name, '(unset)')!r} now"
                     for name in sorted(set(found) | set(wanted)) if found.get(name) != wanted.get(name))


def set_aside(path: Path) -> Path:
    """Rename a checkpoint that is about to be replaced to ``<stem>.replaced-<time>.pt`` beside it."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(path.stat().st_mtime))
    kept = path.with_name(f"{path.stem}{SET_ASIDE}{stamp}{path.suffix}")
    counter = 1
    while kept.exists():
        kept = path.with_name(f"{path.stem}{SET_ASIDE}{stamp}-{counter}{path.suffix}")
        counter += 1
    path.rename(kept)
    return written.record(kept, paths.checkpoint_dir())


def save(path: Path, state: dict) -> None:
    """Write ``state`` to ``path`` atomically; a full disk is a :class:`CheckpointError` naming the
    file (the previous checkpoint, if any, is still there). torch reports a full disk as a failed
    write inside its zip writer ("unexpected pos"), which is read as such."""
    try:
        with atomic_path(path, durable=True) as tmp:
            torch.save(state, tmp)
        written.record(path, paths.checkpoint_dir())   # what make clean-models may remove
    except (OSError, RuntimeError) as error:
        full = isinstance(error, DiskFullError) or "unexpected pos" in str(error) or "No space" in str(error)
        if not full:
            raise
        free = shutil.disk_usage(path.parent).free
        raise CheckpointError(f"{path}: could not be written, the disk is full ({free / 2**20:.1f} MiB free); the "
                              "previous checkpoint is kept. Free some space and run again to resume") from None


def held(checkpoint: Path, doing: str):
    """Hold ``.<checkpoint>.lock`` while ``doing``; a second process asking for it says so and waits."""
    lock = checkpoint.with_name(f".{checkpoint.name}.lock")
    return held_or_waited_for(lock, lambda: f"{lock.name} is held by another process ({doing}): waiting for it to "
                                            "finish, then this run loads or resumes what it left")


@contextlib.contextmanager
def ctrl_c_waits_for_the_step(enabled: bool):
    """While an epoch runs in one process: the first Ctrl-C (SIGINT; a Jupyter kernel's interrupt too)
    is noted in the list this yields, so the step under way finishes and the loop can save it before
    it stops; a second one stops at once. Off under DDP (every rank would have to save the same step), and
    where Ctrl-C is ignored (a process started in the background by a shell, or by ``nohup``, keeps ignoring it)."""
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


def _random_states() -> dict:
    """NumPy's and Python's random states as plain data (a checkpoint is read with ``weights_only``)."""
    name, keys, position, has_gauss, cached = np.random.get_state()
    return {"numpy": [name, keys.tolist(), int(position), int(has_gauss), float(cached)], "python": random.getstate()}


def restore_random_states(state: dict) -> None:
    """torch's, NumPy's and Python's random states as ``state`` stored them."""
    torch.set_rng_state(state["torch_rng"])
    if state.get("random"):
        name, keys, position, has_gauss, cached = state["random"]["numpy"]
        np.random.set_state((name, np.array(keys, dtype=np.uint32), position, has_gauss, cached))
        random.setstate(_as_tuple(state["random"]["python"]))


def _as_tuple(value):
    return tuple(_as_tuple(v) for v in value) if isinstance(value, (list, tuple)) else value


class Checkpointer:
    """One run's checkpoint file: the lock, setting an old one aside, the matching state, saving
    (rank 0 only) and resuming. ``extra`` is stored as it is (the architecture, the split's files)."""

    def __init__(self, path: Path, spec, metadata: dict | None, extra: dict | None, is_main: bool):
        self.path, self.spec, self.extra, self.is_main = Path(path), spec, extra or {}, is_main
        self.wanted = run_identity(spec, metadata)
        self.last_saved = time.monotonic()

    def locked(self):
        """The lock of this file, held by the main process (a folder that cannot be written is refused
        first, not after an epoch)."""
        if not self.is_main:
            return contextlib.nullcontext()
        check_writable_folder(self.path.parent, "the checkpoint folder", "SALIENCY_CHECKPOINT_DIR")
        return held(self.path, f"training {self.path.name}")

    def start(self, retrain: bool) -> dict | None:
        """The state to go on from: ``None`` for a fresh run (RETRAIN sets an old file aside first)."""
        if retrain and self.is_main and self.path.is_file():
            print(f"RETRAIN: the previous {self.path.name} is kept as {set_aside(self.path).name}")
        if dist.is_available() and dist.is_initialized():
            dist.barrier()  # every rank sees the set-aside before deciding whether to resume
        return self.read_matching()

    def read_matching(self) -> dict | None:
        """The checkpoint's contents when there is one; one of other settings or images is refused."""
        if not self.path.is_file():
            return None
        state = read_checkpoint(self.path)  # on the CPU: the RNG state must stay there
        found, wanted = stored_identity(state, type(self.spec), self.path), self.wanted
        retrain = ("set RETRAIN = True (retrain=True, --retrain) to train anew and keep the old file beside the new one")
        if found != wanted:
            raise CheckpointError(f"{self.path} holds a model trained with other settings ({_differences(found, wanted, self.spec)}); "
                                  f"it is not overwritten. Use another checkpoint path, or {retrain}")
        stored, now = state.get("split_files"), self.extra.get("split_files")
        differences = split_differences(stored, now) if stored is not None and now is not None else []
        if differences:
            raise CheckpointError(f"{self.path} was trained on other images than the folder holds now "
                                  f"({'; '.join(differences)}); it is not overwritten. Restore the files, or {retrain}")
        return state

    def save(self, training, epoch_done: int, step_in_epoch: int = 0, totals: tuple[float, int] = (0.0, 0)) -> None:
        """``training``'s (:class:`helpers.training.Training`) weights, optimiser, schedule, history and
        random states; the last epoch's checkpoint keeps no optimiser state (a finished run is loaded)."""
        finished = epoch_done == self.spec.epochs and not step_in_epoch
        save(self.path, {
            "model": training.trainable.state_dict(),
            "optimizer": None if finished else training.optimizer.state_dict(),
            "scheduler": training.scheduler.state_dict(), "torch_rng": torch.get_rng_state(),
            "random": _random_states(), "epoch": epoch_done, "step_in_epoch": step_in_epoch,
            "partial": list(totals), "epochs_planned": self.spec.epochs, "history": training.run.history,
            "spec": _plain(self.spec.as_dict()), "metadata": _plain(training.run.metadata), **_plain(self.extra),
        })
        self.last_saved = time.monotonic()

    def step_due(self, step: int, every: int | None, minutes: float | None, world: int) -> bool:
        """Whether a checkpoint is due within the epoch after ``step`` (rank 0's clock decides)."""
        due = bool(every and step % every == 0)
        if minutes:
            due = due or time.monotonic() - self.last_saved >= 60 * minutes
            if world > 1:
                flag = torch.tensor([int(due)])
                dist.broadcast(flag, 0)
                due = bool(flag.item())
        return due

    def resume(self, training, state: dict) -> None:
        """Continue the run ``state`` holds: weights, optimiser, schedule, history and random states —
        those of a step within an epoch once that epoch's batches are drawn, as when it was saved."""
        load_weights(training.trainable, state, self.path)
        training.run.history = state["history"]
        if state["optimizer"] is None and self.is_main:
            print(f"{self.path.name} finished after {state['epoch']} epochs and kept no optimiser state; "
                  "the optimiser starts afresh for the extra epochs")
        if state["optimizer"] is not None:
            training.optimizer.load_state_dict(state["optimizer"])
        training.scheduler.load_state_dict(state["scheduler"])
        training.run.resumed_from_epoch = state["epoch"]
        training.resume_at = state.get("step_in_epoch", 0)
        if training.resume_at:
            training.partial, training.resume_state = tuple(state["partial"]) if self.is_main else (0.0, 0), state
        else:
            restore_random_states(state)
        if self.is_main:
            where = (f"step {training.resume_at} of epoch {state['epoch'] + 1}" if training.resume_at
                     else f"epoch {state['epoch']}")
            print(f"Resuming {self.path.name} after {where} of {self.spec.epochs}")
