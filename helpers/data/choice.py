"""Which data set a notebook uses: one :class:`Layout` record per data set (its folder, how to tell it is
there, how its items are found and split, how to fetch it), and ``DATASET = "auto"``: the first real data
set found, else the generated sample, saying which.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .. import paths
from ..samples import default_sample_dir, ensure_inversion_sample, ensure_saliency_sample
from .image_layouts import ImageItem, find_image_folder, find_tiny_imagenet
from .readers import DataError
from .saliency_layouts import SaliencyItem, cat2000_root, dirs_loader, find_mit1003, find_salicon
from .subsets import split_official, split_per_category, split_validation


def _salicon_split(root: Path, whole_dataset, seed: int) -> tuple[list, list]:
    if not (root / "images" / "train").is_dir():
        return split_per_category(find_salicon(root, ""), whole_dataset, seed)  # one flat folder
    return split_official(find_salicon(root, "train"), find_salicon(root, "val"), whole_dataset, seed)


def _tiny_imagenet_split(root: Path, whole_dataset, seed: int) -> tuple[list, list]:
    try:
        train, held_out = find_tiny_imagenet(root)
    except DataError as error:
        raise DataError(f"{error}\nDownload it with `python -m helpers.downloads tiny-imagenet` "
                        "or set DATASET='sample'") from None
    return split_official(train, held_out, whole_dataset, seed)


@dataclass(frozen=True)
class Layout:
    """One data set as the project reads it."""

    name: str
    part: str                        # "saliency" (notebooks 01–02) or "inversion" (03–07)
    folder: str                      # default folder under data/ ("" for data/ itself)
    markers: tuple[str, ...]         # paths under the folder, any of which says the data set is there
    split: Callable                  # (root, WholeDataset, seed) → (train items, held-out items)
    fetch: str = ""                  # the command that downloads it ("" where it is fetched by hand)
    fixation_format: str = "fixLocs"  # how it stores fixations: a key of helpers.data.readers.FIXATION_FORMATS
    no_oracle: str = "these data keep neither a known density nor fixations per observer"
    base: Callable[[Path], Path] = lambda root: root   # the folder the items are read from

    def root(self, data_dir: str | Path = "") -> Path:
        return Path(data_dir) if data_dir else paths.data_dir() / self.folder

    def present(self, root: Path) -> bool:
        return any((root / marker).exists() for marker in self.markers)

    def missing(self, root: Path) -> DataError:
        how = f"download it with `{self.fetch}`" if self.fetch else "see the README's Data section"
        return DataError(f"{root}: {self.name} is not there; {how}, or set DATASET='sample'")


LAYOUTS = {layout.name: layout for layout in (
    Layout("cat2000", "saliency", "cat2000", ("trainSet/Stimuli", "Stimuli"),
           lambda root, whole, seed: dirs_loader(root, whole, seed), "python -m helpers.downloads cat2000",
           no_oracle="CAT2000's FIXATIONLOCS pool every observer's fixations, so no observer can be left out",
           base=lambda root: cat2000_root(root).parent),
    Layout("salicon", "saliency", "salicon", ("images",), _salicon_split, "python -m helpers.downloads salicon",
           fixation_format="salicon"),
    Layout("mit1003", "saliency", "mit1003", ("ALLSTIMULI",),
           lambda root, whole, seed: split_per_category(find_mit1003(root), whole, seed),
           "python -m helpers.downloads mit1003", fixation_format="fixPts",
           no_oracle="MIT1003's fixPts maps pool every observer (the per-observer DATA folder is not read)"),
    Layout("tiny-imagenet", "inversion", "", ("tiny-imagenet-200/wnids.txt", "wnids.txt"), _tiny_imagenet_split,
           "python -m helpers.downloads tiny-imagenet"),
    Layout("imagenet", "inversion", "imagenet", ("train",),
           lambda root, whole, seed: split_official(*find_image_folder(root), whole, seed)),
)}
SALIENCY_DATASETS = ("auto", *(n for n, layout in LAYOUTS.items() if layout.part == "saliency"), "sample")
INVERSION_DATASETS = ("auto", *(n for n, layout in LAYOUTS.items() if layout.part == "inversion"), "sample")


def choose_dataset(part: str, dataset: str, data_dir: str | Path, require_real: bool) -> str:
    """The named data set, or for ``"auto"`` the first real one of ``part`` that is there, else the
    sample — unless ``require_real`` (or the environment variable ``REQUIRE_REAL_DATA``): then a
    missing data set stops the run, naming where it looked and how to fetch one."""
    names = SALIENCY_DATASETS if part == "saliency" else INVERSION_DATASETS
    if dataset not in names:
        raise ValueError(f"DATASET must be one of {names}, got {dataset!r}")
    if dataset != "auto":
        return dataset
    real = [LAYOUTS[name] for name in names[1:-1]]
    present = [layout.name for layout in real if layout.present(layout.root(data_dir))]
    if present:
        return present[0]
    if require_real or os.environ.get("REQUIRE_REAL_DATA", "") not in ("", "0"):
        looked = ", ".join(str(layout.root(data_dir)) for layout in real)
        fetch = "; ".join(f"`{layout.fetch}`" for layout in real if layout.fetch)
        raise DataError(f"no real {part} data set is there (looked in {looked}), and the real run does not fall back "
                        f"to the generated sample. Fetch one ({fetch}), set DATA_DIR to where it is, or run on the "
                        "sample on purpose: PROFILE = 'smoke', or DATASET = 'sample'")
    looked = data_dir or ", ".join(str(layout.root()) for layout in real)
    said = f"DATASET 'auto': no real {part} data set in {looked}; using the generated sample in {default_sample_dir(part)}"
    if said not in _SAID:   # once a process, however many runs ask
        print(said)
        _SAID.add(said)
    return "sample"


_SAID: set[str] = set()


def sample_root(part: str, dataset: str, data_dir: str | Path) -> Path:
    """Where the generated sample of ``part`` is read (and made): ``data_dir`` when the sample was
    asked for by name with a folder, else its own folder under ``data/``. A folder that holds the
    user's files is never written (:func:`helpers.samples._ensure` refuses it)."""
    return Path(data_dir) if data_dir and dataset == "sample" else default_sample_dir(part)


def resolve_saliency_dataset(dataset: str = "auto", data_dir: str | Path = "",
                             require_real: bool = False) -> tuple[str, Path]:
    """``(name, root)`` of the saliency data set to use.

    ``"cat2000"``, ``"salicon"`` and ``"mit1003"`` are the real data under ``data_dir`` (default
    ``data/<name>``); ``"sample"`` the generated sample (made on first use); ``"auto"`` the first real
    data set that is there (CAT2000, SALICON, MIT1003), else the sample.
    """
    chosen = choose_dataset("saliency", dataset, data_dir, require_real)
    if chosen == "sample":
        return "sample", ensure_saliency_sample(sample_root("saliency", dataset, data_dir))
    layout = LAYOUTS[chosen]
    root = layout.root(data_dir)
    if not layout.present(root):
        raise layout.missing(root)
    return chosen, layout.base(root)


def saliency_splits(dataset: str, root: str | Path, WholeDataset: bool | int = True,
                    seed: int = 0) -> tuple[list[SaliencyItem], list[SaliencyItem], list[SaliencyItem]]:
    """``(train, validation, test)`` items as :mod:`helpers.data.subsets` defines them: CAT2000, MIT1003
    and the sample hold out 15 % per category as the test set, SALICON its official val set; the
    validation set, as large again, comes out of the training images (:func:`split_validation`)."""
    if dataset == "sample":
        train, test = dirs_loader(root, WholeDataset, seed)  # the sample is written in CAT2000's layout
    else:
        train, test = LAYOUTS[dataset].split(Path(root), WholeDataset, seed)
    expected = LAYOUTS["cat2000" if dataset == "sample" else dataset].fixation_format
    if any(item.fixation_format != expected for item in train + test):  # the layout record is the one authority
        raise DataError(f"{root}: {dataset}'s items are not all in its fixation format {expected!r}")
    return (*split_validation(train, test, seed), test)


def no_oracle_reason(dataset: str) -> str:
    """Why notebook 02's table has no oracle row for ``dataset``."""
    layout = LAYOUTS.get(dataset)
    return layout.no_oracle if layout else Layout.no_oracle


def resolve_inversion_dataset(dataset: str = "auto", data_dir: str | Path = "", WholeDataset: bool | int = True,
                              seed: int = 0, require_real: bool = False) -> tuple[str, Path, list[ImageItem], list[ImageItem]]:
    """``(name, root, train, held_out)`` for Part 2, split as :mod:`helpers.data.subsets` defines.

    ``"tiny-imagenet"`` (default folder ``data/tiny-imagenet-200``, the original code's 20 classes),
    ``"imagenet"`` (an ImageFolder with ``train/`` and ``val/``, default ``data/imagenet``),
    ``"sample"`` (crops of real photographs in ImageNet's folder layout, the test photographs never
    used for training; :func:`helpers.samples.write_inversion_sample`) or ``"auto"``: Tiny-ImageNet
    when it is there, else the sample.
    """
    chosen = choose_dataset("inversion", dataset, data_dir, require_real)
    if chosen == "sample":
        root = ensure_inversion_sample(sample_root("inversion", dataset, data_dir))
        return (chosen, root, *split_official(*find_image_folder(root), WholeDataset, seed))
    root = LAYOUTS[chosen].root(data_dir)
    return (chosen, root, *LAYOUTS[chosen].split(root, WholeDataset, seed))
