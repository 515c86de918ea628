import shutil
from pathlib import Path
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from helpers import data
from helpers.data import DataError, SaliencyDataset, dirs_loader, find_cat2000, load_rgb
from helpers.samples import (FACE_CATEGORIES, SALIENCY_CATEGORIES, SECOND_TARGET, ensure_saliency_sample,
                             target_shares)


def copy_sample(small_sample, tmp_path):
    target = tmp_path / "cat2000"
    shutil.copytree(small_sample, target)
    return target


def test_loader_reads_every_category_and_skips_the_output_folder(small_sample):
    items = find_cat2000(small_sample)
    assert (small_sample / "trainSet" / "Stimuli" / "Output").is_dir()  # the decoy is there
    assert sorted({item.category for item in items}) == sorted(SALIENCY_CATEGORIES)
    assert len(items) == len(SALIENCY_CATEGORIES) * 20
    assert all(item.saliency_map.is_file() and item.fixations.suffix == ".mat" for item in items)


def test_split_is_85_15_inside_each_category(small_sample):
    train, val = dirs_loader(small_sample)
    for category in SALIENCY_CATEGORIES:
        assert sum(i.category == category for i in val) == 3      # 15 % of 20
        assert sum(i.category == category for i in train) == 17
    assert not {i.stimulus for i in train} & {i.stimulus for i in val}


def test_validation_and_test_sets_are_apart_and_as_large_as_each_other(small_sample):
    from helpers.data import saliency_splits

    train, validation, test = saliency_splits("sample", small_sample, WholeDataset=60, seed=3)
    files = [{i.stimulus for i in split} for split in (train, validation, test)]
    assert not (files[0] & files[1] or files[0] & files[2] or files[1] & files[2])
    assert (len(train), len(validation), len(test)) == (36, 12, 12)  # 10 per category (6 of them): 6 / 2 / 2
    assert {i.category for i in validation} == set(SALIENCY_CATEGORIES)
    _, test_alone = dirs_loader(small_sample, WholeDataset=60, seed=3)
    assert test == test_alone  # the test set is the assignment's 15 %, whatever validation takes


def test_whole_dataset_number_is_spread_evenly_over_categories(small_sample):
    train, val = dirs_loader(small_sample, WholeDataset=15)
    per_category = sorted(sum(i.category == c for i in train + val) for c in SALIENCY_CATEGORIES)
    assert per_category == [2, 2, 2, 3, 3, 3]


def test_whole_dataset_larger_than_the_data_uses_everything(small_sample):
    train, val = dirs_loader(small_sample, WholeDataset=10_000)
    assert len(train) + len(val) == len(SALIENCY_CATEGORIES) * 20


def test_split_is_deterministic_for_a_seed_and_changes_with_it(small_sample):
    first = dirs_loader(small_sample, WholeDataset=20, seed=1)
    again = dirs_loader(small_sample, WholeDataset=20, seed=1)
    other = dirs_loader(small_sample, WholeDataset=20, seed=2)
    assert first == again
    assert first != other


@pytest.mark.parametrize("bad", [0, -3, False, "all", 2.5])
def test_bad_whole_dataset_is_a_clear_error(small_sample, bad):
    with pytest.raises(ValueError, match="WholeDataset"):
        dirs_loader(small_sample, WholeDataset=bad)


def test_missing_map_names_the_stimulus_and_the_file(small_sample, tmp_path):
    root = copy_sample(small_sample, tmp_path)
    missing = root / "trainSet" / "FIXATIONMAPS" / "SizeSingleton" / "004.jpg"
    missing.unlink()
    with pytest.raises(DataError, match=r"SizeSingleton/004\.jpg.*fixation map.*missing"):
        find_cat2000(root)


def test_missing_fixations_name_the_file(small_sample, tmp_path):
    root = copy_sample(small_sample, tmp_path)
    (root / "trainSet" / "FIXATIONLOCS" / "ColourSingleton" / "002.mat").unlink()
    with pytest.raises(DataError, match=r"002\.mat"):
        find_cat2000(root)


def test_unreadable_stimulus_names_the_file(small_sample, tmp_path):
    root = copy_sample(small_sample, tmp_path)
    broken = root / "trainSet" / "Stimuli" / "ColourSingleton" / "001.jpg"
    broken.write_bytes(b"not a jpeg at all")
    items = [i for i in find_cat2000(root) if i.stimulus == broken]
    with pytest.raises(DataError, match=r"ColourSingleton/001\.jpg.*not a readable image"):
        SaliencyDataset(items, (48, 64), (44, 60), cache_dir=None)[0]


def test_fixation_file_without_fixlocs_names_the_variable(tmp_path):
    from scipy.io import savemat

    savemat(tmp_path / "x.mat", {"something": np.ones((3, 3))})
    with pytest.raises(DataError, match=r"x\.mat.*fixLocs.*something"):
        data.load_fixations(tmp_path / "x.mat")


def test_not_a_cat2000_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="not a CAT2000 folder"):
        find_cat2000(tmp_path)


@pytest.mark.parametrize("mode", ["L", "CMYK", "P"])
def test_every_image_mode_is_read_as_rgb(tmp_path, mode):
    path = tmp_path / f"image_{mode}.{'png' if mode == 'P' else 'jpg'}"
    Image.new("RGB", (20, 10), (200, 30, 30)).convert(mode).save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing is lost, so nothing to say
        image = load_rgb(path)
    assert image.mode == "RGB" and image.size == (20, 10)


def test_an_alpha_channel_is_dropped_with_a_warning_naming_the_file(tmp_path):
    path = tmp_path / "stimulus.png"
    Image.new("RGBA", (20, 10), (200, 30, 30, 40)).save(path)
    with pytest.warns(UserWarning, match=r"stimulus.png: has an alpha channel"):
        image = load_rgb(path)
    assert image.mode == "RGB" and image.getpixel((0, 0)) == (200, 30, 30)


def _replace_ground_truth(root, map_size=None, fix_locs=None):
    """Overwrite the first item's fixation map (``(width, height)``) or ``fixLocs`` array."""
    from scipy.io import savemat

    item = find_cat2000(root)[0]
    if map_size is not None:
        Image.new("L", map_size, 128).save(item.saliency_map)
    if fix_locs is not None:
        savemat(item.fixations, {"fixLocs": fix_locs})
    return item


def test_a_fixation_map_of_another_aspect_ratio_stops_training_and_scoring(small_sample, tmp_path):
    from helpers.data import load_ground_truth

    item = _replace_ground_truth(copy_sample(small_sample, tmp_path), map_size=(300, 500))  # stimulus 640×360
    with pytest.raises(DataError, match=r"001.jpg: fixation map of 300×500 .* stimulus .* is 640×360"):
        SaliencyDataset([item], (96, 128), (92, 124), cache_dir=None)[0]
    with pytest.raises(DataError, match="fixation map of 300×500"):
        load_ground_truth(item)


def test_transposed_fixation_locations_are_named_as_such(small_sample, tmp_path):
    from helpers.data import load_ground_truth

    transposed = np.zeros((640, 360), np.uint8)  # rows and columns swapped for a 640×360 stimulus
    transposed[100, 200] = 1
    item = _replace_ground_truth(copy_sample(small_sample, tmp_path), fix_locs=transposed)
    with pytest.raises(DataError, match=r"001.mat: fixation locations of 360×640 .*\(transposed\)"):
        load_ground_truth(item)


def _rotated_jpeg(path, size=(40, 20)):
    """A JPEG stored 40×20 whose EXIF tag says: rotate 90° to display (20×40 displayed)."""
    image = Image.new("RGB", size, (0, 0, 0))
    image.paste((255, 255, 255), (0, 0, 10, 20))  # white on the left when stored
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 270° clockwise on display
    image.save(path, exif=exif)


def test_exif_rotation_is_honoured(tmp_path):
    _rotated_jpeg(tmp_path / "r.jpg")
    assert load_rgb(tmp_path / "r.jpg").size == (20, 40)


def test_a_wrong_exif_tag_is_ignored_when_the_map_disagrees(tmp_path):
    _rotated_jpeg(tmp_path / "r.jpg")
    with pytest.warns(UserWarning, match="EXIF orientation disagrees"):
        image = load_rgb(tmp_path / "r.jpg", expected_size=(40, 20))
    assert image.size == (40, 20)


def test_items_are_scaled_to_minus_one_one_at_the_requested_sizes(small_sample, tmp_path):
    items = find_cat2000(small_sample)[:2]
    image, saliency_map = SaliencyDataset(items, (48, 64), (44, 60), cache_dir=tmp_path)[0]
    assert image.shape == (3, 48, 64) and saliency_map.shape == (1, 44, 60)
    assert image.dtype == torch.float32
    assert image.min() >= -1 and image.max() <= 1
    assert saliency_map.min() == -1.0 and saliency_map.max() > 0.5  # black background, a bright peak


def test_cache_serves_later_epochs_without_decoding(small_sample, tmp_path, monkeypatch):
    items = find_cat2000(small_sample)[:3]
    dataset = SaliencyDataset(items, (48, 64), (44, 60), cache_dir=tmp_path / "cache")
    first = [dataset[i] for i in range(3)]
    decoded = []
    monkeypatch.setattr(SaliencyDataset, "decode", lambda self, i: decoded.append(i))
    second = [dataset[i] for i in range(3)]
    assert decoded == []
    for (a, b), (c, d) in zip(first, second):
        assert torch.equal(a, c) and torch.equal(b, d)


def test_cache_is_rebuilt_when_a_source_or_the_size_changes(small_sample, tmp_path):
    root = copy_sample(small_sample, tmp_path)
    items = find_cat2000(root)[:1]
    cache = tmp_path / "cache"
    before = SaliencyDataset(items, (48, 64), (44, 60), cache_dir=cache)[0][0]
    Image.new("RGB", (640, 360), (255, 255, 255)).save(items[0].stimulus)  # the file changes
    after = SaliencyDataset(items, (48, 64), (44, 60), cache_dir=cache)[0][0]
    assert not torch.equal(before, after) and torch.all(after == 1.0)
    resized = SaliencyDataset(items, (24, 32), (20, 28), cache_dir=cache)[0][0]
    assert resized.shape == (3, 24, 32)


def test_sample_is_deterministic_and_regenerated_only_when_settings_change(tmp_path):
    # one display a category (two took 4.5 s on two AVX2 cores, near the quick tier's 5-s limit; one 2.5 s)
    a = ensure_saliency_sample(tmp_path / "a", images_per_category=1, seed=5)
    b = ensure_saliency_sample(tmp_path / "b", images_per_category=1, seed=5)
    name = "trainSet/FIXATIONLOCS/ColourSingleton/001.mat"
    assert data.load_fixations(a / name).tolist() == data.load_fixations(b / name).tolist()
    stamp = (a / "sample.json").stat().st_mtime_ns
    ensure_saliency_sample(a, images_per_category=1, seed=5)
    assert (a / "sample.json").stat().st_mtime_ns == stamp
    ensure_saliency_sample(a, images_per_category=2, seed=5)
    assert len(list((a / "trainSet/Stimuli/ColourSingleton").glob("*.jpg"))) == 2


def test_sample_fixations_mostly_land_on_the_singleton(small_sample):
    import json

    manifest = json.loads((small_sample / "sample.json").read_text())
    near, total = 0, 0
    for key, items in manifest["items"].items():
        x, y, radius = items[0]
        category, name = key.split("/")
        fixations = data.load_fixations(small_sample / "trainSet/FIXATIONLOCS" / category / f"{name}.mat")
        rows, cols = np.nonzero(fixations)
        near += np.sum(np.hypot(cols - x, rows - y) <= 2 * radius)
        total += rows.size
    assert 0.45 < near / total < 0.8  # the model says 60 % on the singleton (pixels, not fixations)


def test_sample_truth_labels_the_singleton_and_its_density_peaks_there(small_sample):
    import json

    from PIL import Image

    manifest = json.loads((small_sample / "sample.json").read_text())
    for key, items in list(manifest["items"].items())[::7]:
        stem = key.replace("/", "_")
        labels = np.asarray(Image.open(small_sample / "truth" / f"{stem}_items.png"))
        density = np.asarray(Image.open(small_sample / "truth" / f"{stem}_density.png")).astype(float)
        category = key.split("/")[0]
        (x, y, radius), distractors = items[0], items[len(target_shares(category)):]
        rows, cols = np.nonzero(labels == 1)
        # the singleton's pixels lie on the singleton (a bar reaches 1.3 radii from its centre)
        assert rows.size > 0 and np.hypot(cols - x, rows - y).max() <= 1.4 * radius, key
        assert (labels == 2).sum() > len(distractors) * rows.size * (0.2 if "Size" in key else 0.5), key
        peak_row, peak_col = np.unravel_index(density.argmax(), density.shape)
        assert np.hypot(peak_col - x, peak_row - y) <= radius, key   # 60 % (40 % beside a colour singleton) is there
        assert len(distractors) >= (13 if category not in FACE_CATEGORIES else 6)
        if category == "FaceAndColourSingleton":  # the colour singleton is labelled apart, and draws its share
            (sx, sy, _), second = items[1], labels == SECOND_TARGET
            assert second.any() and np.hypot(np.nonzero(second)[1] - sx, np.nonzero(second)[0] - sy).max() <= radius + 1.5
    assert {key.split("/")[0] for key in manifest["items"]} == set(SALIENCY_CATEGORIES)


def test_sample_seed_comes_from_the_environment_and_a_bad_value_is_named(monkeypatch, tmp_path):
    import json

    from helpers.samples import sample_seed

    monkeypatch.delenv("SAMPLE_SEED", raising=False)
    assert sample_seed() == 0
    monkeypatch.setenv("SAMPLE_SEED", "7")
    root = ensure_saliency_sample(tmp_path / "s", images_per_category=1)
    assert json.loads((root / "sample.json").read_text())["seed"] == 7
    first = (root / "trainSet/Stimuli/ColourSingleton/001.jpg").read_bytes()
    monkeypatch.setenv("SAMPLE_SEED", "8")        # another seed: the folder is made again
    ensure_saliency_sample(root, images_per_category=1)
    assert json.loads((root / "sample.json").read_text())["seed"] == 8
    assert (root / "trainSet/Stimuli/ColourSingleton/001.jpg").read_bytes() != first
    monkeypatch.setenv("SAMPLE_SEED", "seven")
    with pytest.raises(ValueError, match="SAMPLE_SEED must be a whole number.*'seven'"):
        sample_seed()


def test_every_sample_photograph_is_credited_in_data_sources():
    from helpers import paths
    from helpers.samples import PHOTOGRAPHS

    sources = (paths.ROOT / "data" / "SAMPLE_SOURCES.md").read_text()
    for name, (_, credit) in PHOTOGRAPHS.items():
        assert f"| {name} |" in sources and credit in sources, name
    assert "foolbox/data/imagenet_NN_CLASS.jpg" in sources
    assert "One thing is\nfetched for them: the foolbox 3.3.4 wheel" in sources   # said first, not "nothing is downloaded"


def test_no_test_image_shares_a_photograph_with_a_training_image(tmp_path):
    from helpers.data import find_image_folder
    from helpers.samples import HELD_OUT_PHOTOGRAPHS, write_inversion_sample

    root = write_inversion_sample(tmp_path / "sample", train_per_photo=2, test_per_photo=2)
    train, test = find_image_folder(root)
    photographs = lambda items: {item.path.name.rsplit("_", 1)[0] for item in items}  # noqa: E731
    assert photographs(train) and photographs(test) and not photographs(train) & photographs(test)
    assert photographs(test) == set(HELD_OUT_PHOTOGRAPHS)  # the ImageNet ones included: the wheel was reached
    assert len(photographs(train)) == 29 - 7
    credits = (root / "SOURCES.md").read_text()
    assert all(f"| {name} | test |" in credits for name in HELD_OUT_PHOTOGRAPHS)

    # By pixel content, not by name: every test crop is far from every training crop. Two crops of one
    # photograph come as close as 0.047 (mean absolute difference, [0, 1] pixels, at 32×32); crops of
    # different photographs here are 0.10 apart or more.
    def pixels(items):
        return np.stack([np.asarray(Image.open(i.path).convert("RGB").resize((32, 32)), np.float32) / 255 for i in items])

    def nearest(test_crops, train_crops):
        return np.abs(test_crops[:, None] - train_crops[None]).mean(axis=(2, 3, 4)).min(axis=1)

    train_crops, test_crops = pixels(train), pixels(test)
    assert nearest(test_crops, train_crops).min() > 0.06
    leaked = np.concatenate([train_crops, test_crops[:1]])             # the check finds a crop that leaked
    assert nearest(test_crops, leaked)[0] == 0.0


# --- WholeDataset: one meaning for every data set (helpers/data/subsets.py) ------------------------

def test_whole_dataset_counts_every_image_used_training_and_held_out(small_sample):
    train, held_out = dirs_loader(small_sample, WholeDataset=60)  # no official held-out set
    assert len(train) + len(held_out) == 60 and len(held_out) == 12  # 10 per category, 15 % (2) of each held out


def test_whole_dataset_takes_15_percent_from_an_official_held_out_set():
    from helpers.data import ImageItem, split_official

    train = [ImageItem(f"c{k % 4}", Path(f"t{k}.jpg")) for k in range(400)]
    held_out = [ImageItem(f"c{k % 4}", Path(f"v{k}.jpg")) for k in range(40)]
    small_train, small_held = split_official(train, held_out, WholeDataset=100)
    assert (len(small_train), len(small_held)) == (85, 15)
    assert {i.category for i in small_held} == {"c0", "c1", "c2", "c3"}  # spread over the categories
    assert split_official(train, held_out) == (sorted(train, key=lambda i: (i.category, i.path.name)),
                                               sorted(held_out, key=lambda i: (i.category, i.path.name)))


def test_a_data_set_above_the_cache_limit_streams_and_says_so(monkeypatch, capsys, small_sample):
    from helpers.data import datasets, dirs_loader

    items = dirs_loader(small_sample, True, 0)[0]
    monkeypatch.setattr(datasets, "CACHE_LIMIT", len(items) - 1)
    streamed = SaliencyDataset(items, (48, 64), (44, 60))
    assert streamed.cache_dir is None and "streamed" in capsys.readouterr().out
    monkeypatch.setattr(datasets, "CACHE_LIMIT", len(items))
    assert SaliencyDataset(items, (48, 64), (44, 60)).cache_dir is not None


def test_beside_a_colour_singleton_the_face_draws_the_stated_share_of_the_fixations(monkeypatch):
    """FIXATION_MODEL's face_share, measured on the draws: of the fixations on the two targets, two
    thirds land on the face; the density the oracle reads says the same."""
    from helpers import samples

    rng = np.random.default_rng(5)
    _, items, _ = samples.make_search_display("FaceAndColourSingleton", rng)
    monkeypatch.setitem(samples.FIXATION_MODEL, "fixations_per_image", 30_000)
    counts = samples.sample_fixations(items, rng, (640, 360), "FaceAndColourSingleton")
    density = samples.fixation_model_density(items, (640, 360), "FaceAndColourSingleton")
    rows, cols = np.mgrid[:360, :640]
    near = [np.hypot(cols - x, rows - y) <= 1.5 * radius for x, y, radius in items[:2]]
    on_face, on_singleton = (counts[mask].sum() for mask in near)
    share = samples.FIXATION_MODEL["face_share"]
    # (the centre bias also lands a little near each target: a few hundredths either way)
    assert on_face / (on_face + on_singleton) == pytest.approx(share, abs=0.03)
    assert density[near[0]].sum() / (density[near[0]].sum() + density[near[1]].sum()) == pytest.approx(share, abs=0.03)
    # without the face channel the face draws what a distractor draws, and the singleton keeps its share
    blind = samples.fixation_model_density(items, (640, 360), "FaceAndColourSingleton", faces=False)
    distractor = np.hypot(cols - items[2][0], rows - items[2][1]) <= 1.5 * items[2][2]
    assert blind[near[0]].sum() == pytest.approx(blind[distractor].sum(), rel=0.2)   # (the centre bias differs)
    assert blind[near[1]].sum() > 5 * blind[near[0]].sum()


def test_each_face_glyph_is_mirror_symmetric_and_a_distractor_is_the_face_upside_down():
    """The glyph is its own left–right mirror image to the pixel, and the face turned upside down is
    the distractor whose ink centre and gap mirror its own: nothing but the arrangement differs."""
    from helpers import samples

    face = samples.face_glyph(34.0, (120, 100, 200), -0.3, 0.3)
    assert np.array_equal(face, face[:, ::-1])
    assert np.array_equal(face[::-1], samples.face_glyph(34.0, (120, 100, 200), 0.3, -0.3))
    rng = np.random.default_rng(0)
    assert all(eyes < mouth for eyes, mouth in (samples.face_layout(rng, upright=True) for _ in range(50)))
    assert all(eyes > mouth for eyes, mouth in (samples.face_layout(rng, upright=False) for _ in range(50)))


