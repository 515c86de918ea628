"""python -m helpers.predict: a trained network's maps for a user's own images, in the benchmarks' submission
layout (one 8-bit grayscale PNG per image, named by its stem, at the image's own size)."""
import numpy as np
import pytest
from PIL import Image

from helpers import evaluation, predict, saliency
from helpers.data import find_cat2000
from helpers.spec import SaliencySpec


@pytest.fixture(scope="module")
def trained(small_sample, tmp_path_factory):
    """A tiny SalNet trained one epoch on the small sample, its checkpoint outside the session's folders."""
    folder = tmp_path_factory.mktemp("predict")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SALIENCY_CHECKPOINT_DIR", str(folder / "checkpoints"))
        patch.setenv("SALIENCY_REPORT_DIR", str(folder / "report"))
        spec = SaliencySpec(dataset="cat2000", data_dir=str(small_sample), whole_dataset=16, epochs=1,
                            optimizer="adam", learning_rate=1e-3, image_size=(32, 48), batch_size=4)
        return saliency.train(spec, device="cpu", progress=False)


def mixed_folder(folder):
    """Images of several sizes, modes and formats, as a user's holiday folder holds them."""
    rng = np.random.default_rng(0)
    folder.mkdir()
    Image.fromarray(rng.integers(0, 255, (70, 50, 3), np.uint8)).save(folder / "holiday.jpg")
    Image.fromarray(rng.integers(0, 255, (21, 33), np.uint8)).save(folder / "gray.png")
    Image.fromarray(rng.integers(0, 255, (40, 90, 4), np.uint8), "RGBA").save(folder / "alpha.png")
    Image.fromarray(rng.integers(0, 255, (64, 64), np.uint8)).convert("P").save(folder / "palette.gif")
    Image.fromarray((rng.integers(0, 65535, (30, 45))).astype(np.uint16)).save(folder / "sixteen.tif")
    (folder / "notes.txt").write_text("not an image")
    return {path.stem: Image.open(path).size for path in folder.iterdir() if path.suffix != ".txt"}


@pytest.mark.slow
def test_a_folder_of_mixed_sizes_and_modes_gets_a_grayscale_map_of_each_images_own_size(trained, tmp_path):
    sizes = mixed_folder(tmp_path / "mine")
    assert predict.main([str(tmp_path / "mine"), "--out", str(tmp_path / "maps"), "--overlay",
                         "--checkpoint", str(trained.run.checkpoint)]) == 0
    written = {path.stem: Image.open(path) for path in (tmp_path / "maps").glob("*.png")}
    assert {stem: image.size for stem, image in written.items()} == sizes
    assert {image.mode for image in written.values()} == {"L"}
    assert all(np.asarray(image).max() == 255 for image in written.values())   # scaled to [0, 1], then 8 bits
    assert Image.open(tmp_path / "maps" / "holiday_overlay.jpg").size == sizes["holiday"]


@pytest.mark.slow
def test_a_map_is_the_one_notebook_02_scores_for_the_same_image(trained, small_sample):
    item = find_cat2000(small_sample)[0]
    (path, found), = predict.saliency_maps([item.stimulus], trained.run.checkpoint, "cpu", progress=False)
    output = evaluation.predict_saliency(trained.model, [item], trained.spec.image_size)[0]
    expected = evaluation.upsample(output, Image.open(item.stimulus).size[::-1])
    assert path == item.stimulus and np.abs(found - expected).max() < 1e-5


def test_what_is_not_an_image_or_folder_is_one_line_naming_it(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    for given in (tmp_path / "missing.jpg", tmp_path / "empty"):
        assert predict.main([str(given), "--out", str(tmp_path / "maps")]) == 1
        said = capsys.readouterr().err.strip().splitlines()
        assert len(said) == 1 and str(given) in said[0]


@pytest.mark.slow
def test_a_decoder_reconstructs_each_photograph_at_its_own_size(tmp_path, monkeypatch):
    from helpers import inversion
    from helpers.spec import InversionSpec

    monkeypatch.setenv("SALIENCY_CHECKPOINT_DIR", str(tmp_path / "checkpoints"))
    monkeypatch.setenv("SALIENCY_REPORT_DIR", str(tmp_path / "report"))
    rng = np.random.default_rng(1)
    for split, count in (("train", 12), ("val", 6)):
        (tmp_path / "imagenet" / split / "n01").mkdir(parents=True)
        for index in range(count):
            Image.fromarray(rng.integers(0, 255, (24, 24, 3), np.uint8)).save(tmp_path / "imagenet" / split / "n01" / f"{index}.png")
    spec = InversionSpec(dataset="imagenet", data_dir=str(tmp_path / "imagenet"), whole_dataset=12, image_size=64,
                         layer="fc8", weights="random", epochs=1, batch_size=4)
    inversion.train_decoder(spec, device="cpu", progress=False)
    (tmp_path / "photos").mkdir()
    Image.fromarray(rng.integers(0, 255, (50, 80, 3), np.uint8)).save(tmp_path / "photos" / "wide.jpg")
    Image.fromarray(rng.integers(0, 255, (90, 40), np.uint8)).save(tmp_path / "photos" / "tall.png")
    assert predict.main([str(tmp_path / "photos"), "--out", str(tmp_path / "out"), "--decoder", "fc8"]) == 0
    made = {path.name: Image.open(path) for path in (tmp_path / "out").iterdir()}
    assert {name: (image.size, image.mode) for name, image in made.items()} == {
        "wide_fc8.png": ((80, 50), "RGB"), "tall_fc8.png": ((40, 90), "RGB")}
    assert predict.main([str(tmp_path / "photos"), "--out", str(tmp_path / "out"), "--decoder", "conv2"]) == 1
