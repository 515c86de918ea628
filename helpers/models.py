"""Networks: the halved SalNet (Part 1) and AlexNet encoders with their inversion decoders (Part 2)."""
from __future__ import annotations

import math

import torch
from torch import nn

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
        """Output ``(H', W')`` for an input ``(H, W)``, without running the network."""
        rounding = math.ceil if self.ceil_mode else math.floor

        def side(n: int) -> int:
            for _ in range(2):  # the two 3/2 max-pools
                n = rounding((n - 3) / 2) + 1
            return (n - 1) * 4 - 2 * 2 + 8  # the deconvolution

        return side(input_size[0]), side(input_size[1])


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
