"""SALICON and MIT1003 loaders, on fixtures generated in their on-disk formats."""
import numpy as np
import pytest

from helpers.data import (DataError, find_cat2000, find_mit1003, find_salicon, load_fixations,
                          resolve_saliency_dataset, saliency_splits)
from helpers.evaluation import load_ground_truth
from helpers.samples import write_saliency_sample


@pytest.fixture(scope="module")
def layouts(tmp_path_factory):
    root = tmp_path_factory.mktemp("layouts")
    return {layout: write_saliency_sample(root / layout, images_per_category=5, seed=7, layout=layout)
            for layout in ("cat2000", "salicon", "mit1003")}


def first_fixations(items):
    item = items[0]
    return load_fixations(item.fixations, fixation_format=item.fixation_format)


def test_the_same_display_gives_the_same_fixations_in_every_format(layouts):
    # The first display of each layout is drawn from the same seed before anything else.
    reference = first_fixations(find_cat2000(layouts["cat2000"]))
    salicon = first_fixations(find_salicon(layouts["salicon"], "train"))  # 1-based [x, y] → rows, cols
    mit = first_fixations(find_mit1003(layouts["mit1003"]))                # JPEG points → threshold
    assert reference.sum() > 20
    assert np.array_equal(salicon, reference)
    assert np.array_equal(mit, reference)


def test_salicon_keeps_its_official_train_and_val_sets(layouts):
    train, val = saliency_splits("salicon", layouts["salicon"])
    assert len(train) == 16 and len(val) == 4
    assert all("train2014" in i.stimulus.name for i in train) and all("val2014" in i.stimulus.name for i in val)
    train, val = saliency_splits("salicon", layouts["salicon"], WholeDataset=8)
    assert len(train) == 8 and len(val) == 1


def test_mit1003_is_split_85_15(layouts):
    train, val = saliency_splits("mit1003", layouts["mit1003"])
    assert (len(train), len(val)) == (17, 3)


def test_ground_truth_density_and_fixations_share_the_stimulus_size(layouts):
    for layout in ("salicon", "mit1003"):
        _, val = saliency_splits(layout, layouts[layout])
        truth = load_ground_truth(val[0])
        assert truth.density.shape == truth.fixations.shape == (360, 640)


def test_auto_picks_the_first_real_data_set_present(layouts, monkeypatch, tmp_path):
    monkeypatch.setenv("SALIENCY_DATA_DIR", str(tmp_path))
    (tmp_path / "mit1003").symlink_to(layouts["mit1003"])
    assert resolve_saliency_dataset("auto")[0] == "mit1003"
    (tmp_path / "salicon").symlink_to(layouts["salicon"])
    assert resolve_saliency_dataset("auto")[0] == "salicon"


def test_a_missing_real_data_set_says_how_to_get_it(tmp_path):
    with pytest.raises(DataError, match="helpers.data download salicon"):
        resolve_saliency_dataset("salicon", tmp_path)


def test_salicon_file_without_gaze_names_the_file(layouts, tmp_path):
    from scipy.io import savemat

    savemat(tmp_path / "x.mat", {"other": 1})
    with pytest.raises(DataError, match=r"x\.mat.*gaze"):
        load_fixations(tmp_path / "x.mat", fixation_format="salicon")


def test_missing_mit1003_points_name_the_file(layouts, tmp_path):
    import shutil

    copy = tmp_path / "mit"
    shutil.copytree(layouts["mit1003"], copy)
    victim = sorted((copy / "ALLFIXATIONMAPS").glob("*_fixPts.jpg"))[0]
    victim.unlink()
    with pytest.raises(DataError, match=victim.name):
        find_mit1003(copy)
