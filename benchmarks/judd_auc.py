"""AUC-Judd on CAT2000-size maps: this project against pysaliency and a direct port of MIT's loop.

    python benchmarks/judd_auc.py [--maps 20]

Same maps, same run: 1080×1920 smooth saliency maps with about 300 fixated pixels each. Prints
milliseconds per map, the speed-up over each baseline, and the largest difference in the values;
with a GPU, also the batched torch engine on 1,000 maps against pysaliency per map.
Needs the benchmark extras (`pip install -e '.[bench]'`: pysaliency, numba, setuptools<81).
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import torch  # noqa: E402

from helpers import metrics  # noqa: E402
from helpers.metrics import auc_judd  # noqa: E402
from mit_reference import auc_judd_mit_loop  # noqa: E402

SHAPE = (1080, 1920)


def make_maps(count: int, seed: int = 0):
    """Smooth random saliency maps and ~300 fixated pixels drawn from each (as a real benchmark has)."""
    rng = np.random.default_rng(seed)
    maps, fixations = [], []
    for _ in range(count):
        coarse = gaussian_filter(rng.random((SHAPE[0] // 8, SHAPE[1] // 8)), 4)
        saliency = np.kron(coarse, np.ones((8, 8))) + rng.random(SHAPE) * 1e-3
        probability = (saliency - saliency.min()) ** 4
        chosen = rng.choice(saliency.size, size=300, replace=False, p=(probability / probability.sum()).ravel())
        fixation_map = np.zeros(SHAPE, dtype=bool)
        fixation_map.flat[chosen] = True
        maps.append(saliency)
        fixations.append(fixation_map)
    return maps, fixations


def per_map(function, maps, fixations, repeats: int = 1):
    values = [function(s, f) for s, f in zip(maps, fixations)]  # warm-up (numba compiles here)
    started = time.perf_counter()
    for _ in range(repeats):
        values = [function(s, f) for s, f in zip(maps, fixations)]
    return (time.perf_counter() - started) / (repeats * len(maps)), np.array(values)


def pysaliency_auc_judd():
    """pysaliency's ``AUC_Judd(jitter=False)`` for one map, through its model API."""
    if not hasattr(np, "trapz"):  # numpy 2.4 removed it; pysaliency's ROC core still calls it
        np.trapz = np.trapezoid
    import pysaliency

    class Precomputed(pysaliency.SaliencyMapModel):
        def __init__(self):
            super().__init__(caching=False)
            self.current = None

        def _saliency_map(self, stimulus):
            return self.current

    model = Precomputed()

    def score(saliency, fixation_map):
        ys, xs = np.nonzero(fixation_map)
        stimuli = pysaliency.Stimuli([np.zeros((*SHAPE, 3), dtype=np.uint8)])
        fixations = pysaliency.Fixations.create_without_history(xs, ys, np.zeros(len(xs), dtype=int))
        model.current = saliency
        return model.AUC_Judd(stimuli, fixations, jitter=False)

    return score


def auc_judd_torch(saliency_maps, fixation_maps, jitter: bool, seed: int) -> np.ndarray:
    """A batch of AUC-Judd scores (``(B, H, W)`` maps, map i jittered with ``seed + i``) in torch: sort every
    map once, binary-search the thresholds. Kept here, as a measured alternative: on the CPU it is
    slower than :func:`helpers.metrics.auc_judd`, and notebook 02 spends its time on the other metrics."""
    fixations = torch.as_tensor(fixation_maps)
    device = fixations.device
    fixations = (fixations > 0).flatten(1)
    shape = tuple(torch.as_tensor(fixation_maps).shape[-2:])
    saliency = torch.as_tensor(saliency_maps).to(device=device, dtype=torch.float64)
    if tuple(saliency.shape[-2:]) != shape:  # MATLAB's imresize as two matrix products
        rows = torch.from_numpy(metrics._resize_matrix(saliency.shape[-2], shape[0])).to(device)
        cols = torch.from_numpy(metrics._resize_matrix(saliency.shape[-1], shape[1])).to(device)
        saliency = rows @ saliency @ cols.T
    saliency = saliency.flatten(1)
    if jitter:
        noise = np.stack([np.random.default_rng(seed + i).random(shape).ravel() for i in range(len(saliency))])
        saliency = saliency + torch.from_numpy(noise).to(device) / 1e7
    n_pix = saliency.shape[1]
    low, high = saliency.amin(1, keepdim=True), saliency.amax(1, keepdim=True)
    values = (saliency - low) / (high - low)
    ordered = torch.sort(values, dim=1).values
    n_fix = fixations.sum(1)
    k = max(int(n_fix.max()), 1)
    thresholds = torch.where(fixations, values, torch.full_like(values, -torch.inf)).topk(k, dim=1).values
    above = n_pix - torch.searchsorted(ordered, thresholds.contiguous(), side="left")
    ranks = torch.arange(1, k + 1, device=device, dtype=torch.float64)
    valid = ranks[None, :] <= n_fix[:, None]
    tp = torch.where(valid, ranks / n_fix[:, None], 1.0)
    fp = torch.where(valid, (above - ranks) / (n_pix - n_fix[:, None]), 1.0)
    zero, one = torch.zeros_like(tp[:, :1]), torch.ones_like(tp[:, :1])
    tp, fp = torch.cat([zero, tp, one], 1), torch.cat([zero, fp, one], 1)
    scores = ((fp[:, 1:] - fp[:, :-1]) * (tp[:, 1:] + tp[:, :-1])).sum(1) / 2
    undefined = (n_fix == 0) | ~(high[:, 0] > low[:, 0])
    if undefined.any():
        warnings.warn(f"auc_judd_torch: {int(undefined.sum())} map(s) without fixations or constant; NaN",
                      stacklevel=3)
    return torch.where(undefined, torch.nan, scores).cpu().numpy()



def gpu_batched(maps, fixations, count, reference, pysaliency_seconds_per_map):
    """``count`` maps scored on the GPU in chunks of 64 (the 20 maps reused in turn)."""
    saliency = torch.from_numpy(np.stack(maps)).cuda()
    fixated = torch.from_numpy(np.stack(fixations)).cuda()
    order = np.arange(count) % len(maps)
    for warm_up in (True, False):
        torch.cuda.synchronize()
        started = time.perf_counter()
        values = np.concatenate([auc_judd_torch(saliency[order[i:i + 64]], fixated[order[i:i + 64]], False, 0)
                                 for i in range(0, count if not warm_up else 64, 64)])
        torch.cuda.synchronize()
    per = (time.perf_counter() - started) / count
    ratio = f" → {pysaliency_seconds_per_map / per:6.1f}× pysaliency per map (target ≥ 20×)" if pysaliency_seconds_per_map else ""
    print(f"  GPU batched ({torch.cuda.get_device_name()}, {count} maps) {per * 1e3:8.3f} ms/map{ratio}; "
          f"largest difference {np.max(np.abs(values - reference[order])):.1e}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--maps", type=int, default=20)
    parser.add_argument("--loop-maps", type=int, default=3, help="maps for the slow MIT loop")
    parser.add_argument("--gpu-maps", type=int, default=1000, help="maps for the batched GPU figure")
    args = parser.parse_args()
    maps, fixations = make_maps(args.maps)
    print(f"AUC-Judd, {args.maps} maps of {SHAPE[0]}×{SHAPE[1]}, "
          f"{np.mean([f.sum() for f in fixations]):.0f} fixated pixels on average, jitter off")

    ours, our_values = per_map(lambda s, f: auc_judd(s, f, jitter=False), maps, fixations, repeats=3)
    print(f"  this project      {ours * 1e3:8.2f} ms/map")
    theirs = None
    try:
        theirs, their_values = per_map(pysaliency_auc_judd(), maps, fixations)
    except ImportError as exc:
        print(f"  pysaliency        not installed ({exc}); pip install -e '.[bench]'")
    else:
        print(f"  pysaliency        {theirs * 1e3:8.2f} ms/map   → this project is {theirs / ours:5.2f}× faster "
              f"(target ≥ 1.5×); largest difference {np.max(np.abs(their_values - our_values)):.1e}")
    batched, batched_values = per_map(
        lambda s, f: auc_judd_torch(torch.from_numpy(s[None]), torch.from_numpy(f[None]), False, 0)[0], maps, fixations)
    print(f"  torch engine, CPU {batched * 1e3:8.2f} ms/map   (largest difference {np.max(np.abs(batched_values - our_values)):.1e})")
    if torch.cuda.is_available():
        gpu_batched(maps, fixations, args.gpu_maps, our_values, theirs)
    n = args.loop_maps
    loop, loop_values = per_map(auc_judd_mit_loop, maps[:n], fixations[:n])
    print(f"  MIT loop (port)   {loop * 1e3:8.2f} ms/map   → this project is {loop / ours:5.1f}× faster "
          f"(target ≥ 20×); largest difference {np.max(np.abs(loop_values - our_values[:n])):.1e}")


if __name__ == "__main__":
    main()
