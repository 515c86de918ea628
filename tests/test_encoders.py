"""ENCODER: every torchvision classifier either inverts a tap of the right shape or is refused by name.

The walk builds each network on PyTorch's ``meta`` device (shapes without numbers: no memory, no
arithmetic), cuts it at three nodes of its graph — a quarter and half way through, and the last —
and reads each tap with :func:`helpers.encoders.as_features`, as :class:`helpers.encoders.FrozenEncoder` does. A square input must give a square
map or a vector: a channels-last map read as channels-first, or tokens read as a map, is not square.
Two real runs (random weights) check that the layouts put each image region where it belongs.
"""
import warnings
from unittest import mock

import pytest
import torch
from torchvision.models import get_model
from torchvision.models.feature_extraction import create_feature_extractor, get_graph_node_names

from helpers.encoders import FeatureLayoutError, FrozenEncoder, as_features, layout_from_shapes
from helpers.spec import CLASSIFIERS

SIDE = 224


def on_meta(build):
    """``build()`` on the meta device. RegNet's constructor reads numbers, so it is built on the CPU
    with the weights left uninitialised (every ``torch.nn.init`` function a no-op), then moved to meta."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with torch.device("meta"):
                return build()
        except NotImplementedError:
            no_init = {name: (lambda tensor, *args, **kwargs: tensor) for name in dir(torch.nn.init)
                       if name.endswith("_") and not name.startswith("_")}
            with mock.patch.multiple(torch.nn.init, **no_init):
                return build().to("meta")


def traced(model, nodes: list[str]) -> dict[str, list]:
    """Every node's output for two images at two input sides (one where the network takes no other),
    on the meta device: node → [output at each side that ran]."""
    device = next(model.parameters()).device
    extractor = create_feature_extractor(model, {node: node for node in nodes})
    outputs: dict[str, list] = {node: [] for node in nodes}
    for side in (SIDE, SIDE + 32):
        try:
            with warnings.catch_warnings(), torch.no_grad():
                warnings.simplefilter("ignore")
                ran = extractor(torch.zeros(2, 3, side, side, device=device))
        except (RuntimeError, AssertionError, ValueError):
            continue   # ViT takes 224 only
        for node in nodes:
            outputs[node].append(ran[node])
    return outputs


def read(network: str, node: str, outputs: list) -> tuple:
    """``("inverts", shape at each side)`` or ``("refused", message)``, the tap read as FrozenEncoder reads it."""
    shapes = [tuple(out.shape[1:]) for out in outputs if isinstance(out, torch.Tensor) and out.dim() >= 2]
    layout = layout_from_shapes(shapes if len(shapes) == len(outputs) else [])
    try:
        return "inverts", [tuple(as_features(out, network, node, 2, layout).shape) for out in outputs]
    except FeatureLayoutError as error:
        return "refused", str(error)


def read_taps(network: str) -> dict[str, tuple]:
    """Three taps of ``network`` — a quarter and half way through its graph, and the last — read."""
    model = on_meta(lambda: get_model(network, weights=None).eval())
    nodes = get_graph_node_names(model)[1]
    taps = [nodes[len(nodes) // 4], nodes[len(nodes) // 2], nodes[-1]]
    outputs = traced(model, taps)
    return {tap: (verdict, detail[0] if verdict == "inverts" else detail)
            for tap, (verdict, detail) in ((tap, read(network, tap, outputs[tap])) for tap in taps)}


@pytest.mark.slow
def test_every_torchvision_classifier_inverts_a_tap_of_the_right_shape_or_is_refused_by_name():
    results = {}
    for network in CLASSIFIERS:
        for layer, (verdict, detail) in read_taps(network).items():
            results[(network, layer)] = verdict, detail
            if verdict == "refused":
                assert f"LAYER {layer!r} of {network}" in detail
                continue
            assert detail[0] == 2, (network, layer, detail)
            if len(detail) == 4:   # a map: channels first, and square for a square input
                assert detail[2] == detail[3] and detail[2] <= SIDE, (network, layer, detail)
            else:
                assert len(detail) == 2, (network, layer, detail)
    inverted = {network for (network, _), (verdict, _) in results.items() if verdict == "inverts"}
    assert inverted == set(CLASSIFIERS)  # at least the last tap of every one of them
    print({f"{n}:{layer}": v for (n, layer), v in results.items() if v[0] == "refused"})


@pytest.mark.slow
@pytest.mark.parametrize("network, layer, shape", [
    ("swin_t", "features.5.1.add_1", (384, 14, 14)),        # channels last (H, W, C) in torchvision
    ("convnext_tiny", "features.5.0.block.3", (1536, 14, 14)),  # channels last inside a ConvNeXt block
    ("vit_b_16", "encoder.layers.encoder_layer_5.add_1", (768, 14, 14)),   # 1 class token + 14² patches
    ("resnet18", "layer3.1.relu_1", (256, 14, 14)),          # channels first, as read
])
def test_each_layout_puts_a_region_of_the_image_where_it_belongs(network, layer, shape):
    """A change in the image's left quarter changes the left of the map more than its right: read
    with the wrong layout, the change would land on channels or be spread over the grid."""
    torch.manual_seed(0)
    encoder = FrozenEncoder(network, layer, weights="random")
    image = torch.randn(1, 3, SIDE, SIDE)
    changed = image.clone()
    changed[..., : SIDE // 4] = torch.randn(1, 3, SIDE, SIDE // 4)
    with torch.no_grad():
        before, after = encoder(image), encoder(changed)
    assert tuple(before.shape[1:]) == shape
    difference = (after - before).abs().mean(dim=(0, 1, 2))   # per column of the map
    left, right = difference[: shape[2] // 4].mean(), difference[-(shape[2] // 4):].mean()
    assert left > 3 * right, (float(left), float(right))


@pytest.mark.slow
def test_a_tap_that_is_a_number_or_a_parameter_is_refused_by_name():
    images = torch.zeros(2, 3, SIDE, SIDE, device="meta")
    with pytest.raises(FeatureLayoutError, match=r"LAYER 'encoder.layers.encoder_layer_5.dim' of vit_b_16 gives a int"):
        on_meta(lambda: FrozenEncoder("vit_b_16", "encoder.layers.encoder_layer_5.dim", weights="random"))(images)
    with pytest.raises(FeatureLayoutError, match=r"gives a tensor of shape \(384, 1, 1\), not features of each image"):
        on_meta(lambda: FrozenEncoder("convnext_tiny", "features.5.3.features_5_3_layer_scale", weights="random"))(images)
    with pytest.raises(FeatureLayoutError, match=r"inside MaxViT's window or grid attention"):
        as_features(torch.zeros(2, 64, 49, 64), "maxvit_t", "blocks.0.layers.0.layers.window_attention.partition_swap", 2)


@pytest.mark.slow
@pytest.mark.parametrize("network", ["resnet18", "convnext_tiny", "swin_t", "vit_b_16"])
def test_every_node_of_a_network_of_each_family_reads_as_a_square_map_or_a_vector_or_is_refused_by_name(network):
    """Every node of the graph, not three: a map read channels-first keeps its channel count at both
    input sides and its grid grows with the input (a channels-last map read as channels-first would
    not: Swin's patch embedding is channels-first, what follows channels-last; ConvNeXt's permute and
    layer norm channels-last); tokens lie on a square grid; anything else is refused, naming the node."""
    model = on_meta(lambda: get_model(network, weights=None).eval())
    nodes = get_graph_node_names(model)[1]
    outputs = traced(model, nodes)
    counts = {"inverts": 0, "refused": 0}
    for node in nodes:
        verdict, detail = read(network, node, outputs[node])
        counts[verdict] += 1
        if verdict == "refused":
            assert f"LAYER {node!r} of {network}" in detail
            continue
        assert all(len(shape) in (2, 4) and shape[0] == 2 for shape in detail), (node, detail)
        if len(detail[0]) == 4:
            assert all(shape[2] == shape[3] for shape in detail), (node, detail)            # square, as the input
            if len(detail) == 2:
                assert detail[0][1] == detail[1][1], (node, detail)                          # the same channels
                assert detail[0][2] < detail[1][2] or detail[0][2] == detail[1][2] == 1, (node, detail)  # a growing grid
    assert counts["inverts"] > len(nodes) // 2, counts
