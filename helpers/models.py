"""Networks: the halved SalNet (Part 1) and AlexNet encoders with their inversion decoders (Part 2)."""
from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import nn

from .io import file_digest

# ---------------------------------------------------------------------------------------------
# Part 1 — the halved SalNet (Table 1)
# ---------------------------------------------------------------------------------------------

#: (in, out, kernel) for conv1 … conv9 of Table 1; padding is kernel // 2, stride 1.
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
# Part 2 — AlexNet encoders and the decoders that invert them (Tables 3 and 4)
# ---------------------------------------------------------------------------------------------

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
#: Channels through the up-convolutions, each doubling the size (the first entry enters the stack).
#: conv2 and conv5 are Table 3 (13 → 208, 6 → 192); fc6 and fc8 Table 4 (4 → 128); the other
#: layers follow the same pattern as their neighbours (conv1: 27 → 216).
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
ALEXNET_FILE = "alexnet-owt-7be5be79.pth"
#: SHA-256 of torchvision's ImageNet AlexNet weights, as published.
ALEXNET_SHA256 = "7be5be791159472b1fbf3c69796f7cb30dca7ad8466c2df70058c37116cdee02"
RANDOM_WEIGHTS_WARNING = "AlexNet: random weights — not the paper's setting"
RANDOM_WEIGHTS_SEED = 0  # the fallback's random weights are the same in every notebook and run


def _check_layer(layer: str) -> str:
    if layer not in LAYERS:
        raise ValueError(f"LAYER must be one of {LAYERS}, got {layer!r}")
    return layer


class WeightsError(RuntimeError):
    """AlexNet weights could not be used (wrong hash, wrong format, or pretrained weights required)."""


def alexnet_cache_path() -> Path:
    """Where torchvision keeps the weights: ``$TORCH_HOME/hub/checkpoints/alexnet-owt-7be5be79.pth``."""
    return Path(torch.hub.get_dir()) / "checkpoints" / ALEXNET_FILE


#: The identity of torchvision's ImageNet weights, however they arrived (cache or download).
IMAGENET_WEIGHTS_ID = "torchvision IMAGENET1K_V1"
RANDOM_WEIGHTS_ID = f"random (seed {RANDOM_WEIGHTS_SEED})"


def resolve_alexnet_weights(weights: str | None = None, require_pretrained: bool = False,
                            allow_download: bool = True) -> tuple[dict | None, str]:
    """``(state_dict or None, description)`` of the AlexNet weights to use, looked for in order:

    1. ``weights``, a path to a state dict in torchvision's format;
    2. torchvision's cache, checked against the published SHA-256 (a mismatch is an error);
    3. torchvision's own download, when online;
    4. otherwise random weights, with :data:`RANDOM_WEIGHTS_WARNING` — or an error when
       ``require_pretrained``.
    """
    import warnings

    def load(path: Path) -> dict:
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise WeightsError(f"{path}: not a PyTorch state dict ({exc})") from exc
        if not isinstance(state, dict) or "features.0.weight" not in state:
            raise WeightsError(f"{path}: not AlexNet weights in torchvision's format (no 'features.0.weight')")
        return state

    if weights:
        path = Path(weights).expanduser()
        if not path.is_file():
            raise WeightsError(f"{path}: AlexNet weights file not found")
        return load(path), f"AlexNet: weights from {path}"
    cached = alexnet_cache_path()
    if cached.is_file():
        found = file_digest(cached, "sha256")
        if found != ALEXNET_SHA256:
            raise WeightsError(f"{cached}: SHA-256 {found} does not match torchvision's published "
                               f"{ALEXNET_SHA256}; delete the file (it is damaged or not the ImageNet weights)")
        return load(cached), "AlexNet: torchvision's ImageNet weights (IMAGENET1K_V1)"
    if allow_download:
        try:
            from torchvision.models import AlexNet_Weights

            state = AlexNet_Weights.IMAGENET1K_V1.get_state_dict(progress=True, check_hash=True)
            return state, "AlexNet: torchvision's ImageNet weights (IMAGENET1K_V1, downloaded)"
        except Exception as exc:  # offline: URLError, timeouts, a refused connection
            reason = f"{type(exc).__name__}: {exc}"
    else:
        reason = "downloads disabled"
    if require_pretrained:
        raise WeightsError(f"pretrained AlexNet weights are required (REQUIRE_PRETRAINED) but none were found: "
                           f"no WEIGHTS path, nothing at {cached}, and the download failed ({reason})")
    warnings.warn(f"{RANDOM_WEIGHTS_WARNING}. No WEIGHTS path, nothing at {cached}, download failed ({reason}). "
                  f"Put {ALEXNET_FILE} there for the paper's setting.", stacklevel=2)
    return None, RANDOM_WEIGHTS_WARNING


class AlexNetEncoder(nn.Module):
    """torchvision's AlexNet, frozen and in eval mode, cut after ``layer`` (see :data:`ALEXNET_TAPS`).

    Input ``(B, 3, 227, 227)`` normalised with the ImageNet statistics; output ``(B, *FEATURE_SHAPES[layer])``.
    The network is truncated rather than hooked, so an in-place ReLU never overwrites a kept
    activation. ``weights`` is a path, or a state dict, or None to look for torchvision's weights
    (:func:`resolve_alexnet_weights`).
    """

    def __init__(self, layer: str, weights: str | dict | None = None, require_pretrained: bool = False,
                 allow_download: bool = True):
        super().__init__()
        import torchvision

        self.layer = _check_layer(layer)
        with torch.random.fork_rng(devices=[]):
            # Without pretrained weights every notebook must still see the *same* random AlexNet,
            # or a decoder would be evaluated on features of another network than it learned from.
            torch.manual_seed(RANDOM_WEIGHTS_SEED)
            alexnet = torchvision.models.alexnet(weights=None)
        if isinstance(weights, dict):
            state, self.weights_description = weights, "AlexNet: weights given as a state dict"
        else:
            state, self.weights_description = resolve_alexnet_weights(weights, require_pretrained, allow_download)
        if state is not None:
            alexnet.load_state_dict(state)
        self.pretrained = state is not None
        #: Which weights these are, the same however they arrived: stored with every decoder, so a
        #: decoder is never scored on another encoder than the one it learned from.
        self.weights_id = (RANDOM_WEIGHTS_ID if state is None else "state dict" if isinstance(weights, dict)
                           else f"file sha256:{file_digest(weights, 'sha256')[:16]}" if weights
                           else IMAGENET_WEIGHTS_ID)
        part, index = ALEXNET_TAPS[layer]
        if part == "features":
            self.net = alexnet.features[:index]
        else:
            self.net = nn.Sequential(alexnet.features, alexnet.avgpool, nn.Flatten(1), alexnet.classifier[:index])
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> "AlexNetEncoder":
        return super().train(False)  # always eval: no dropout, whatever the caller asks

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images)


def _upconv(c_in: int, c_out: int) -> nn.ConvTranspose2d:
    """Kernel 5, stride 2, padding 2, output padding 1: exactly doubles the size."""
    return nn.ConvTranspose2d(c_in, c_out, kernel_size=5, stride=2, padding=2, output_padding=1)


class InversionDecoder(nn.Module):
    """Reconstructs the image from one AlexNet layer (Tables 3 and 4, and the same pattern for the
    other layers).

    Convolutional layers: three 3×3 convolutions to 192 channels, then up-convolutions
    (:data:`UPCONV_CHANNELS`); fully connected layers: three linear layers of 4096, a reshape to
    256×4×4, then five up-convolutions. Leaky ReLU (0.2) after every layer but the last, then a
    bilinear upsample to ``output_size``. Output ``(B, 3, S, S)`` in normalised pixel space.
    """

    def __init__(self, layer: str, output_size: int = 227):
        super().__init__()
        self.layer = _check_layer(layer)
        self.output_size = output_size
        channels = UPCONV_CHANNELS[layer]
        shape = FEATURE_SHAPES[layer]
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


class Inverter(nn.Module):
    """A frozen encoder followed by the decoder that inverts it: image → features → image."""

    def __init__(self, encoder: AlexNetEncoder, decoder: InversionDecoder):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            features = self.encoder(images)
        return self.decoder(features)
