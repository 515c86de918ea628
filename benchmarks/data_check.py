"""How long the check of every file before the first step takes (``helpers.data.checks``), against
one epoch's decoding of the same files — the least an epoch costs, before any training.

    python benchmarks/data_check.py [--images 2000]

Writes ``--images`` CAT2000-sized items (1920×1080 stimulus, fixation map and ``fixLocs`` .mat) in
CAT2000's layout into a temporary folder — 100 generated sample displays, copied under new names —
then times the check, the content fingerprint of every file (``RunData.split_files``: read whole
the first time, from the digest cache after), and the decode of every item to 240×320 without a
cache (what the first epoch of notebook 01 does before it trains), and prints the ratios.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from helpers.data import RunData, SaliencyDataset, check_saliency_items, find_cat2000  # noqa: E402
from helpers.samples import write_saliency_sample  # noqa: E402


def cat2000_sized(root: Path, images: int) -> list:
    """``images`` CAT2000-sized items: 100 generated, the rest copies under new names."""
    write_saliency_sample(root, images_per_category=25, seed=0, size=(1920, 1080), layout="cat2000")
    originals = find_cat2000(root)
    base = root / "trainSet"
    for index in range(images - len(originals)):
        item = originals[index % len(originals)]
        name = f"c{index:05d}"
        shutil.copyfile(item.stimulus, base / "Stimuli" / item.category / f"{name}.jpg")
        shutil.copyfile(item.saliency_map, base / "FIXATIONMAPS" / item.category / f"{name}.jpg")
        shutil.copyfile(item.fixations, base / "FIXATIONLOCS" / item.category / f"{name}.mat")
    return find_cat2000(root)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="data-check-") as folder:
        items = cat2000_sized(Path(folder) / "cat2000", args.images)
        started = time.perf_counter()
        held_out = items[::7]  # about the 15 % a run holds out, whose fixation files are read whole
        check_saliency_items([i for i in items if i not in held_out], held_out, progress=False)
        check = time.perf_counter() - started
        os.environ["SALIENCY_CACHE_DIR"] = str(Path(folder) / "cache")  # the digest cache starts empty
        data = RunData("cat2000", Path(folder) / "cat2000", [i for i in items if i not in held_out], held_out)
        started = time.perf_counter()
        data.split_files()
        digest_first = time.perf_counter() - started
        started = time.perf_counter()
        data.split_files()
        digest_cached = time.perf_counter() - started
        dataset = SaliencyDataset(items, (240, 320), (236, 316), cache_dir=None)
        started = time.perf_counter()
        for index in range(len(dataset)):
            dataset[index]
        decode = time.perf_counter() - started
        megabytes = sum(f.stat().st_size for i in items for f in (i.stimulus, i.saliency_map, i.fixations)) / 2**20
    print(f"{len(items)} CAT2000-sized items (1920×1080): the check {check:.1f} s ({check / len(items) * 1e3:.1f} ms "
          f"per item); one epoch's decoding to 240×320 {decode:.1f} s → the check is {check / decode:.1%} of the "
          "decoding alone (training adds to the epoch)")
    print(f"content fingerprint of every file ({megabytes:,.0f} MB): {digest_first:.1f} s the first time "
          f"({digest_first / decode:.1%} of the decoding), {digest_cached:.2f} s from the digest cache after "
          f"({digest_cached / decode:.2%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
