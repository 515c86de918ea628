"""The saliency loader on CAT2000-size stimuli (1920×1080 JPEGs, generated): decode once, then cache;
and an ImageNet-layout case: 10,000 generated JPEGs, streamed by DataLoader workers or cached per item.

    python benchmarks/loader.py [--images 40] [--epochs 3] [--imagenet 10000] [--workers 2]

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
    parser.add_argument("--imagenet", type=int, default=10_000, help="JPEGs of the ImageNet-layout case (0: skip)")
    parser.add_argument("--workers", type=int, default=2, help="DataLoader worker processes for streaming")
    args = parser.parse_args()
    if args.imagenet:
        imagenet_layout(args.imagenet, args.workers)
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


def loader_rate(dataset, workers: int, batch: int = 64) -> float:
    import torch

    loader = torch.utils.data.DataLoader(dataset, batch_size=batch, num_workers=workers, pin_memory=torch.cuda.is_available(),
                                         prefetch_factor=4 if workers else None)
    started = time.perf_counter()
    for _ in loader:
        pass
    return len(dataset) / (time.perf_counter() - started)


def imagenet_layout(count: int, workers: int) -> None:
    """``count`` JPEGs of 375×500 (ImageNet's typical size) in ``train/<class>/``, read at 64²."""
    from helpers.data import InversionDataset, find_image_folder

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "imagenet"
        coarse = [rng.integers(0, 255, (24, 32, 3), dtype=np.uint8) for _ in range(50)]
        for index in range(count):
            folder = root / ("train" if index % 10 else "val") / f"n{index % 20:08d}"
            folder.mkdir(parents=True, exist_ok=True)
            base = Image.fromarray(coarse[index % 50]).resize((500, 375), Image.Resampling.BICUBIC)
            base.save(folder / f"{index:06d}.JPEG", quality=90)
        train, held_out = find_image_folder(root)
        items = train + held_out
        streaming = loader_rate(InversionDataset(items, 64, cache_dir=None), workers)
        cached = InversionDataset(items, 64, cache_dir=Path(tmp) / "cache")
        cold, warm = loader_rate(cached, 0), loader_rate(cached, 0)
    print(f"ImageNet layout, {len(items):,} JPEGs of 500×375 → 64×64, batch 64")
    print(f"  streaming, {workers} worker processes   {streaming:8.1f} images/s")
    print(f"  per-item cache, cold epoch      {cold:8.1f} images/s   → {cold / streaming:5.2f}× streaming")
    print(f"  per-item cache, warm epoch      {warm:8.1f} images/s   → {warm / streaming:5.2f}× streaming", flush=True)


if __name__ == "__main__":
    main()
