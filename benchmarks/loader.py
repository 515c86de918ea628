"""The saliency loader on CAT2000-size stimuli (1920×1080 JPEGs, generated): decode once, then cache.

    python benchmarks/loader.py [--images 40] [--epochs 3]

Images per second for the first (cold) epoch, which decodes and fills the cache, and for later (warm)
epochs, against a naive loader that decodes and resizes every item every epoch. Target: warm ≥ 10×
naive.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from helpers.data import SaliencyDataset, find_cat2000, to_signed
from helpers.samples import write_saliency_sample

IMAGE_SIZE, MAP_SIZE = (240, 320), (236, 316)


class NaiveDataset(SaliencyDataset):
    """Decodes the full JPEGs and resizes them on every access (no cache, no JPEG draft mode)."""

    def __getitem__(self, index):
        item = self.items[index]
        image = Image.open(item.stimulus).convert("RGB").resize(IMAGE_SIZE[::-1], Image.Resampling.BILINEAR)
        saliency_map = Image.open(item.saliency_map).convert("L").resize(MAP_SIZE[::-1], Image.Resampling.BILINEAR)
        return to_signed(np.array(image)), to_signed(np.array(saliency_map))


def epoch_rate(dataset) -> float:
    started = time.perf_counter()
    for index in range(len(dataset)):
        dataset[index]
    return len(dataset) / (time.perf_counter() - started)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=40, help="stimuli (spread over 4 categories)")
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = write_saliency_sample(Path(tmp) / "cat2000", images_per_category=max(1, args.images // 4),
                                     size=(1920, 1080))
        items = find_cat2000(root)
        naive = [epoch_rate(NaiveDataset(items, IMAGE_SIZE, MAP_SIZE, cache_dir=None)) for _ in range(args.epochs)]
        cached = SaliencyDataset(items, IMAGE_SIZE, MAP_SIZE, cache_dir=Path(tmp) / "cache")
        cold = epoch_rate(cached)
        warm = [epoch_rate(cached) for _ in range(args.epochs - 1)]
    naive_rate = float(np.median(naive))
    print(f"loader, {len(items)} stimuli of 1920×1080 → {IMAGE_SIZE[0]}×{IMAGE_SIZE[1]}")
    print(f"  naive (decode every epoch)  {naive_rate:8.1f} images/s")
    print(f"  cold epoch (decode + cache) {cold:8.1f} images/s   → {cold / naive_rate:5.1f}× naive")
    print(f"  warm epochs (cache)         {np.median(warm):8.1f} images/s   → {np.median(warm) / naive_rate:5.1f}× naive"
          " (target ≥ 10×)")


if __name__ == "__main__":
    main()
