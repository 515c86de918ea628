"""Networks of the assignment's tables: the halved SalNet (Table 1) and the second saliency model
(Part 1), the inversion decoders (Tables 3 and 4) and the inverter that puts one behind its frozen
encoder (Part 2). The encoders themselves are in :mod:`helpers.encoders`."""
from __future__ import annotations

import math

import torch
from torch import nn

from . import weights as weight_files
from .data.datasets import IMAGENET_MEAN, IMAGENET_STD
from .encoders import FEATURE_SHAPES, FrozenEncoder, FrozenThenTrained, check_layer

# ---------------------------------------------------------------------------------------------
# Part 1 — the halved SalNet (Table 1)
# ---------------------------------------------------------------------------------------------

#: (in, out, kernel) for conv1 … conv9 of Table 1; padding is kernel // 2, stride 1.
#: Part 1's two saliency networks: their keys (in specs, checkpoints and file names) and the names
#: tables and figures give them.
SALNET, CONTRAST = "salnet", "contrast"
MODEL_NAMES = {SALNET: "SalNet (half)", CONTRAST: "MobileNetV2 + contrast readout"}

SALNET_CONVS = (
    (3, 48, 7), (48, 128, 5), (128, 256, 3), (256, 256, 5), (256, 256, 5),
    (256, 128, 7), (128, 64, 11), (64, 16, 11), (16, 1, 13),
)


class SaliencyNet(nn.Module):
    """Half-width SalNet (Pan et al. 2016, deep model) exactly as Table 1.

    Input ``(B, 3, H, W)`` normalised to [-1, 1]; output ``(B, 1, H', W')`` where, with the default
    floor pooling, 240×320 → 236×316 (the assignment) and, with ``ceil_mode=True`` (Caffe's pooling,
    the paper), 240×320 → 240×320. ReLU follows conv1–conv8; conv9 and the deconvolution are linear,
    as in the SalNet reference.
    """

    def __init__(self, ceil_mode: bool = False):
        super().__init__()
        self.ceil_mode = ceil_mode
        layers: list[nn.Module] = []
        for index, (c_in, c_out, k) in enumerate(SALNET_CONVS, start=1):
            layers.append(nn.Conv2d(c_in, c_out, k, stride=1, padding=k // 2))
            if index < len(SALNET_CONVS):
                layers.append(nn.ReLU(inplace=True))
            if index == 1:
                layers.append(nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75))
            if index in (1, 2):
                layers.append(nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=ceil_mode))
        self.features = nn.Sequential(*layers)
        self.deconv = nn.ConvTranspose2d(1, 1, kernel_size=8, stride=4, padding=2, bias=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """He-normal convolutions with zero bias; Normal(0, 1e-5) for the deconvolution."""
        for module in self.features:
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                nn.init.zeros_(module.bias)
        nn.init.normal_(self.deconv.weight, mean=0.0, std=1e-5)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.deconv(self.features(images))

    def output_size(self, input_size: tuple[int, int]) -> tuple[int, int]:
        """Output ``(H', W')`` for an input ``(H, W)``, without running the network (the input size is
        checked by :func:`check_image_size`)."""
        input_size = check_image_size(input_size)
        rounding = math.ceil if self.ceil_mode else math.floor

        def side(n: int) -> int:
            for _ in range(2):  # the two 3/2 max-pools
                n = rounding((n - 3) / 2) + 1
            return (n - 1) * 4 - 2 * 2 + 8  # the deconvolution

        return side(input_size[0]), side(input_size[1])


class _AlwaysEval(nn.Sequential):
    """A frozen stack that stays in eval mode whatever its parent asks (batch norms keep their statistics)."""

    def train(self, mode: bool = True) -> "_AlwaysEval":
        return super().train(False)


def image_contrast(features: torch.Tensor) -> torch.Tensor:
    """Each channel's z-score across the image, ``(f − mean) / (std + 1e-3)`` over height and width:
    how unusual a feature is *in this image* — a rare feature (the odd one out) scores high, one
    shared by every item low. The normalisation step of Itti, Koch & Niebur (1998), learned-feature style."""
    mean = features.mean(dim=(2, 3), keepdim=True)
    std = features.std(dim=(2, 3), keepdim=True)
    return (features - mean) / (std + 1e-3)


class ContrastSaliencyNet(FrozenThenTrained):
    """The second saliency model: a frozen ImageNet front end and a small trained contrast readout.

    The SalNet paper's remedy for little data — its first layers came from an ImageNet network — in
    a form that trains in minutes on a CPU. The front end is torchvision's MobileNetV2, frozen:
    blocks 3, 6 and 13 give features at 1/4, 1/8 and 1/16 of the input (24 + 32 + 96 channels),
    brought to 1/8. The readout sees each feature beside its :func:`image_contrast` twice: on the
    front end's features (1×1 convolution to 64 channels, ReLU), then on those 64 (3×3 to 32, ReLU,
    1×1 to 1). Pop-out is a comparison across the whole image, which the contrast makes one step;
    SalNet's convolutions must learn it from examples. Input ``(B, 3, H, W)`` in [-1, 1] (as for
    :class:`SaliencyNet`), output ``(B, 1, H, W)``, upsampled bilinearly from 1/8.
    """

    TAPS = (3, 6, 13)          # MobileNetV2 ``features`` blocks whose outputs the readout sees
    TAP_CHANNELS = (24, 32, 96)

    def __init__(self, weights: str = "", require_pretrained: bool = False, allow_download: bool = True):
        super().__init__()
        resolved = weight_files.resolve("mobilenet_v2", weights, require_pretrained, allow_download)
        self.weights_description, self.weights_id = resolved.description, resolved.weights_id
        self.pretrained = resolved.pretrained
        self.front_end = _AlwaysEval(*weight_files.build("mobilenet_v2", resolved.state).features[: self.TAPS[-1] + 1])
        self.front_end.requires_grad_(False)
        channels = sum(self.TAP_CHANNELS)
        self.features_readout = nn.Sequential(nn.Conv2d(2 * channels, 64, 1), nn.ReLU(inplace=True))
        self.readout = nn.Sequential(nn.Conv2d(2 * 64, 32, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(32, 1, 1))
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    @property
    def trainable(self) -> nn.Module:
        """The part that is trained and checkpointed: the two readout stages."""
        return nn.ModuleDict({"features_readout": self.features_readout, "readout": self.readout})

    def _frozen_features(self, images: torch.Tensor) -> torch.Tensor:
        """The three taps, brought to 1/8 of the input: ``(B, 152, H/8, W/8)``."""
        taps, x = [], (images + 1) / 2
        x = (x - self.mean) / self.std
        for index, block in enumerate(self.front_end):
            x = block(x)
            if index in self.TAPS:
                taps.append(x)
        size = taps[1].shape[-2:]
        return torch.cat([nn.functional.adaptive_avg_pool2d(taps[0], size), taps[1],
                          nn.functional.interpolate(taps[2], size=size, mode="bilinear", align_corners=False)], 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        features = self.frozen_features(images)
        hidden = self.features_readout(torch.cat([features, image_contrast(features)], 1))
        out = self.readout(torch.cat([hidden, image_contrast(hidden)], 1))
        return nn.functional.interpolate(out, size=images.shape[-2:], mode="bilinear", align_corners=False)

    def output_size(self, input_size: tuple[int, int]) -> tuple[int, int]:
        """The output is the input's size (the network's maps are upsampled from 1/8)."""
        return check_image_size(input_size)


#: The smallest input side the network can learn from: 32 px leave a 7×7 map after the two poolings.
MIN_IMAGE_SIDE = 32


def check_image_size(image_size, name: str = "IMAGE_SIZE") -> tuple[int, int]:
    """``(height, width)`` of the network input, or a clear error naming ``name`` and what is expected."""
    expected = f"{name} must be [height, width], two whole numbers of at least {MIN_IMAGE_SIDE} (Table 2: [240, 320])"
    if isinstance(image_size, (str, bytes)) or not hasattr(image_size, "__len__") or len(image_size) != 2:
        raise ValueError(f"{expected}; got {image_size!r}")
    if not all(isinstance(side, int) and not isinstance(side, bool) and side >= MIN_IMAGE_SIDE for side in image_size):
        raise ValueError(f"{expected}; got {list(image_size)!r}")
    return int(image_size[0]), int(image_size[1])


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


# ---------------------------------------------------------------------------------------------
# Part 2 — encoders (AlexNet and any torchvision classifier) and the decoders that invert them
# ---------------------------------------------------------------------------------------------

#: Channels through the up-convolutions, each doubling the size (the first entry enters the stack).
#: conv2 and conv5 are Table 3 (13 → 208, 6 → 192); fc6 and fc8 Table 4 (4 → 128); the other
#: layers follow the same pattern as their neighbours (conv1: 27 → 216). :func:`upconv_channels`
#: gives the same for any feature shape.
UPCONV_CHANNELS = {
    "conv1": (192, 128, 64, 3),
    "conv2": (192, 192, 128, 64, 3),
    "conv3": (192, 192, 128, 64, 3),
    "conv4": (192, 192, 128, 64, 3),
    "conv5": (192, 192, 128, 64, 32, 3),
    "fc6": (256, 256, 128, 64, 32, 3),
    "fc7": (256, 256, 128, 64, 32, 3),
    "fc8": (256, 256, 128, 64, 32, 3),
}


def _upconv(c_in: int, c_out: int) -> nn.ConvTranspose2d:
    """Kernel 5, stride 2, padding 2, output padding 1: exactly doubles the size."""
    return nn.ConvTranspose2d(c_in, c_out, kernel_size=5, stride=2, padding=2, output_padding=1)


def upconv_channels(feature_shape: tuple[int, ...], output_size: int = 227) -> tuple[int, ...]:
    """Tables 3 and 4's pattern for any feature shape: the channels entering and leaving each
    up-convolution. A vector is reshaped to 256×4×4 and doubled five times (to 128²); a map of side
    ``h`` is doubled ``n = round(log2(output_size / h))`` times — 13 → 208 (n = 4), 6 → 192 (n = 5) —
    through 192 channels and then the last ``n − 1`` of 128, 64 (and 32 from the fifth on) to 3."""
    if len(feature_shape) == 1:
        return (256, 256, 128, 64, 32, 3)
    if len(feature_shape) != 3:
        raise ValueError(f"cannot invert features of shape {feature_shape}: expected (C,) or (C, H, W)")
    n = max(1, round(math.log2(output_size / feature_shape[-1])))
    widths = [192] * (n - 5) + [192, 128, 64, 32] if n >= 5 else [192, 128, 64][4 - n:]
    return (192, *widths, 3)


class InversionDecoder(nn.Module):
    """Reconstructs the image from one layer's features (Tables 3 and 4, and the same pattern for any
    other layer or network).

    Convolutional features: three 3×3 convolutions to 192 channels, then up-convolutions
    (:data:`UPCONV_CHANNELS` for AlexNet, :func:`upconv_channels` otherwise); vectors: three linear
    layers of 4096, a reshape to 256×4×4, then five up-convolutions. Leaky ReLU (0.2) after every
    layer but the last, then a bilinear upsample to ``output_size``. Output ``(B, 3, S, S)`` in
    normalised pixel space. ``layer`` is an AlexNet layer, or any name with its ``feature_shape``.
    """

    def __init__(self, layer: str, output_size: int = 227, feature_shape: tuple[int, ...] | None = None):
        super().__init__()
        self.layer = layer if feature_shape is not None else check_layer(layer)
        self.output_size = output_size
        shape = tuple(feature_shape) if feature_shape is not None else FEATURE_SHAPES[layer]
        channels = UPCONV_CHANNELS[layer] if feature_shape is None else upconv_channels(shape, output_size)
        act = lambda: nn.LeakyReLU(0.2, inplace=True)  # noqa: E731
        if len(shape) == 3:
            self.head = nn.Sequential(
                nn.Conv2d(shape[0], 192, 3, padding=1), act(),
                nn.Conv2d(192, 192, 3, padding=1), act(),
                nn.Conv2d(192, 192, 3, padding=1), act(),
            )
        else:
            self.head = nn.Sequential(
                nn.Linear(shape[0], 4096), act(),
                nn.Linear(4096, 4096), act(),
                nn.Linear(4096, 4096), act(),
                nn.Unflatten(1, (256, 4, 4)),
            )
        ups: list[nn.Module] = []
        for index, (c_in, c_out) in enumerate(zip(channels, channels[1:])):
            ups.append(_upconv(c_in, c_out))
            if index < len(channels) - 2:
                ups.append(act())
        self.upconvs = nn.Sequential(*ups)

    def forward(self, features: torch.Tensor, upsample: bool = True) -> torch.Tensor:
        out = self.upconvs(self.head(features))
        if upsample and out.shape[-1] != self.output_size:
            out = nn.functional.interpolate(out, size=(self.output_size, self.output_size), mode="bilinear",
                                            align_corners=False)
        return out


class Inverter(FrozenThenTrained):
    """A frozen encoder followed by the decoder that inverts it: image → features → image."""

    def __init__(self, encoder: FrozenEncoder, decoder: InversionDecoder):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def _frozen_features(self, images: torch.Tensor) -> torch.Tensor:
        return self.encoder(images)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.frozen_features(images))
