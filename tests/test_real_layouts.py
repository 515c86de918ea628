"""SALICON and MIT1003 loaders, on fixtures built here from the formats' documentation — not by the
project's own sample writer, so a misreading of a format cannot agree with itself."""
import numpy as np
import pytest
from PIL import Image
from scipy.io import savemat

from helpers.data import (DataError, find_mit1003, find_salicon, load_fixations, resolve_saliency_dataset,
                          saliency_splits)
from helpers.data import load_ground_truth
from helpers.samples import write_saliency_sample

SALICON_SIZE = (640, 480)  # width, height: every SALICON (COCO) image


def salicon_gaze(*observers):
    """SALICON 2017's ``gaze``: a 1×N struct array, one element per observer, with ``location``
    (raw gaze samples), ``timestamp`` and ``fixations`` — N×2 arrays of 1-based ``[x, y]``."""
    gaze = np.empty((1, len(observers)), dtype=[("location", "O"), ("timestamp", "O"), ("fixations", "O")])
    for k, points in enumerate(observers):
        points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        gaze[0, k] = (points + 0.25, np.arange(len(points), dtype=np.float64) * 8.0, points)
    return gaze


def write_salicon(root, split, name, observers):
    for kind in ("images", "maps", "fixations"):
        (root / kind / split).mkdir(parents=True, exist_ok=True)
    Image.new("RGB", SALICON_SIZE, (90, 120, 150)).save(root / "images" / split / f"{name}.jpg")
    Image.new("L", SALICON_SIZE, 0).save(root / "maps" / split / f"{name}.png")
    savemat(root / "fixations" / split / f"{name}.mat",
            {"image": name, "resolution": np.array([[SALICON_SIZE[1], SALICON_SIZE[0]]], dtype=np.uint16),
             "gaze": salicon_gaze(*observers)})


@pytest.fixture
def salicon(tmp_path):
    root = tmp_path / "salicon"
    # observer 1 looks at the top-left and bottom-right corners, observer 2 at x = 10, y = 20,
    # observer 3 blinked through the whole image (no fixations)
    write_salicon(root, "train", "COCO_train2014_000000000009", [[[1, 1], [640, 480]], [[10, 20]], []])
    for index in range(2, 9):
        write_salicon(root, "train", f"COCO_train2014_{index:012d}", [[[320, 240]]])
    for index in range(3):
        write_salicon(root, "val", f"COCO_val2014_{index:012d}", [[[5, 5]]])
    return root


def test_salicon_fixations_are_1_based_x_y_from_every_observer(salicon):
    item = [i for i in find_salicon(salicon, "train") if i.stimulus.stem.endswith("009")][0]
    fixations = load_fixations(item.fixations, fixation_format="salicon")
    assert fixations.shape == (480, 640)
    assert sorted(zip(*np.nonzero(fixations))) == [(0, 0), (19, 9), (479, 639)]  # (row, col)
    truth = load_ground_truth(item)
    assert truth.density.shape == truth.fixations.shape == (480, 640)


def test_salicon_keeps_its_official_train_and_val_sets(salicon):
    train, validation, test = saliency_splits("salicon", salicon)
    assert (len(train), len(validation), len(test)) == (6, 2, 3)  # the test set is SALICON's val; 15 % of 11 → 2
    assert all("train2014" in i.stimulus.name for i in train + validation)
    assert all("val2014" in i.stimulus.name for i in test)
    train, validation, test = saliency_splits("salicon", salicon, WholeDataset=7)  # round(0.15 × 7) = 1 held out
    assert (len(train), len(validation), len(test)) == (5, 1, 1)


def test_salicon_file_without_gaze_names_the_file(tmp_path):
    savemat(tmp_path / "x.mat", {"other": 1})
    with pytest.raises(DataError, match=r"x\.mat.*gaze"):
        load_fixations(tmp_path / "x.mat", fixation_format="salicon")


MIT_POINTS = [(5, 7), (100, 150), (199, 299), (50, 51), (50, 53)]  # (row, col); two of them 2 px apart


def write_mit1003(root, names, size=(300, 200)):
    """MIT1003: ``ALLSTIMULI/<name>.jpeg``; ``ALLFIXATIONMAPS/<name>_fixMap.jpg`` (grey levels) and
    ``<name>_fixPts.jpg`` — one white pixel per fixation on black, saved as JPEG, so the points come
    back surrounded by compression noise."""
    (root / "ALLSTIMULI").mkdir(parents=True)
    (root / "ALLFIXATIONMAPS").mkdir()
    points = np.zeros(size[::-1], np.uint8)
    for row, col in MIT_POINTS:
        points[row, col] = 255
    for name in names:
        Image.new("RGB", size, (40, 80, 120)).save(root / "ALLSTIMULI" / f"{name}.jpeg")
        Image.new("L", size, 30).save(root / "ALLFIXATIONMAPS" / f"{name}_fixMap.jpg")
        Image.fromarray(points).save(root / "ALLFIXATIONMAPS" / f"{name}_fixPts.jpg", quality=75)
    return root


def test_mit1003_points_are_recovered_from_the_jpeg_noise_around_them(tmp_path):
    root = write_mit1003(tmp_path / "mit", ["i05"])
    stored = np.asarray(Image.open(root / "ALLFIXATIONMAPS" / "i05_fixPts.jpg").convert("L"))
    assert ((stored > 0) & (stored < 255)).sum() > 20  # the noise is really there
    item = find_mit1003(root)[0]
    fixations = load_fixations(item.fixations, fixation_format=item.fixation_format)
    assert sorted(zip(*np.nonzero(fixations))) == sorted(MIT_POINTS)


def test_mit1003_is_split_70_15_15(tmp_path):
    root = write_mit1003(tmp_path / "mit", [f"i{k:02d}" for k in range(20)])
    train, validation, test = saliency_splits("mit1003", root)
    assert (len(train), len(validation), len(test)) == (14, 3, 3)


def test_missing_mit1003_points_name_the_file(tmp_path):
    root = write_mit1003(tmp_path / "mit", ["a", "b"])
    victim = root / "ALLFIXATIONMAPS" / "b_fixPts.jpg"
    victim.unlink()
    with pytest.raises(DataError, match=victim.name):
        find_mit1003(root)


@pytest.mark.slow  # about 4.6 s on two AVX2 cores: too near the quick tier's 5 s limit to leave unmarked
def test_the_sample_writes_every_layout_the_loaders_read(tmp_path):
    """The generated sample in SALICON's and MIT1003's layouts is read back by the real loaders."""
    for layout, find in (("salicon", lambda r: find_salicon(r, "train")), ("mit1003", find_mit1003)):
        root = write_saliency_sample(tmp_path / layout, images_per_category=5, seed=7, layout=layout)
        truth = load_ground_truth(find(root)[0])
        assert truth.fixations.sum() > 10 and truth.density.shape == (360, 640)


def test_auto_picks_the_first_real_data_set_present(salicon, monkeypatch, tmp_path):
    monkeypatch.setenv("SALIENCY_DATA_DIR", str(tmp_path / "data"))
    write_mit1003(tmp_path / "data" / "mit1003", ["a"])
    assert resolve_saliency_dataset("auto")[0] == "mit1003"
    (tmp_path / "data" / "salicon").symlink_to(salicon)
    assert resolve_saliency_dataset("auto")[0] == "salicon"


def test_a_missing_real_data_set_says_how_to_get_it(tmp_path):
    with pytest.raises(DataError, match="helpers.downloads salicon"):
        resolve_saliency_dataset("salicon", tmp_path)


def test_hidden_and_appledouble_files_are_skipped_in_every_layout(tmp_path):
    """macOS copies leave ``._name`` beside every file; one rule (helpers.data.readers.listed) skips
    them, and hidden files, in CAT2000, SALICON, MIT1003 and ImageNet alike."""
    from helpers.data import find_cat2000, find_image_folder

    def shadow(folder, suffix):
        """An AppleDouble file beside the first file of ``folder`` (not an image) and a hidden one."""
        first = next(p for p in sorted(folder.iterdir()) if p.suffix.lower() == suffix)
        (folder / f"._{first.name}").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
        (folder / f".hidden{suffix}").write_bytes(b"not an image")

    counts = {}
    for layout, find in (("cat2000", find_cat2000), ("mit1003", find_mit1003)):
        root = write_saliency_sample(tmp_path / layout, images_per_category=3, seed=1, layout=layout)
        before = len(find(root))
        folder = next(root.rglob("Stimuli/*")) if layout == "cat2000" else root / "ALLSTIMULI"
        shadow(folder, ".jpg" if layout == "cat2000" else ".jpeg")
        counts[layout] = (before, len(find(root)))
    salicon = tmp_path / "salicon-layout"
    write_salicon(salicon, "train", "COCO_train_1", [[(10, 20)]])
    shadow(salicon / "images" / "train", ".jpg")
    counts["salicon"] = (1, len(find_salicon(salicon, "train")))
    imagenet = tmp_path / "imagenet"
    for split in ("train", "val"):
        (imagenet / split / "n01").mkdir(parents=True)
        Image.new("RGB", (8, 8)).save(imagenet / split / "n01" / "a.JPEG")
        shadow(imagenet / split / "n01", ".jpeg")
        (imagenet / split / ".n02").mkdir()                      # a hidden folder is no class
    train, val = find_image_folder(imagenet)
    counts["imagenet"] = (2, len(train) + len(val))
    assert all(before == after and before > 0 for before, after in counts.values()), counts


def test_salicon_fixations_that_are_nan_or_outside_the_frame_are_dropped_with_a_warning_naming_the_file(tmp_path):
    write_salicon(tmp_path, "train", "COCO_train2014_000000000001",
                  [[[10, 20], [np.nan, np.nan], [5000, -300]], [[641, 10], [640, 480]]])
    path = tmp_path / "fixations" / "train" / "COCO_train2014_000000000001.mat"
    with pytest.warns(UserWarning, match=r"COCO_train2014_000000000001\.mat: 1 not a number and 2 outside the frame "
                                         r"\(of 640×480\)"):
        fixations = load_fixations(path, fixation_format="salicon")
    assert sorted(zip(*np.nonzero(fixations))) == [(19, 9), (479, 639)]   # nothing clipped onto the border
