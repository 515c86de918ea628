"""Part 2 glue: build an inverter for one AlexNet layer, reconstruct images, measure the error."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from . import paths
from .data import denormalise_imagenet
from .models import LAYERS, RANDOM_WEIGHTS_WARNING, AlexNetEncoder, InversionDecoder, Inverter
from .training import load_checkpoint


def build_inverter(layer: str, weights: str = "", require_pretrained: bool = False,
                   image_size: int = 227) -> Inverter:
    """A frozen AlexNet cut after ``layer`` and a fresh decoder for it. Random encoder weights are
    announced loudly (see :func:`helpers.models.resolve_alexnet_weights`)."""
    encoder = AlexNetEncoder(layer, weights or None, require_pretrained=require_pretrained)
    if not encoder.pretrained:
        print("=" * 72 + f"\n{RANDOM_WEIGHTS_WARNING.upper()}\n"
              "Reconstructions below invert a randomly initialised AlexNet.\n" + "=" * 72)
    return Inverter(encoder, InversionDecoder(layer, output_size=image_size))


def weights_note(inverter: Inverter) -> str:
    """The text every figure title and metrics file carries about the encoder's weights."""
    return inverter.encoder.weights_description


def checkpoint_path(layer: str, dataset: str) -> Path:
    return paths.checkpoint_dir() / f"inversion_{layer}_{dataset}.pt"


def trained_layers(dataset: str) -> list[str]:
    """The layers whose decoder has a checkpoint for ``dataset``, in network order."""
    return [layer for layer in LAYERS if checkpoint_path(layer, dataset).is_file()]


def load_decoder(inverter: Inverter, dataset: str) -> dict:
    """Load the trained decoder into ``inverter``; return the checkpoint (history, metadata)."""
    path = checkpoint_path(inverter.decoder.layer, dataset)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no trained {inverter.decoder.layer} decoder; run its notebook first")
    return load_checkpoint(path, inverter.decoder)


@torch.no_grad()
def reconstruct(inverter: Inverter, images: torch.Tensor, device: torch.device | str = "cpu",
                batch_size: int = 32) -> torch.Tensor:
    """Reconstructions of normalised ``images`` ``(N, 3, S, S)``, in normalised pixel space, on the CPU."""
    inverter.to(device).eval()
    outputs = [inverter(images[i:i + batch_size].to(device)).float().cpu() for i in range(0, len(images), batch_size)]
    return torch.cat(outputs)


def to_pixels(images: torch.Tensor) -> np.ndarray:
    """Normalised ``(N, 3, S, S)`` → ``(N, S, S, 3)`` float in [0, 1] for plots and PSNR/SSIM."""
    return denormalise_imagenet(images).permute(0, 2, 3, 1).numpy()


def mean_pair_distance(images: np.ndarray, seed: int = 0, pairs: int = 2000) -> float:
    """Mean L2 distance between random pairs of different test images (the paper's normaliser)."""
    n = len(images)
    if n < 2:
        raise ValueError("the normalised reconstruction error needs at least two test images")
    rng = np.random.default_rng(seed)
    first = rng.integers(0, n, pairs)
    second = (first + rng.integers(1, n, pairs)) % n  # never the same image
    flat = images.reshape(n, -1)
    distances = [np.linalg.norm(flat[first[i:i + 128]] - flat[second[i:i + 128]], axis=1)
                 for i in range(0, pairs, 128)]  # in chunks: 2,000 pairs at once would take gigabytes
    return float(np.mean(np.concatenate(distances)))


def reconstruction_metrics(originals: torch.Tensor, reconstructions: torch.Tensor, seed: int = 0) -> dict:
    """MSE (normalised pixel space, as the training loss), the paper's normalised reconstruction error
    (mean ‖x − x̂‖ over the mean distance between random pairs of test images, in [0, 1] pixels),
    PSNR (the mean over images whose reconstruction is not perfect; infinite when all are) and SSIM
    (scikit-image, [0, 1] pixels)."""
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    mse = float(torch.mean((originals - reconstructions) ** 2))
    x, x_hat = to_pixels(originals), to_pixels(reconstructions)
    errors = np.linalg.norm((x - x_hat).reshape(len(x), -1), axis=1)
    with np.errstate(divide="ignore"):  # a perfect reconstruction has an infinite PSNR
        psnr = [peak_signal_noise_ratio(a, b, data_range=1.0) for a, b in zip(x, x_hat)]
    finite_psnr = [p for p in psnr if math.isfinite(p)]
    ssim = [structural_similarity(a, b, data_range=1.0, channel_axis=-1) for a, b in zip(x, x_hat)]
    return {"MSE": mse, "normalised error": float(errors.mean() / mean_pair_distance(x, seed)),
            "PSNR": float(np.mean(finite_psnr)) if finite_psnr else math.inf, "SSIM": float(np.mean(ssim)),
            "images": len(x)}
