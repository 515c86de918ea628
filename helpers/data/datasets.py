"""PyTorch datasets that decode and resize each file once (the uint8 arrays cached under ``.cache``, so every
later epoch and run reads a small array), and the seeded loaders that feed them to training.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset
from torch.utils.data.distributed import DistributedSampler

from .. import outputs, paths
from ..io import atomic_path
from ..parallel import process_group
from .image_layouts import ImageItem
from .readers import check_same_frame, load_gray, load_rgb
from .saliency_layouts import SaliencyItem

#: Bump when the cached representation changes, so old caches are rebuilt.
CACHE_VERSION = 1
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _fingerprint(*files: Path) -> list:
    out = []
    for file in files:
        stat = file.stat()
        out += [str(file.resolve()), stat.st_size, stat.st_mtime_ns]
    return out


def to_signed(array: np.ndarray) -> torch.Tensor:
    """uint8 ``(H, W)`` or ``(H, W, 3)`` → float ``(C, H, W)`` in [-1, 1] (ToTensor, then mean 0.5 / std 0.5)."""
    channels_first = array[None] if array.ndim == 2 else array.transpose(2, 0, 1)
    out = np.empty(channels_first.shape, dtype=np.float32)
    np.divide(channels_first, 127.5, out=out, casting="unsafe")  # one pass, into contiguous memory
    out -= 1.0
    return torch.from_numpy(out)


#: Above this many items a dataset streams instead of caching (see :class:`DecodeOnceDataset`).
CACHE_LIMIT = 20_000

class DecodeOnceDataset(Dataset):
    """A dataset that decodes and resizes each item's files once.

    The first access to an item calls :meth:`decode`; its uint8 arrays are written to ``cache_dir``
    under a key made of the item's source files (path, size, modification time) and
    :meth:`cache_settings` (the target sizes), so every later epoch — and every later run — reads a
    small array instead, and a changed file or size is decoded again. ``cache_dir=None`` decodes
    every time. The cache pays for small data sets, read for many epochs; ``"default"`` uses it for
    at most :data:`CACHE_LIMIT` items and otherwise streams — each item decoded in the DataLoader's
    worker processes every epoch (``NUM_WORKERS``), as ImageNet-size data want — and says so.
    Subclasses define ``sources``, ``decode``, ``cache_settings`` and ``to_tensors``.
    """

    namespace = "items"

    def __init__(self, items: Sequence, cache_dir: str | Path | None = "default"):
        self.items = list(items)
        if cache_dir == "default" and len(self.items) > CACHE_LIMIT:
            print(f"{len(self.items):,} {self.namespace} images: streamed (decoded every epoch in the loader's worker "
                  f"processes; set NUM_WORKERS), not cached — the per-item cache pays up to {CACHE_LIMIT:,} images")
            cache_dir = None
        self.cache_dir = paths.cache_dir() / self.namespace if cache_dir == "default" else (
            Path(cache_dir) if cache_dir is not None else None)
        if cache_dir == "default" and not _claimed(self.cache_dir):
            print("the decode cache is off: every epoch decodes the images again", flush=True)
            self.cache_dir = None

    def __len__(self) -> int:
        return len(self.items)

    def sources(self, index: int) -> tuple[Path, ...]:
        raise NotImplementedError

    def cache_settings(self) -> tuple:
        raise NotImplementedError

    def decode(self, index: int) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def to_tensors(self, arrays: dict[str, np.ndarray]):
        raise NotImplementedError

    def cache_path(self, index: int) -> Path:
        key = repr([CACHE_VERSION, self.namespace, _fingerprint(*self.sources(index)), self.cache_settings()])
        digest = hashlib.sha1(key.encode()).hexdigest()
        return self.cache_dir / digest[:2] / f"{digest}.npz"

    def load(self, index: int) -> dict[str, np.ndarray]:
        """The uint8 arrays of one item, from the cache when it holds them."""
        if self.cache_dir is None:
            return self.decode(index)
        path = self.cache_path(index)
        try:
            with np.load(path) as cached:  # plain arrays only: allow_pickle stays off
                return {name: cached[name] for name in cached.files}
        except (FileNotFoundError, OSError, ValueError, KeyError):
            pass  # missing or damaged: decode again
        arrays = self.decode(index)
        try:
            with atomic_path(path) as tmp:
                with open(tmp, "wb") as handle:
                    np.savez(handle, **arrays)
        except OSError as error:  # read-only, full, no permission: the run goes on without the cache
            print(f"the decode cache {self.cache_dir} cannot be written ({error.strerror or error}); decoding every "
                  "epoch instead (set SALIENCY_CACHE_DIR to a writable folder to keep the cache)", flush=True)
            self.cache_dir = None
        return arrays

    def __getitem__(self, index: int):
        return self.to_tensors(self.load(index))


def _claimed(folder: Path) -> bool:
    """Whether the decode cache may live in ``folder`` (inside the project's cache folder, :mod:`helpers.outputs`)."""
    try:
        outputs.check_may_write(folder, paths.cache_dir()).mkdir(exist_ok=True)
    except outputs.NotOurFolder as refusal:
        print(refusal, flush=True)
        return False
    except OSError:
        pass   # cannot be made: the first write says so and the run goes on without the cache
    return True


class SaliencyDataset(DecodeOnceDataset):
    """``(image (3, H, W), map (1, h, w))`` pairs in [-1, 1] for training, decoded once (see
    :class:`DecodeOnceDataset`)."""

    namespace = "saliency"

    def __init__(self, items: Sequence[SaliencyItem], image_size: tuple[int, int] = (240, 320),
                 map_size: tuple[int, int] = (236, 316), cache_dir: str | Path | None = "default"):
        super().__init__(items, cache_dir)
        self.image_size = tuple(image_size)
        self.map_size = tuple(map_size)

    def sources(self, index: int) -> tuple[Path, ...]:
        return self.items[index].stimulus, self.items[index].saliency_map

    def cache_settings(self) -> tuple:
        return self.image_size, self.map_size

    def decode(self, index: int) -> dict[str, np.ndarray]:
        """Read and resize one item from its files: uint8 ``(H, W, 3)`` image and ``(h, w)`` map."""
        item = self.items[index]
        (h, w), (mh, mw) = self.image_size, self.map_size
        saliency_map = load_gray(item.saliency_map, draft_size=(mw, mh))
        check_same_frame(item.stimulus, item.saliency_map, "fixation map")
        image = load_rgb(item.stimulus, expected_size=saliency_map.size, draft_size=(w, h))
        image = image.resize((w, h), Image.Resampling.BILINEAR, reducing_gap=None)
        saliency_map = saliency_map.resize((mw, mh), Image.Resampling.BILINEAR)
        return {"image": np.array(image), "map": np.array(saliency_map)}

    def to_tensors(self, arrays):
        return to_signed(arrays["image"]), to_signed(arrays["map"])


def _imagenet_stats(like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    as_channels = dict(dtype=like.dtype, device=like.device)
    return (torch.tensor(IMAGENET_MEAN, **as_channels).view(3, 1, 1),
            torch.tensor(IMAGENET_STD, **as_channels).view(3, 1, 1))


def normalise_imagenet(image: torch.Tensor) -> torch.Tensor:
    """``(…, 3, H, W)`` in [0, 1] → normalised with the ImageNet mean and std."""
    mean, std = _imagenet_stats(image)
    return (image - mean) / std


def denormalise_imagenet(image: torch.Tensor) -> torch.Tensor:
    """The inverse of :func:`normalise_imagenet`, clipped to [0, 1]."""
    mean, std = _imagenet_stats(image)
    return (image * std + mean).clamp(0, 1)


def to_pixels(images: torch.Tensor) -> np.ndarray:
    """Normalised ``(N, 3, S, S)`` → ``(N, S, S, 3)`` float in [0, 1] for plots and PSNR/SSIM."""
    return denormalise_imagenet(images).permute(0, 2, 3, 1).numpy()


def classification_input(image: Image.Image, size: int = 224) -> torch.Tensor:
    """torchvision's ImageNet evaluation preprocessing: the shorter side resized to ``size × 8/7``
    (256 for 224), the centre ``size``² cropped, scaled to [0, 1] and normalised. ``(3, size, size)``."""
    short = round(size * 8 / 7)
    width, height = image.size
    scale = short / min(width, height)
    image = image.convert("RGB").resize((max(short, round(width * scale)), max(short, round(height * scale))),
                                        Image.Resampling.BILINEAR)
    left, top = (image.width - size) // 2, (image.height - size) // 2
    pixels = np.asarray(image.crop((left, top, left + size, top + size)), dtype=np.float32) / 255
    return normalise_imagenet(torch.from_numpy(pixels).permute(2, 0, 1))


class InversionDataset(DecodeOnceDataset):
    """``(image, image)``: the AlexNet input ``(3, S, S)`` normalised with the ImageNet statistics,
    and the same tensor as the reconstruction target. Decoded once (see :class:`DecodeOnceDataset`)."""

    namespace = "inversion"

    def __init__(self, items: Sequence[ImageItem], image_size: int = 227, cache_dir: str | Path | None = "default"):
        super().__init__(items, cache_dir)
        self.image_size = int(image_size)

    def sources(self, index: int) -> tuple[Path, ...]:
        return (self.items[index].path,)

    def cache_settings(self) -> tuple:
        return (self.image_size,)

    def decode(self, index: int) -> dict[str, np.ndarray]:
        size = self.image_size
        image = load_rgb(self.items[index].path, draft_size=(size, size))
        return {"image": np.array(image.resize((size, size), Image.Resampling.BILINEAR))}

    def to_tensors(self, arrays):
        image = normalise_imagenet(torch.from_numpy(arrays["image"]).permute(2, 0, 1).float().div_(255))
        return image, image


class EpochSampler(DistributedSampler):
    """The items of one epoch in a seeded order, shared out among the processes of a run.

    One permutation per epoch, seeded by ``seed + epoch`` (:meth:`set_epoch`), the same whatever the
    number of processes; rank r of N takes every N-th item of it (``DistributedSampler``'s rule), so
    N processes at batch B/N see, step by step, the items one process sees at batch B. Outside a
    process group N = 1. :meth:`start_at` skips this rank's first items: a run resumed mid-epoch."""

    def __init__(self, dataset, seed: int = 0):
        rank, world = process_group()
        super().__init__(dataset, num_replicas=world, rank=rank, shuffle=True, seed=seed, drop_last=False)
        self.skip = 0

    def set_epoch(self, epoch: int) -> None:
        super().set_epoch(epoch)
        self.skip = 0

    def start_at(self, position: int) -> None:
        self.skip = position

    def __iter__(self):
        return iter(list(super().__iter__())[self.skip:])

    def __len__(self) -> int:
        return self.num_samples - self.skip


def make_loader(dataset: Dataset, batch_size: int, shuffle: bool = False, seed: int = 0,
                num_workers: int = 0) -> torch.utils.data.DataLoader:
    """A DataLoader; shuffled by an :class:`EpochSampler` (re-seeded every epoch by
    :func:`helpers.training.fit`, which makes resumed runs exact and data-parallel runs equal to
    one process). ``batch_size`` is per process; decoding happens in ``num_workers`` worker
    processes, with pinned memory on a GPU."""
    sampler = EpochSampler(dataset, seed) if shuffle else None
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, sampler=sampler,
                                       num_workers=num_workers, pin_memory=torch.cuda.is_available(),
                                       persistent_workers=num_workers > 0,
                                       prefetch_factor=4 if num_workers > 0 else None)
