"""Where training runs: the device, the CPU's kind, and the process group of a run the user started with
``torchrun --nproc-per-node N -m helpers.train …`` (``--batch-size`` is the global batch: each of N
processes takes ``batch / N`` images per step).
"""
from __future__ import annotations

import os
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


