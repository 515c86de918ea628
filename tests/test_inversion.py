import dataclasses
import hashlib
import warnings

import numpy as np
import pytest
import torch
from torch import nn
import torchvision
from PIL import Image

from helpers.data import (DataError, ImageItem, InversionDataset, denormalise_imagenet, find_image_folder,
                          find_tiny_imagenet, normalise_imagenet)
from helpers.inversion import mean_pair_distance, reconstruction_metrics
from helpers import weights
from helpers.encoders import FEATURE_SHAPES, LAYERS, AlexNetEncoder
from helpers.models import UPCONV_CHANNELS, InversionDecoder, upconv_channels
from helpers.weights import WeightsError

MSE = nn.MSELoss()


@pytest.fixture
def no_weights(tmp_path, monkeypatch):
    """An empty TORCH_HOME: no cached weights, and no download is attempted; as in a new process,
    nothing announced or tried yet."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(weights, "_ANNOUNCED", set())
    monkeypatch.setattr(weights, "_UNREACHABLE", {})
    return tmp_path / "torch"


@pytest.fixture(scope="module")
def seeded_alexnet() -> dict:
    """The seeded random AlexNet's weights, built once: each encoder below loads them instead of
    initialising a network of its own."""
    return weights.build("alexnet").state_dict()


def encoder(layer, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return AlexNetEncoder(layer, allow_download=False, **kwargs)


def test_the_eight_layers():
    assert LAYERS == ("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8")


@pytest.mark.parametrize("size", [227, 224])
def test_feature_shapes_of_every_tap(seeded_alexnet, size):
    images = torch.randn(2, 3, size, size)
    # conv1's pool gives 27×27 for both sizes: (227 − 11) / 4 + 1 = 55 and floor((224 + 4 − 11) / 4) + 1 = 55
    expected = {"conv1": (64, 27, 27), "conv2": (192, 13, 13),
                "conv3": (384, 13, 13), "conv4": (256, 13, 13), "conv5": (256, 6, 6),
                "fc6": (4096,), "fc7": (4096,), "fc8": (1000,)}
    for layer in LAYERS:
        features = encoder(layer, weights=seeded_alexnet)(images)
        assert tuple(features.shape) == (2, *expected[layer]) == (2, *FEATURE_SHAPES[layer])


def test_taps_equal_torchvisions_own_forward(no_weights):
    torch.manual_seed(0)
    alexnet = torchvision.models.alexnet(weights=None).eval()
    images = torch.randn(2, 3, 227, 227)
    with torch.no_grad():
        pooled = alexnet.features(images)
        fc = alexnet.classifier(torch.flatten(alexnet.avgpool(pooled), 1))
        conv2 = alexnet.features[:6](images)
    state = alexnet.state_dict()
    assert torch.allclose(encoder("conv5", weights=state)(images), pooled)
    assert torch.allclose(encoder("fc8", weights=state)(images), fc, atol=1e-5)
    assert torch.allclose(encoder("conv2", weights=state)(images), conv2)


def test_a_network_built_from_a_state_holds_exactly_that_state_and_a_misfit_is_refused(seeded_alexnet):
    state = {name: torch.randn_like(tensor) for name, tensor in seeded_alexnet.items()}
    built = weights.build("alexnet", state).state_dict()
    assert built.keys() == state.keys()
    assert all(torch.equal(built[name], state[name]) for name in state)
    assert all(built[name].data_ptr() != state[name].data_ptr() for name in state)  # copied, not shared
    with pytest.raises(WeightsError, match="do not fit torchvision's alexnet"):
        weights.build("alexnet", {**state, "classifier.6.weight": torch.zeros(10, 4096)})
    with pytest.raises(WeightsError, match="do not fit torchvision's alexnet"):
        weights.build("alexnet", {k: v for k, v in state.items() if k != "features.0.bias"})


def test_post_relu_taps_are_non_negative_and_fc8_is_not(seeded_alexnet):
    images = torch.randn(2, 3, 227, 227)
    for layer in LAYERS[:-1]:
        assert encoder(layer, weights=seeded_alexnet)(images).min() >= 0, layer
    assert encoder("fc8", weights=seeded_alexnet)(images).min() < 0


def test_encoder_is_frozen_and_stays_in_eval_mode(no_weights):
    net = encoder("fc6")
    net.train()
    assert not net.training and not any(m.training for m in net.modules())
    assert not any(p.requires_grad for p in net.parameters())
    images = torch.randn(2, 3, 227, 227)
    assert torch.equal(net(images), net(images))  # no dropout


@pytest.mark.parametrize("layer, before", [("conv1", 216), ("conv2", 208), ("conv3", 208), ("conv4", 208),
                                           ("conv5", 192), ("fc6", 128), ("fc7", 128), ("fc8", 128)])
def test_decoder_output_sizes(layer, before):
    decoder = InversionDecoder(layer, output_size=227)
    features = torch.randn(2, *FEATURE_SHAPES[layer])
    assert tuple(decoder(features, upsample=False).shape) == (2, 3, before, before)
    assert tuple(decoder(features).shape) == (2, 3, 227, 227)


def test_decoders_follow_tables_3_and_4():
    conv2 = InversionDecoder("conv2")
    convs = [m for m in conv2.head if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size) for c in convs] == [(192, 192, (3, 3))] * 3
    ups = [m for m in conv2.upconvs if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [(u.in_channels, u.out_channels) for u in ups] == [(192, 192), (192, 128), (128, 64), (64, 3)]
    assert all(u.kernel_size == (5, 5) and u.stride == (2, 2) for u in ups)
    fc8 = InversionDecoder("fc8")
    linears = [m for m in fc8.head if isinstance(m, torch.nn.Linear)]
    assert [(l.in_features, l.out_features) for l in linears] == [(1000, 4096), (4096, 4096), (4096, 4096)]
    relus = [m for m in fc8.modules() if isinstance(m, torch.nn.LeakyReLU)]
    assert len(relus) == 3 + 4 and all(r.negative_slope == 0.2 for r in relus)  # none after the last layer
    assert isinstance(list(fc8.upconvs)[-1], torch.nn.ConvTranspose2d)


# --- weights ------------------------------------------------------------------------------------

def cached_weights(torch_home):
    torch.manual_seed(1)
    state = torchvision.models.alexnet(weights=None).state_dict()
    target = torch_home / "hub" / "checkpoints" / weights.KNOWN["alexnet"].file
    target.parent.mkdir(parents=True)
    torch.save(state, target)
    return state, target


def test_weights_in_torchvisions_cache_are_loaded_when_the_hash_matches(no_weights, monkeypatch):
    state, target = cached_weights(no_weights)
    monkeypatch.setitem(weights.KNOWN, "alexnet", dataclasses.replace(
        weights.KNOWN["alexnet"], sha256=hashlib.sha256(target.read_bytes()).hexdigest()))
    net = AlexNetEncoder("conv1", allow_download=False)
    assert net.pretrained and "torchvision's ImageNet weights" in net.weights_description
    checked = hashlib.sha256(target.read_bytes()).hexdigest()
    assert net.weights_id == f"alexnet: torchvision IMAGENET1K_V1 (sha256 {checked[:16]})"  # the hash it checked
    assert torch.equal(net.net[0].weight, state["features.0.weight"])


def test_a_hash_mismatch_is_refused(no_weights):
    _, target = cached_weights(no_weights)  # not the published file, so its hash differs
    with pytest.raises(WeightsError, match=r"SHA-256 .* does not match .*7be5be79"):
        AlexNetEncoder("conv1", allow_download=False)


def test_weights_from_a_given_path(no_weights, tmp_path):
    state, target = cached_weights(no_weights)
    net = AlexNetEncoder("conv5", weights=str(target), allow_download=False)
    assert net.pretrained and str(target) in net.weights_description
    (tmp_path / "junk.pth").write_bytes(b"junk")
    with pytest.raises(WeightsError, match="junk.pth"):
        AlexNetEncoder("conv5", weights=str(tmp_path / "junk.pth"))
    with pytest.raises(WeightsError, match="not found"):
        AlexNetEncoder("conv5", weights=str(tmp_path / "missing.pth"))


def test_random_fallback_is_announced_and_can_be_forbidden(no_weights):
    with pytest.warns(UserWarning, match="random weights"):
        resolved = weights.resolve("alexnet", allow_download=False)
    assert resolved.state is None and resolved.description == "AlexNet: random weights — not the paper's setting"
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # said once per process, however often it is resolved
        assert weights.resolve("alexnet", allow_download=False).description == resolved.description
    with pytest.raises(WeightsError, match="REQUIRE_PRETRAINED"):
        weights.resolve("alexnet", require_pretrained=True, allow_download=False)


def test_the_decoder_pattern_for_any_shape_reproduces_tables_3_and_4():
    assert all(upconv_channels(shape) == UPCONV_CHANNELS[layer] for layer, shape in FEATURE_SHAPES.items())
    # MobileNetV2 at 128²: 32×32 → 2 doublings, 16×16 → 3, 8×8 → 4, a vector → Table 4's five
    assert [upconv_channels((24, side, side), 128) for side in (32, 16, 8)] == [
        (192, 64, 3), (192, 128, 64, 3), (192, 192, 128, 64, 3)]
    decoder = InversionDecoder("features.6.add", output_size=128, feature_shape=(32, 16, 16))
    assert tuple(decoder(torch.randn(2, 32, 16, 16), upsample=False).shape) == (2, 3, 128, 128)


def test_any_torchvision_classifier_can_be_cut_at_a_node_of_its_graph(no_weights):
    from helpers.encoders import build_encoder

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = build_encoder("mobilenet_v2", "features.6.add", weights="random")
        assert net.feature_shape(128) == (32, 16, 16) and not net.pretrained
        with pytest.raises(ValueError, match=r"'features.6.ad' is not a node .* did you mean 'features.6.add'"):
            build_encoder("mobilenet_v2", "features.6.ad", weights="random")


def test_an_unknown_layer_is_a_clear_error():
    with pytest.raises(ValueError, match="LAYER must be one of"):
        InversionDecoder("pool5")


# --- training a decoder ---------------------------------------------------------------------------

@pytest.mark.slow
def test_a_decoder_overfits_a_handful_of_images(no_weights):
    torch.manual_seed(0)
    net = encoder("conv5")
    ramp = torch.linspace(0, 1, 227)
    colours = torch.rand(4, 3, 1, 1)  # four smooth two-way colour gradients
    images = normalise_imagenet(0.2 + 0.6 * colours * ramp.view(1, 1, 1, -1) * ramp.view(1, 1, -1, 1).flip(2))
    decoder = InversionDecoder("conv5")
    optimizer = torch.optim.Adam(decoder.parameters(), lr=1e-3)
    with torch.no_grad():
        features = net(images)
    losses = []
    for _ in range(60):
        loss = torch.nn.functional.mse_loss(decoder(features), images)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert min(losses[-5:]) < losses[0] / 4


# --- data -----------------------------------------------------------------------------------------

def write_tiny_imagenet(root, classes=25, per_class=2):
    base = root / "tiny-imagenet-200"
    wnids = [f"n{index:08d}" for index in range(classes)]
    lines = []
    (base / "val" / "images").mkdir(parents=True)
    for index, wnid in enumerate(wnids):
        folder = base / "train" / wnid / "images"
        folder.mkdir(parents=True)
        for k in range(per_class):
            Image.new("RGB", (64, 64), (index * 10, k * 50, 0)).save(folder / f"{wnid}_{k}.JPEG")
        Image.new("RGB", (64, 64)).save(base / "val" / "images" / f"val_{index}.JPEG")
        lines.append(f"val_{index}.JPEG\t{wnid}\t0\t0\t63\t63")
    (base / "wnids.txt").write_text("\n".join(wnids) + "\n")
    (base / "val" / "val_annotations.txt").write_text("\n".join(lines) + "\n")
    return base


def test_tiny_imagenet_keeps_the_20_classes_of_seed_476(tmp_path):
    write_tiny_imagenet(tmp_path)
    train, val = find_tiny_imagenet(tmp_path)
    classes = sorted({i.category for i in train})
    assert len(classes) == 20 and classes == sorted({i.category for i in val})
    assert len(train) == 40 and len(val) == 20
    assert find_tiny_imagenet(tmp_path)[0] == train
    other = sorted({i.category for i in find_tiny_imagenet(tmp_path, class_seed=1)[0]})
    assert other != classes


def test_tiny_imagenet_bad_annotation_names_file_and_line(tmp_path):
    base = write_tiny_imagenet(tmp_path, classes=3)
    with open(base / "val" / "val_annotations.txt", "a") as handle:
        handle.write("garbage-without-tabs\n")
    with pytest.raises(DataError, match=r"val_annotations.txt, line 4"):
        find_tiny_imagenet(tmp_path)


def test_image_folder_layout(tmp_path):
    for split in ("train", "val"):
        for name in ("cat", "dog"):
            (tmp_path / split / name).mkdir(parents=True)
            Image.new("RGB", (30, 20)).save(tmp_path / split / name / "a.JPEG")
    train, val = find_image_folder(tmp_path)
    assert [i.category for i in train] == ["cat", "dog"] and len(val) == 2
    with pytest.raises(DataError, match="train"):
        find_image_folder(tmp_path / "nowhere")


def test_inversion_items_are_normalised_227_squares(tmp_path):
    folder = tmp_path / "train" / "n01" / "images"
    folder.mkdir(parents=True)
    Image.new("RGB", (64, 64), (255, 128, 0)).save(folder / "a.png")
    image, target = InversionDataset([ImageItem("n01", folder / "a.png")], 227, cache_dir=tmp_path / "cache")[0]
    assert image.shape == (3, 227, 227) and torch.equal(image, target)
    # (255, 128, 0) / 255 normalised by hand with ImageNet's mean and std
    expected = [(1.0 - 0.485) / 0.229, (128 / 255 - 0.456) / 0.224, (0.0 - 0.406) / 0.225]
    assert image.mean(dim=(1, 2)).tolist() == pytest.approx(expected, abs=1e-5)


def test_normalisation_round_trip():
    pixels = torch.rand(2, 3, 5, 5)
    assert torch.allclose(denormalise_imagenet(normalise_imagenet(pixels)), pixels, atol=1e-6)


# --- reconstruction error -------------------------------------------------------------------------

def test_perfect_reconstruction_scores():
    images = normalise_imagenet(torch.rand(4, 3, 32, 32))
    scores = reconstruction_metrics(images, images.clone())
    assert scores["MSE"] == 0 and scores["normalised error"] == 0 and scores["SSIM"] == pytest.approx(1.0)
    assert scores["PSNR"] == float("inf")


def test_normalised_error_of_another_image_is_about_one():
    torch.manual_seed(0)
    images = normalise_imagenet(torch.rand(40, 3, 16, 16))
    shuffled = images.roll(1, dims=0)  # every reconstruction is a different test image
    assert reconstruction_metrics(images, shuffled)["normalised error"] == pytest.approx(1.0, abs=0.05)


def test_mean_pair_distance_by_hand():
    two = np.stack([np.zeros((2, 2, 3)), np.ones((2, 2, 3))])
    assert mean_pair_distance(two) == pytest.approx(np.sqrt(12))


def test_the_random_fallback_is_the_same_network_every_time(no_weights):
    torch.manual_seed(1)
    first = encoder("conv1").net[0].weight
    torch.manual_seed(2)
    assert torch.equal(encoder("conv1").net[0].weight, first)


# --- notebook 07's guards ---------------------------------------------------------------------------

def layer_record(layer, **changes):
    from helpers.records import InversionLayer

    from helpers.spec import InversionSpec

    spec = InversionSpec(whole_dataset=changes.pop("WholeDataset", 144), layer=layer).as_dict()
    fields = dict(dataset="sample", data_root="", spec=spec, metadata={}, checkpoint="", train_images=122,
                  held_out_images=22, history=[], epochs_trained=4, epochs_planned=4, layer=layer,
                  weights_id=weights.random_id("alexnet"))
    return InversionLayer(**{**fields, **changes})


def test_decoders_trained_on_different_subsets_are_not_compared():
    from helpers.inversion import DecoderMismatchError, common_test_set

    same = {"conv2": layer_record("conv2"), "fc8": layer_record("fc8")}
    assert common_test_set(same) == (144, 0, 227)
    mixed = {"conv2": layer_record("conv2"), "fc8": layer_record("fc8", WholeDataset=80)}
    with pytest.raises(DecoderMismatchError, match="fc8: WholeDataset=80"):
        common_test_set(mixed)


@pytest.mark.slow
def test_a_decoder_trained_on_other_encoder_weights_is_refused(no_weights, tmp_path):
    from helpers.identity import architecture
    from helpers.inversion import DecoderMismatchError, load_decoder
    from helpers.models import Inverter
    from helpers.spec import Spec
    from helpers.training import fit

    random_encoder = Inverter(encoder("fc8"), InversionDecoder("fc8"))
    images = normalise_imagenet(torch.rand(4, 3, 227, 227))
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(images, images), batch_size=4)
    metadata = {"weights_id": random_encoder.encoder.weights_id}
    checkpoint = tmp_path / "fc8.pt"
    fit(random_encoder, loader, None, Spec(epochs=1, batch_size=4), checkpoint, device="cpu",
        trainable=random_encoder.decoder, progress=False, metadata=metadata,
        extra={"architecture": architecture(random_encoder.decoder)}, loss_fn=MSE)
    assert load_decoder(random_encoder, layer_record("fc8", checkpoint=str(checkpoint)))["epoch"] == 1
    _, weights_file = cached_weights(no_weights)
    pretrained = Inverter(encoder("fc8", weights=str(weights_file)), InversionDecoder("fc8"))
    with pytest.raises(DecoderMismatchError, match="trained on the encoder weights 'alexnet: random"):
        load_decoder(pretrained, layer_record("fc8", checkpoint=str(checkpoint)))


class SigmoidDecoder(InversionDecoder):
    """The decoder after a student changed its activations."""

    def __init__(self, layer):
        super().__init__(layer)
        for name, module in list(self.named_modules()):
            for child_name, child in list(module.named_children()):
                if isinstance(child, torch.nn.LeakyReLU):
                    setattr(module, child_name, torch.nn.Sigmoid())


def test_notebook_07_loads_a_decoder_only_through_the_architecture_check(no_weights, tmp_path, seeded_alexnet):
    from helpers.identity import architecture
    from helpers.inversion import load_decoder
    from helpers.models import Inverter
    from helpers.spec import Spec
    from helpers.identity import ArchitectureMismatchError
    from helpers.training import fit

    trained = Inverter(encoder("conv1", weights=seeded_alexnet), InversionDecoder("conv1"))
    images = normalise_imagenet(torch.rand(2, 3, 227, 227))
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(images, images), batch_size=2)
    checkpoint = tmp_path / "conv1.pt"
    fit(trained, loader, None, Spec(epochs=1, batch_size=2), checkpoint, device="cpu", progress=False,
        trainable=trained.decoder, metadata={"weights_id": trained.encoder.weights_id},
        extra={"architecture": architecture(trained.decoder)}, loss_fn=MSE)
    record = layer_record("conv1", checkpoint=str(checkpoint), weights_id=trained.encoder.weights_id)
    assert load_decoder(Inverter(trained.encoder, InversionDecoder("conv1")), record)["epoch"] == 1
    edited = Inverter(trained.encoder, SigmoidDecoder("conv1"))
    with pytest.raises(ArchitectureMismatchError, match=r"LeakyReLU\(.*\) in the checkpoint, Sigmoid\(\) in the code"):
        load_decoder(edited, record)


def test_part_2_with_too_few_images_for_two_test_images_stops_before_training(tmp_path):
    from helpers.inversion import load_data
    from helpers.spec import InversionSpec

    for split, count in (("train", 6), ("val", 3)):
        (tmp_path / "imagenet" / split / "n01").mkdir(parents=True)
        for index in range(count):
            Image.new("RGB", (16, 16), (index * 30, 0, 0)).save(tmp_path / "imagenet" / split / "n01" / f"{index}.png")
    spec = InversionSpec(dataset="imagenet", data_dir=str(tmp_path / "imagenet"), whole_dataset=6, image_size=64)
    with pytest.raises(DataError, match=r"1 test image with WholeDataset = 6; Part 2's normalised error needs at "
                                        "least two"):
        load_data(spec)


@pytest.mark.slow   # builds ViT-B/16: 1.6 s on AVX-512
def test_an_image_size_an_encoder_of_one_input_size_refuses_names_the_size_it_takes(no_weights):
    from helpers.inversion import build_inverter

    with pytest.raises(ValueError, match="IMAGE_SIZE 300 does not fit vit_b_16 up to encoder.ln: the input side "
                                         "nearest to it that it takes is 224"):
        build_inverter("vit_b_16", "encoder.ln", "random", image_size=300)


@pytest.mark.slow   # builds three AlexNets: 2.1 s on AVX-512, about twice that on AVX2
def test_a_failed_download_is_tried_once_and_the_banner_printed_once_per_process(no_weights, monkeypatch, capsys):
    """Notebook 07 builds the encoder once per layer: offline, the download was tried and the random
    fallback announced every time."""
    from helpers.inversion import build_inverter

    tried = []

    def offline(network, progress=True):
        tried.append(network)
        raise WeightsError(f"{network}'s ImageNet weights could not be fetched (offline)")

    monkeypatch.setattr(weights, "fetch", offline)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for layer in ("conv1", "conv2", "fc8"):
            build_inverter("alexnet", layer, "", image_size=64)
    assert tried == ["alexnet"]
    assert len([w for w in caught if "random weights" in str(w.message)]) == 1
    assert capsys.readouterr().out.count("ALEXNET: RANDOM WEIGHTS") == 1
