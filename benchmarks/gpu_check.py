"""The prepared GPU check's measurements (``benchmarks/gpu_check.sh`` runs the CUDA tests, then this).

    python benchmarks/gpu_check.py            # on a GPU machine: under 8 minutes on one GPU
    python benchmarks/gpu_check.py --dry-run  # on any CPU, tiny sizes: proves the script works

Each step runs the project's own code — the recipes notebooks 01 and 03 call, the batched AUC-Judd
engine of ``benchmarks/judd_auc.py``, the training-step timer of ``benchmarks/training_speed.py``,
``torchrun -m helpers.train`` — into a temporary folder (no checkpoint of yours is touched; the generated
samples are made in, or read from, ``SALIENCY_DATA_DIR`` when it is set), and
prints one block of figures. ``--dry-run`` does the same on the CPU at sizes that take seconds: the
figures it prints are the CPU's, not a GPU's.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from helpers import inversion, metrics, saliency  # noqa: E402
from helpers.models import SaliencyNet  # noqa: E402
from helpers.spec import InversionSpec, SaliencySpec  # noqa: E402


def peak_memory(device: torch.device) -> str:
    if device.type != "cuda":
        return "peak GPU memory: n/a (CPU)"
    return f"peak GPU memory {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB"


def reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()


def notebook_01(device: torch.device, dry: bool) -> None:
    """Notebook 01's recipe with Table 2's settings (SGD 1e-4, batch 2, 240×320) for one epoch."""
    spec = SaliencySpec(dataset="sample", whole_dataset=24 if dry else 400, epochs=1,
                        image_size=(64, 80) if dry else (240, 320))
    reset_peak(device)
    trained = saliency.train(spec, device=str(device), progress=False)
    row = trained.run.history[-1]
    images = len(trained.data.train_items)
    print(f"2. notebook 01 (PROFILE=assignment: SGD {spec.learning_rate:g}, batch {spec.batch_size}, "
          f"{spec.image_size[0]}×{spec.image_size[1]}), {images // spec.batch_size} steps: "
          f"{images / row['seconds']:.1f} images/s including validation; {peak_memory(device)}; "
          f"held-out AUC-Judd {row['AUC-Judd']:.3f}", flush=True)


def notebook_03(device: torch.device, dry: bool) -> None:
    """Notebook 03's recipe (conv2, Table 5: Adam 1e-3, batch 64, 227²) for one epoch (the dry run on 60
    images: at least two training crops of a photograph for it to give one to validation)."""
    spec = InversionSpec(dataset="sample", layer="conv2", weights="random", whole_dataset=60 if dry else 1000,
                         epochs=1, batch_size=8 if dry else 64, image_size=64 if dry else 227)
    reset_peak(device)
    trained = inversion.train_decoder(spec, device=str(device), progress=False)
    row = trained.run.history[-1]
    images = len(trained.data.train_items)
    print(f"3. notebook 03 (conv2, Adam {spec.learning_rate:g}, batch {spec.batch_size}, {spec.image_size}²), "
          f"{-(-images // spec.batch_size)} steps: {images / row['seconds']:.1f} images/s including the validation pass; "
          f"{peak_memory(device)}", flush=True)


def auc_engine(device: torch.device, dry: bool) -> None:
    """The batched torch AUC-Judd engine on CAT2000-sized maps against helpers.metrics.auc_judd on the CPU."""
    from judd_auc import auc_judd_torch, make_maps

    count = 4 if dry else 100
    maps, fixations = make_maps(min(count, 20))
    order = np.arange(count) % len(maps)
    started = time.perf_counter()
    reference = np.array([metrics.auc_judd(maps[i], fixations[i], jitter=False) for i in order])
    cpu = (time.perf_counter() - started) / count
    saliency_maps = torch.from_numpy(np.stack([maps[i] for i in order])).to(device)
    fixated = torch.from_numpy(np.stack([fixations[i] for i in order])).to(device)
    for _ in range(2):  # the first pass warms up the GPU
        if device.type == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        values = np.concatenate([auc_judd_torch(saliency_maps[i:i + 25], fixated[i:i + 25], False, 0)
                                 for i in range(0, count, 25)])
        if device.type == "cuda":
            torch.cuda.synchronize()
    batched = (time.perf_counter() - started) / count
    print(f"4. AUC-Judd, {count} maps of {maps[0].shape[0]}×{maps[0].shape[1]}: helpers.metrics (CPU) "
          f"{cpu * 1e3:.1f} ms/map, batched torch engine ({device.type}) {batched * 1e3:.2f} ms/map "
          f"({cpu / batched:.1f}×); largest difference {np.max(np.abs(values - reference)):.1e}", flush=True)


def mixed_precision(device: torch.device, dry: bool) -> None:
    """SalNet training steps: fp32 against bf16 autocast + channels-last, batch 2 and 64."""
    from training_speed import images_per_second

    size, steps = ((32, 48), 1) if dry else ((240, 320), 30)  # dry: bf16 on a CPU without bf16 units is slow
    for batch in ((2,) if dry else (2, 64)):
        torch.manual_seed(0)
        fp32 = images_per_second(SaliencyNet(), batch, size, device, steps, adam=False)
        reset_peak(device)
        bf16 = images_per_second(SaliencyNet(), batch, size, device, steps, bf16=True, channels_last=True, adam=False)
        print(f"5. SalNet {size[0]}×{size[1]}, batch {batch}: fp32 {fp32:.1f}, bf16 + channels-last {bf16:.1f} "
              f"images/s ({bf16 / fp32:.2f}×); {peak_memory(device)}", flush=True)


def two_process_ddp(device: torch.device, dry: bool) -> None:
    """``torchrun --nproc-per-node 2 -m helpers.train inversion`` when two GPUs are visible."""
    gpus = torch.cuda.device_count() if device.type == "cuda" else 0
    if gpus < 2 and not dry:
        print(f"6. two-process DDP: skipped ({gpus} GPU visible)", flush=True)
        return
    # --seed 1: another run than step 3's (the same spec would load step 3's finished checkpoint)
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
               "-m", "helpers.train", "inversion", "--device", device.type, "--dataset", "sample", "--layer", "conv2",
               "--weights", "random", "--seed", "1", "--whole-dataset", "60" if dry else "1000", "--epochs", "1",
               "--batch-size", "8" if dry else "128", "--image-size", "64" if dry else "227"]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    last = [line for line in done.stdout.splitlines() if re.search(r"\bepoch +\d+/\d+ +train", line)]  # named or not
    print(f"6. two-process DDP ({device.type}): exit {done.returncode} in {time.perf_counter() - started:.0f} s; "
          f"{last[-1] if last else done.stderr[-500:]}", flush=True)
    if done.returncode:
        raise SystemExit(done.returncode)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="tiny sizes on the CPU: check the script itself")
    args = parser.parse_args()
    if not args.dry_run and not torch.cuda.is_available():
        print("no GPU visible: run on a GPU machine, or with --dry-run on a CPU", file=sys.stderr)
        return 2
    device = torch.device("cpu" if args.dry_run else "cuda")
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        print(f"GPU: {torch.cuda.get_device_name()} ({torch.cuda.device_count()} visible); torch {torch.__version__}")
    else:
        print(f"dry run on the CPU ({torch.get_num_threads()} threads): the figures below are not a GPU's")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as workspace:
        # checkpoints and records always go to the temporary folder; the generated samples (and their
        # decode cache) are read from SALIENCY_DATA_DIR / SALIENCY_CACHE_DIR when set (made there once)
        for name in ("DATA", "CACHE", "CHECKPOINT", "REPORT"):
            if name in ("CHECKPOINT", "REPORT") or not os.environ.get(f"SALIENCY_{name}_DIR"):
                os.environ[f"SALIENCY_{name}_DIR"] = str(Path(workspace) / name.lower())
        os.environ["SALIENCY_PROGRESS_BARS"] = "0"
        for step in (notebook_01, notebook_03, auc_engine, mixed_precision, two_process_ddp):
            step(device, args.dry_run)
    print(f"done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
