"""Data-parallel training: starting ``torchrun`` from a notebook, the process group, the per-rank batch.

A recipe (:func:`helpers.saliency.train`, :func:`helpers.inversion.train_decoder`) asked for
``nproc`` > 1 processes writes its spec to one JSON file and runs ``torchrun --standalone
--nproc-per-node nproc -m helpers.train PART --spec FILE``; every rank then calls the same recipe
with that spec, and the notebook loads the finished checkpoint they left. ``--batch-size`` is the
**global** batch: each of N processes takes ``batch / N`` images per step.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TypeVar

import torch
import torch.distributed as dist

T = TypeVar("T")


#: What the three libraries that run PyTorch's CPU arithmetic are told to stay below, when a machine
#: with AVX-512 is made to compute as one with only AVX2 (``benchmarks/README.md``: how the AVX2 kind's
#: figures were taken where no such machine was drawn): PyTorch's own kernels, oneDNN's (convolutions)
#: and MKL's (matrix products).
AVX2_ONLY = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"}
#: oneDNN's ISA caps below the first one with bf16 instructions (AVX512_CORE_BF16).
_ONEDNN_BELOW_BF16 = {"SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2", "AVX512_CORE", "AVX512_CORE_VNNI"}


def _cpu_info(cpuinfo: str | Path) -> tuple[int, set[str]]:
    """``(processors, flags)`` of ``cpuinfo`` (``/proc/cpuinfo``); ``(0, set())`` where it cannot be read."""
    try:
        lines = Path(cpuinfo).read_text().splitlines()
    except OSError:
        return 0, set()
    flags = {flag for line in lines if line.startswith("flags") for flag in line.partition(":")[2].split()}
    return sum(line.startswith("processor") for line in lines), flags


def _has_bf16(flags: set[str], environ) -> bool:
    return bool(flags & {"avx512_bf16", "amx_bf16"}) and not restricted_to_avx2(environ)


def restricted_to_avx2(environ=os.environ) -> bool:
    """Whether this process was told to compute as an AVX2 CPU (:data:`AVX2_ONLY`, or oneDNN alone
    capped below bf16)."""
    return (environ.get("ATEN_CPU_CAPABILITY", "").lower() == "avx2"
            or environ.get("ONEDNN_MAX_CPU_ISA", "").upper() in _ONEDNN_BELOW_BF16)


def cpu_computes_bf16(cpuinfo: str | Path = "/proc/cpuinfo", environ=os.environ) -> bool:
    """Whether this CPU has bf16 instructions of its own (``avx512_bf16`` or AMX), the path on which
    oneDNN runs bf16 convolutions 1.5–1.8× faster than float32 (``benchmarks/training_speed.py --part
    cpu-bf16``), and oneDNN is not told to stay below them (``ONEDNN_MAX_CPU_ISA``); without them bf16
    is emulated and slower. False where ``cpuinfo`` cannot be read."""
    return _has_bf16(_cpu_info(cpuinfo)[1], environ)


def cpu_kind(cpuinfo: str | Path = "/proc/cpuinfo", environ=os.environ) -> str:
    """The machine kind a timing or figure names: ``"2-core AVX-512 with bf16"``, ``"2-core AVX2
    without bf16"``, or, for an AVX-512 CPU run with :data:`AVX2_ONLY`, ``"2-core AVX-512 run as AVX2
    without bf16"`` (cores counted from ``cpuinfo``)."""
    cores, flags = _cpu_info(cpuinfo)
    cores = cores or os.cpu_count() or 0
    if _has_bf16(flags, environ):
        return f"{cores}-core AVX-512 with bf16"
    if "avx512f" not in flags:
        return f"{cores}-core AVX2 without bf16"
    return f"{cores}-core AVX-512 {'run as AVX2 ' if restricted_to_avx2(environ) else ''}without bf16"


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


def process_group() -> tuple[int, int]:
    """``(rank, world size)`` of this process: ``(0, 1)`` outside a started process group."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def available_processes(device: torch.device) -> int:
    """How many processes can train at once: one per visible GPU, else one per CPU core."""
    if device.type == "cuda":
        return torch.cuda.device_count()
    return os.cpu_count() or 1


def check_nproc(nproc, device: torch.device) -> int:
    """``nproc`` itself when it is a whole number from 1 to the processes the machine has, else an error."""
    limit = available_processes(device)
    if isinstance(nproc, bool) or not isinstance(nproc, int) or not 1 <= nproc <= limit:
        where = f"{limit} GPU(s) visible" if device.type == "cuda" else f"{limit} CPU core(s)"
        raise ValueError(f"NPROC must be a whole number from 1 to {limit} ({where}), got {nproc!r}")
    return nproc


def launch(spec, nproc: int, device: str, retrain: bool = False, num_workers: int = 0,
           checkpoint_every: str | None = None) -> None:
    """Train ``spec`` with ``nproc`` processes on this machine, printing their output as it comes;
    an error names the exit status. The caller then loads the checkpoint they left."""
    check_nproc(nproc, select_device(device))
    with tempfile.TemporaryDirectory(prefix="spec-") as folder:
        spec_path = Path(folder) / "spec.json"
        spec_path.write_text(spec.to_json())
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(nproc),
                   "-m", "helpers.train", spec.PART, "--spec", str(spec_path), "--device", str(device),
                   "--num-workers", str(num_workers)]
        command += ["--retrain"] if retrain else []
        command += ["--checkpoint-every", checkpoint_every] if checkpoint_every else []
        print("$ " + " ".join(command[1:]), flush=True)
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
                              env={**os.environ, "SALIENCY_PROGRESS_BARS": "0"}) as process:
            for line in process.stdout:
                print(line, end="", flush=True)
    if process.returncode:
        raise RuntimeError(f"training with {nproc} processes failed (exit status {process.returncode}); its output is "
                           "above. Run the same cell again to resume from the last checkpoint")


def start_process_group(device: str) -> torch.device:
    """Under torchrun (``WORLD_SIZE`` > 1) start the process group — ``nccl`` on GPUs (one per
    process, ``LOCAL_RANK``), ``gloo`` on the CPU — and return this process' device."""
    chosen = select_device(device)
    if int(os.environ.get("WORLD_SIZE", "1")) == 1 or (dist.is_available() and dist.is_initialized()):
        return chosen
    if chosen.type == "cuda":
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        chosen = torch.device("cuda", local)
    dist.init_process_group(backend="nccl" if chosen.type == "cuda" else "gloo")
    return chosen


def rank_zero_first(make: Callable[[], T]) -> T:
    """``make()`` on rank 0 first, then on the other ranks: what it prepares on disk (a generated
    sample, a cache) is made once and complete before any other process reads it."""
    rank, world = process_group()
    if world == 1:
        return make()
    if rank == 0:
        result = make()
        dist.barrier()
        return result
    dist.barrier()
    return make()


def per_rank_batch(global_batch: int) -> int:
    """This process' share of the global batch (the whole batch outside a process group)."""
    world = process_group()[1]
    if global_batch % world:
        raise ValueError(f"BATCH_SIZE {global_batch} (the global batch) must divide evenly among {world} processes")
    return global_batch // world


@dataclass
class HowToRun:
    """A recipe's options of how to run (none of them part of what is trained)."""

    device: torch.device
    nproc: int = 1
    retrain: bool = False
    num_workers: int = 0
    checkpoint_every: str | None = None   # "200" steps or "10m"
    progress: bool = True

    def fit_options(self, spec, data, trainable: torch.nn.Module, checkpoint: Path) -> dict:
        """What both recipes do between naming the checkpoint and calling :func:`helpers.training.fit`:
        say which checkpoint has the same settings on other data, train with ``nproc`` processes under
        ``torchrun`` first when asked (then this process loads what they left), and collect ``fit``'s
        options — among them what the checkpoint stores besides the weights."""
        from . import paths
        from .checkpoints import same_settings_other_data
        from .identity import architecture
        from .io import check_writable_folder

        if process_group()[0] == 0:
            # the records go there after every epoch: a folder that cannot take them is found now
            check_writable_folder(paths.metrics_dir(), "the report's metrics folder", "SALIENCY_REPORT_DIR")
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
