"""Data for both parts: the real on-disk layouts, ``WholeDataset`` and the splits, decode-once datasets.

================  ===============================================================================
readers           reading images, fixation maps and fixation locations; ``DataError``
saliency_layouts  CAT2000, SALICON and MIT1003 on disk (``find_cat2000``, ``dirs_loader`` ...)
image_layouts     Part 2's Tiny-ImageNet and ImageNet folders
subsets           what ``WholeDataset`` means, and the training / held-out split (defined once)
datasets          the PyTorch datasets that decode each file once, and ``make_loader``
checks            every file of a run's splits checked before the first step
ground_truth      one stimulus' ground truth for the metrics, and the sample's known answer
fingerprints      every file of a run's splits by content digest: what a model stores and is checked against
choice            which data set a notebook uses: the real one, else the generated sample
================  ===============================================================================

Downloads are :mod:`helpers.downloads` (``python -m helpers.downloads NAME``). Everything a notebook
needs is importable from ``helpers.data`` itself.
"""
from .checks import check_image_items, check_saliency_items
from .choice import (INVERSION_DATASETS, LAYOUTS, SALIENCY_DATASETS, Layout, choose_dataset, no_oracle_reason,
                     resolve_inversion_dataset, resolve_saliency_dataset, saliency_splits)
from .ground_truth import GroundTruth, load_ground_truth
from .datasets import (IMAGENET_MEAN, IMAGENET_STD, DecodeOnceDataset, classification_input, InversionDataset, SaliencyDataset,
                       denormalise_imagenet, make_loader, normalise_imagenet, to_pixels, to_signed)
from .image_layouts import (TINY_IMAGENET_CLASS_SEED, TINY_IMAGENET_CLASSES, ImageItem, choose_classes,
                            find_image_folder, find_tiny_imagenet, tiny_imagenet_root)
from .readers import (FIXATION_FORMATS, IMAGE_SUFFIXES, DataError, check_same_frame, load_fixations, load_gray,
                      load_rgb, load_salicon_fixations, load_salicon_observers, same_aspect)
from .saliency_layouts import SaliencyItem, cat2000_root, dirs_loader, find_cat2000, find_mit1003, find_salicon
from .subsets import (HELD_OUT_FRACTION, RunData, check_whole_dataset, select_subset, split_official,
                      split_per_category, split_validation, spread)
