"""The README's and ``docs/part1-sample.md``'s claims about quality, each at the settings it was measured
with, through the recipe that made it: conv2's decoder against the mean image (notebook 03 under the
smoke profile, then notebook 07's summary) and ImageNet training against random weights (notebook 07's
comparison). The second saliency model's bars are asserted on the notebook tests' run
(``tests/test_notebooks.py``), which keeps its smoke settings."""
import pytest

from helpers import profiles
from helpers.records import InversionSummary
from notebook_runs import execute, notebook_default

pytestmark = pytest.mark.slow


def test_conv2s_decoder_beats_the_mean_image_at_the_smoke_settings(tmp_path, monkeypatch):
    """docs/part1-sample.md's claim for the assignment's layers, where it was measured: notebook 03 under
    the smoke profile (a random AlexNet: no ImageNet weights reach this machine), then notebook 07's
    summary beside the mean image."""
    for name in ("DATA", "CACHE", "CHECKPOINT", "REPORT", "EXECUTED"):
        monkeypatch.setenv(f"SALIENCY_{name}_DIR", str(tmp_path / name.lower()))
    execute("03_invert_conv2", profile="smoke")
    execute("07_inversion_summary", profile="smoke", COMPARE=False)
    summary = InversionSummary.read()
    assert summary.WholeDataset == profiles.SMOKE["inversion"]["whole_dataset"] and summary.test_images == 22
    assert summary.layers["conv2"]["epochs"] == profiles.SMOKE["inversion"]["epochs"]
    print({layer: round(row["normalised error"], 3) for layer, row in summary.layers.items()})
    assert summary.layers["conv2"]["normalised error"] < summary.layers["mean image"]["normalised error"]


def test_imagenet_training_keeps_more_than_random_weights_at_the_smoke_settings(tmp_path, monkeypatch):
    """docs/part1-sample.md's claims for notebook 07's comparison, at the smoke settings they were
    measured with, through notebook 07's recipe (``inversion.compare_pretrained_and_random``) and its
    layers; the random network is decoded only where a claim reads it, its first two blocks."""
    from helpers.inversion import compare_pretrained_and_random
    from helpers.spec import InversionSpec

    for name in ("CACHE", "CHECKPOINT", "REPORT"):
        monkeypatch.setenv(f"SALIENCY_{name}_DIR", str(tmp_path / name.lower()))
    layers = notebook_default("07_inversion_summary", "COMPARE_LAYERS")
    spec = InversionSpec.from_values({"encoder": notebook_default("07_inversion_summary", "COMPARE_ENCODER")}, "smoke",
                                     group="comparison", report=None)
    comparison, _, _ = compare_pretrained_and_random(spec, layers, "cpu", random_layers=layers[:2])
    assert (comparison.WholeDataset, comparison.image_size, comparison.test_images) == (300, 128, 45)
    mean = comparison.mean_image["normalised error"]
    pretrained = [comparison.rows["pretrained"][layer]["normalised error"] for layer in layers]
    random = [comparison.rows["random"][layer]["normalised error"] for layer in layers[:2]]
    print(f"mean image {mean:.3f}; pretrained {[round(e, 3) for e in pretrained]}; random {[round(e, 3) for e in random]}")
    assert pretrained == sorted(pretrained)  # error grows with depth
    assert all(error <= 0.9 * mean for error in pretrained[:-1])  # every block at least 10 % below the mean image
    assert pretrained[0] < random[0] and pretrained[1] < random[1]  # ImageNet training keeps more, early on
