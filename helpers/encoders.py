"""Frozen front ends: torchvision's networks cut at a layer (:class:`AlexNetEncoder` at the assignment's taps,
:class:`FrozenEncoder` at any node), and :class:`FrozenThenTrained`, whose frozen part computes each image's
features once while the rest trains (the second saliency model, every inverter).
"""
from __future__ import annotations

import contextlib
import hashlib
import math
from collections.abc import Callable, Iterator

import torch
from torch import nn
from torchvision.models.feature_extraction import create_feature_extractor, get_graph_node_names

from . import weights as weight_files

#: What :class:`FrozenFeatureMemo` keeps at most unless told otherwise: 2 GiB of features.
FEATURE_MEMO_BYTES = 2 * 2**30


class FrozenFeatureMemo:
    """The features a frozen network gives each image, remembered by the image's bytes.

    Training shows the same images to a frozen front end every epoch (this project's data sets
    apply no random augmentation), and what the front end gives depends only on the pixels, its
    weights and the autocast in force; so each image's features are computed once and looked up
    after. Images arrive in any order and any batch: each is keyed by a hash of its own bytes,
    shape and dtype, and by the autocast setting; an image not yet seen is computed alone, so its
    features never depend on the batch it came in. Only on the CPU (on a GPU the front end is cheap
    and hashing would copy every batch back) and up to ``budget_bytes``: images beyond it are
    computed each time, as without the memo. ``computed`` and ``looked_up`` count images.
    """

    def __init__(self, budget_bytes: int = FEATURE_MEMO_BYTES):
        if budget_bytes < 0:
            raise ValueError(f"budget_bytes must be ≥ 0, got {budget_bytes}")
        self.budget_bytes, self.stored_bytes = budget_bytes, 0
        self.features: dict[bytes, torch.Tensor] = {}
        self.computed = self.looked_up = 0

    def __call__(self, frozen: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor) -> torch.Tensor:
        """``frozen(images)``, with every image seen before looked up instead of computed."""
        if images.device.type != "cpu" or images.requires_grad:
            return frozen(images)
        setting = repr((torch.is_autocast_enabled("cpu"), torch.get_autocast_dtype("cpu"), images.dtype,
                        tuple(images.shape[1:]))).encode()
        keys = [_key(setting, image) for image in images]
        fresh: dict[bytes, torch.Tensor] = {}
        for image, key in zip(images, keys):
            if key not in self.features and key not in fresh:
                # one image at a time: its features then never depend on the batch it came in, so a run
                # resumed mid-epoch (other batches) still ends with the weights of an uninterrupted one
                fresh[key] = frozen(image.unsqueeze(0))[0]
                self._keep(key, fresh[key])
        self.computed += len(fresh)
        self.looked_up += len(keys) - len(fresh)
        return torch.stack([fresh[key] if key in fresh else self.features[key] for key in keys])

    def _keep(self, key: bytes, row: torch.Tensor) -> None:
        """Remember ``row`` under ``key`` if the budget allows."""
        size = row.numel() * row.element_size()
        if self.stored_bytes + size <= self.budget_bytes:
            self.features[key] = row
            self.stored_bytes += size


def _key(setting: bytes, image: torch.Tensor) -> bytes:
    digest = hashlib.blake2b(setting, digest_size=20)
    digest.update(image.contiguous().flatten().view(torch.uint8).numpy().data)  # any dtype, bf16 too
    return digest.digest()


class FrozenThenTrained(nn.Module):
    """A network whose first part is frozen and whose second is trained: :meth:`frozen_features`
    runs the first part (subclasses give ``_frozen_features``), through a :class:`FrozenFeatureMemo`
    while :meth:`remembering_frozen_features` is open."""

    feature_memo: FrozenFeatureMemo | None = None

    def _frozen_features(self, images: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def frozen_features(self, images: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            if self.feature_memo is None:
                return self._frozen_features(images)
            return self.feature_memo(self._frozen_features, images)

    @contextlib.contextmanager
    def remembering_frozen_features(self, budget_bytes: int = FEATURE_MEMO_BYTES) -> Iterator[FrozenFeatureMemo]:
        """Within: each image's frozen features are computed once (training's epochs see the same
        images again); the memo is dropped on leaving."""
        self.feature_memo = FrozenFeatureMemo(budget_bytes)
        try:
            yield self.feature_memo
        finally:
            self.feature_memo = None


LAYERS = ("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8")

#: Where each tap ends in torchvision's AlexNet: ``(part, index)`` means ``part[:index]``, so conv1,
#: conv2 and conv5 are after ReLU and max-pooling (features[2], [5], [12] are the pools), conv3 and
#: conv4 after ReLU (features[7], [9]), fc6 and fc7 after ReLU (classifier[2], [5]), fc8 the logits.
ALEXNET_TAPS = {
    "conv1": ("features", 3), "conv2": ("features", 6), "conv3": ("features", 8),
    "conv4": ("features", 10), "conv5": ("features", 13),
    "fc6": ("classifier", 3), "fc7": ("classifier", 6), "fc8": ("classifier", 7),
}
#: Feature shapes for a 227×227 input (224 gives the same from conv1's pool on).
FEATURE_SHAPES = {
    "conv1": (64, 27, 27), "conv2": (192, 13, 13), "conv3": (384, 13, 13), "conv4": (256, 13, 13),
    "conv5": (256, 6, 6), "fc6": (4096,), "fc7": (4096,), "fc8": (1000,),
}


def check_layer(layer: str) -> str:
    if layer not in LAYERS:
        raise ValueError(f"LAYER must be one of {LAYERS} for AlexNet, got {layer!r}")
    return layer


class FeatureLayoutError(ValueError):
    """A tap whose output is not one feature map or vector per image (the message names the node)."""


#: Input sides a tap is traced at to tell its layout: a spatial axis grows with the input, a channel axis does not.
TRACE_SIDES = ((64, 96), (224, 256))


def _is_square(number: int) -> bool:
    return number > 0 and math.isqrt(number) ** 2 == number


def map_layout(shapes: list[tuple[int, ...]]) -> str:
    """Where the channels of a map tap are — ``"first"`` ``(C, H, W)`` or ``"last"`` ``(H, W, C)`` — from
    its per-image shapes at two input sides (the axis that does not grow is the channel axis), or, for a
    network that takes one input side only, at one (a square input gives a square grid: the odd axis is
    the channels). ``""`` when the shapes cannot tell."""
    if len(shapes) >= 2:
        fixed = [len({shape[axis] for shape in shapes}) == 1 for axis in range(3)]
        if fixed == [True, False, False]:
            return "first"
        if fixed == [False, False, True]:
            return "last"
        if all(fixed):  # a map that does not grow (1×1 after pooling): the 1s are the grid
            return "first" if shapes[0][1:] == (1, 1) else "last" if shapes[0][:2] == (1, 1) else ""
        return ""
    a, b, c = shapes[0]
    if b == c and a != b:
        return "first"
    if a == b and c != a:
        return "last"
    return ""


def trace_layout(net: nn.Module, network: str, layer: str) -> str:
    """The layout of ``net``'s output (a map: :func:`map_layout`; else ``"tokens"`` or ``"vector"``),
    traced on one image at two input sides (:data:`TRACE_SIDES`), or at one where the network takes no other."""
    device = next(net.parameters(), torch.zeros(0)).device
    for sides in TRACE_SIDES:
        shapes = []
        for side in sides:
            try:
                with torch.no_grad():
                    out = net(torch.zeros(1, 3, side, side, device=device))
            except (RuntimeError, AssertionError, ValueError):
                continue
            out = out["out"] if isinstance(out, dict) else out
            if not isinstance(out, torch.Tensor) or out.dim() < 2 or out.shape[0] != 1:
                return ""   # as_features refuses it, naming what it is
            shapes.append(tuple(out.shape[1:]))
        if len(shapes) == 2 or (shapes and sides == TRACE_SIDES[-1]):
            break
    return layout_from_shapes(shapes)


def layout_from_shapes(shapes: list[tuple[int, ...]]) -> str:
    """A tap's layout from its per-image shapes at one or two input sides: a map's
    (:func:`map_layout`), ``"tokens"`` ``(T, D)``, ``"vector"`` ``(C,)``, or ``""``."""
    if not shapes:
        return ""
    if len(shapes[0]) == 3:
        return map_layout(shapes)
    return "tokens" if len(shapes[0]) == 2 else "vector" if len(shapes[0]) == 1 else ""


def as_features(out, network: str, layer: str, batch: int, layout: str = "first") -> torch.Tensor:
    """A tap's output as the decoder reads it: ``(B, C, H, W)`` maps or ``(B, C)`` vectors.

    torchvision's classifiers lay features out three ways, decided per node from its traced shapes
    (:func:`trace_layout`): channels first (the convolutional networks, Swin's patch embedding, MaxViT's
    blocks), **channels last** ``(B, H, W, C)`` (Swin after its patch embedding, ConvNeXt inside its blocks)
    — moved to channels first — and **tokens** ``(B, T, D)`` (ViT's encoder): the patch tokens laid back
    on their grid as ``(B, D, g, g)``, the class token (``T = 1 + g²``) left out. Anything else is
    refused by name: a number or a parameter instead of the images' features, a map whose layout its
    shapes cannot tell, tokens that are not a square grid, and MaxViT's window and grid attention,
    whose tensors hold windows, not the image's grid."""
    where = f"LAYER {layer!r} of {network}"
    if not isinstance(out, torch.Tensor) or out.dim() < 2 or out.shape[0] != batch:
        got = f"a tensor of shape {tuple(out.shape)}" if isinstance(out, torch.Tensor) else f"a {type(out).__name__}"
        raise FeatureLayoutError(f"{where} gives {got}, not features of each image (batch of {batch} first); tap a "
                                 "block's output instead (torchvision.models.feature_extraction.get_graph_node_names "
                                 "lists the nodes)")
    if network.startswith("maxvit") and ("_attention." in layer):
        raise FeatureLayoutError(f"{where} is inside MaxViT's window or grid attention, whose tensors hold windows, not "
                                 "the image's grid; tap a block's output (e.g. 'blocks.1.layers.0.layers.MBconv.add')")
    if out.dim() == 4 and layout in ("first", "last"):
        return out if layout == "first" else out.permute(0, 3, 1, 2)
    if out.dim() == 4:
        raise FeatureLayoutError(f"{where} gives maps of shape {tuple(out.shape[1:])} whose channel axis its shapes at "
                                 "two input sides do not tell; tap another node")
    if out.dim() == 3:
        tokens = out.shape[1]
        grid = tokens if _is_square(tokens) else tokens - 1
        if _is_square(grid):
            side = math.isqrt(grid)
            return out[:, tokens - grid:].transpose(1, 2).reshape(batch, -1, side, side)
    if out.dim() == 2:
        return out
    raise FeatureLayoutError(f"{where} gives features of shape {tuple(out.shape[1:])} per image, which are neither a "
                             "map (C, H, W), a vector (C,) nor tokens on a square grid; tap another node")


class FrozenEncoder(nn.Module):
    """A pretrained (or random) network cut at one layer, frozen and always in eval mode.

    Input ``(B, 3, S, S)`` normalised with the ImageNet statistics; output the layer's activations.
    ``weights`` as :func:`helpers.weights.resolve` takes them (a path, ``"random"``, or ``""`` for
    torchvision's ImageNet weights); ``description``, ``weights_id`` and ``pretrained`` say which.
    """

    def __init__(self, network: str, layer: str, weights: str | dict | None = None,
                 require_pretrained: bool = False, allow_download: bool = True):
        super().__init__()
        self.network, self.layer = network, layer
        if isinstance(weights, dict):
            resolved = weight_files.Resolved(weights, f"{weight_files.label(network)}: weights given as a state dict",
                                             f"{network}: state dict")
        else:
            resolved = weight_files.resolve(network, weights or "", require_pretrained, allow_download)
        self.weights_description, self.weights_id = resolved.description, resolved.weights_id
        self.pretrained = resolved.pretrained
        self.net = self._cut(weight_files.build(network, resolved.state), layer)
        self.requires_grad_(False)
        self.eval()
        self.layout = self._layout()

    def _layout(self) -> str:
        """How this tap lays out its features, traced once (:func:`trace_layout`)."""
        return trace_layout(self.net, self.network, self.layer)

    def _cut(self, model: nn.Module, layer: str) -> nn.Module:
        """The network up to ``layer``: torchvision's feature extraction at a node of its graph."""
        nodes = get_graph_node_names(model)[1]
        if layer not in nodes:
            import difflib

            close = difflib.get_close_matches(layer, nodes, n=3)
            raise ValueError(f"LAYER {layer!r} is not a node of torchvision's {self.network}"
                             + (f"; did you mean {', '.join(map(repr, close))}?" if close else "")
                             + " (torchvision.models.feature_extraction.get_graph_node_names lists them)")
        return create_feature_extractor(model, return_nodes={layer: "out"})

    def train(self, mode: bool = True) -> "FrozenEncoder":
        return super().train(False)  # always eval: no dropout or batch-norm updates, whatever the caller asks

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        out = self.net(images)
        out = out["out"] if isinstance(out, dict) else out
        return as_features(out, self.network, self.layer, images.shape[0], self.layout)

    @torch.no_grad()
    def feature_shape(self, image_size: int) -> tuple[int, ...]:
        """The shape of one image's features for a ``image_size``² input."""
        return tuple(self(torch.zeros(1, 3, image_size, image_size)).shape[1:])


class AlexNetEncoder(FrozenEncoder):
    """torchvision's AlexNet cut after ``layer`` (see :data:`ALEXNET_TAPS`), frozen and in eval mode.

    Output ``(B, *FEATURE_SHAPES[layer])`` for a 227×227 input. The network is truncated rather than
    hooked, so an in-place ReLU never overwrites a kept activation.
    """

    def __init__(self, layer: str, weights: str | dict | None = None, require_pretrained: bool = False,
                 allow_download: bool = True):
        super().__init__("alexnet", check_layer(layer), weights, require_pretrained, allow_download)

    def _layout(self) -> str:
        return "first"   # Table 3's taps: channels-first maps (conv1 … conv5) or vectors (fc6 … fc8)

    def _cut(self, alexnet: nn.Module, layer: str) -> nn.Module:
        part, index = ALEXNET_TAPS[layer]
        if part == "features":
            return alexnet.features[:index]
        return nn.Sequential(alexnet.features, alexnet.avgpool, nn.Flatten(1), alexnet.classifier[:index])


def build_encoder(network: str, layer: str, weights: str = "", require_pretrained: bool = False,
                  allow_download: bool = True) -> FrozenEncoder:
    """AlexNet with the assignment's layer names (conv1 … fc8), or any torchvision classifier cut at
    one of its graph's nodes (``"features.6"``, ``"flatten"`` ...)."""
    if network == "alexnet":
        return AlexNetEncoder(layer, weights, require_pretrained, allow_download)
    return FrozenEncoder(network, layer, weights, require_pretrained, allow_download)
