"""Which data set a notebook uses: the real one when it is there, else the generated sample.

``DATASET = "auto"`` (every notebook's default) takes the first real data set found under ``data/``
and otherwise a generated **sample** in the same on-disk format (:mod:`helpers.samples`), and says
which; a named real data set that is missing is an error that says how to get it.
"""
from __future__ import annotations

from pathlib import Path

from .. import paths
from .image_layouts import ImageItem, find_image_folder, find_tiny_imagenet
from .readers import DataError
from .saliency_layouts import SaliencyItem, cat2000_root, dirs_loader, find_mit1003, find_salicon
from .subsets import split_official, split_per_category

SALIENCY_DATASETS = ("auto", "cat2000", "salicon", "mit1003", "sample")
INVERSION_DATASETS = ("auto", "tiny-imagenet", "imagenet", "sample")


def _saliency_dataset_present(name: str, root: Path) -> bool:
    return {"cat2000": (root / "trainSet" / "Stimuli").is_dir() or (root / "Stimuli").is_dir(),
            "salicon": (root / "images").is_dir(), "mit1003": (root / "ALLSTIMULI").is_dir()}[name]


def resolve_saliency_dataset(dataset: str = "auto", data_dir: str | Path = "") -> tuple[str, Path]:
    """``(name, root)`` of the saliency data set to use.

    ``"cat2000"``, ``"salicon"`` and ``"mit1003"`` are the real data under ``data_dir`` (default
    ``data/<name>``); ``"sample"`` the generated sample (made on first use); ``"auto"`` the first real
    data set that is there (CAT2000, SALICON, MIT1003), else the sample.
    """
    from ..samples import ensure_saliency_sample

    if dataset not in SALIENCY_DATASETS:
        raise ValueError(f"DATASET must be one of {SALIENCY_DATASETS}, got {dataset!r}")
    if dataset == "auto":
        present = [name for name in SALIENCY_DATASETS[1:-1]
                   if _saliency_dataset_present(name, Path(data_dir) if data_dir else paths.data_dir() / name)]
        dataset = present[0] if present else "sample"
    if dataset == "sample":
        return "sample", ensure_saliency_sample(Path(data_dir) if data_dir else None)
    root = Path(data_dir) if data_dir else paths.data_dir() / dataset
    if not _saliency_dataset_present(dataset, root):
        raise DataError(f"{root}: {dataset} is not there; download it with "
                        f"`python -m helpers.downloads {dataset}` or set DATASET='sample'")
    return dataset, cat2000_root(root).parent if dataset == "cat2000" else root


def saliency_splits(dataset: str, root: str | Path, WholeDataset: bool | int = True,
                    seed: int = 0) -> tuple[list[SaliencyItem], list[SaliencyItem]]:
    """``(train, held_out)`` items as :mod:`helpers.data.subsets` defines them: CAT2000, MIT1003 and
    the sample hold out 15 % per category; SALICON keeps its official train and val sets."""
    if dataset == "salicon" and not (Path(root) / "images" / "train").is_dir():
        return split_per_category(find_salicon(root, ""), WholeDataset, seed)  # one flat folder
    if dataset == "salicon":
        return split_official(find_salicon(root, "train"), find_salicon(root, "val"), WholeDataset, seed)
    if dataset == "mit1003":
        return split_per_category(find_mit1003(root), WholeDataset, seed)
    return dirs_loader(root, WholeDataset, seed)


def resolve_inversion_dataset(dataset: str = "auto", data_dir: str | Path = "", WholeDataset: bool | int = True,
                              seed: int = 0) -> tuple[str, Path, list[ImageItem], list[ImageItem]]:
    """``(name, root, train, held_out)`` for Part 2, split as :mod:`helpers.data.subsets` defines.

    ``"tiny-imagenet"`` (default folder ``data/tiny-imagenet-200``, the original code's 20 classes),
    ``"imagenet"`` (an ImageFolder with ``train/`` and ``val/``, default ``data/imagenet``),
    ``"sample"`` (crops of real photographs in ImageNet's folder layout, the test photographs never
    used for training; :func:`helpers.samples.write_inversion_sample`) or ``"auto"``: Tiny-ImageNet
    when it is there, else the sample.
    """
    from ..samples import ensure_inversion_sample

    if dataset not in INVERSION_DATASETS:
        raise ValueError(f"DATASET must be one of {INVERSION_DATASETS}, got {dataset!r}")
    if dataset == "auto":
        real = Path(data_dir) if data_dir else paths.data_dir()
        dataset = "tiny-imagenet" if ((real / "tiny-imagenet-200" / "wnids.txt").is_file()
                                      or (real / "wnids.txt").is_file()) else "sample"
    if dataset == "tiny-imagenet":
        root = Path(data_dir) if data_dir else paths.data_dir()
        try:
            train, held_out = find_tiny_imagenet(root)
        except DataError as error:
            raise DataError(f"{error}\nDownload it with `python -m helpers.downloads tiny-imagenet` "
                            "or set DATASET='sample'") from None
    elif dataset == "imagenet":
        root = Path(data_dir) if data_dir else paths.data_dir() / "imagenet"
        train, held_out = find_image_folder(root)
    else:
        root = ensure_inversion_sample(Path(data_dir) if data_dir else None)
        train, held_out = find_image_folder(root)
    return (dataset, root, *split_official(train, held_out, WholeDataset, seed))
