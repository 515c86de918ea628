"""Data for both parts: the real on-disk layouts (``readers``, ``*_layouts``), ``WholeDataset`` and the
splits (``subsets``), decode-once datasets (``datasets``), checks before training (``checks``), ground truth,
content fingerprints and which data set a notebook uses (``choice``). Import everything from here.
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
