"""Part 2 glue: build an inverter for one AlexNet layer, reconstruct images, measure the error."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from .data import denormalise_imagenet
from .models import LAYERS, RANDOM_WEIGHTS_WARNING, AlexNetEncoder, InversionDecoder, Inverter
from .records import InversionLayer
from .training import TrainingConfig, TrainingRun, checkpoint_path, load_checkpoint


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


def decoder_metadata(inverter: Inverter, dataset: str, WholeDataset: bool | int, image_size: int) -> dict:
    """What, besides the training settings, defines a trained decoder (stored in its checkpoint): the
    layer, the data, and the encoder weights it learned to invert."""
    return {"layer": inverter.decoder.layer, "dataset": dataset, "WholeDataset": WholeDataset,
            "image_size": int(image_size), "weights_id": inverter.encoder.weights_id}


def decoder_checkpoint(config: TrainingConfig, metadata: dict) -> Path:
    """The checkpoint of the decoder with these settings."""
    return checkpoint_path(f"inversion_{metadata['layer']}", metadata["dataset"], config, metadata)


def record_layer(run: TrainingRun, inverter: Inverter, config: TrainingConfig, data_root: str | Path,
                 train_images: int, test_images: int, scores: dict) -> InversionLayer:
    """Write a layer notebook's record (the decoder, the encoder's weights, the test scores) for
    notebook 07 and the report."""
    meta = run.metadata
    record = InversionLayer(
        dataset=meta["dataset"], data_root=str(data_root), WholeDataset=meta["WholeDataset"], seed=config.seed,
        checkpoint=str(run.checkpoint), train_images=train_images, held_out_images=test_images,
        config={**vars(config), "betas": list(config.betas)}, history=run.history, epochs_trained=len(run.history),
        layer=meta["layer"], weights=weights_note(inverter), weights_id=meta["weights_id"],
        image_size=meta["image_size"], scores=scores)
    record.write()
    return record


class DecoderMismatchError(RuntimeError):
    """Trained decoders that cannot be compared or scored as asked (the message says why)."""


def layer_records(dataset: str) -> dict[str, InversionLayer]:
    """The record of every layer notebook (03–06, or any ``LAYER``) that has run on ``dataset``, in
    network order."""
    found = {layer: InversionLayer.read_layer(layer) for layer in LAYERS}
    return {layer: record for layer, record in found.items() if record is not None and record.dataset == dataset}


def common_test_set(records: dict[str, InversionLayer]) -> tuple[bool | int, int, int]:
    """``(WholeDataset, seed, image_size)`` shared by every decoder: they must have been tested on the
    same images to be compared; decoders trained on different subsets are refused, naming them."""
    settings = {layer: (record.WholeDataset, record.seed, record.image_size) for layer, record in records.items()}
    if len(set(settings.values())) > 1:
        listed = ", ".join(f"{layer}: WholeDataset={w!r}, SEED={s}, IMAGE_SIZE={i}"
                           for layer, (w, s, i) in settings.items())
        raise DecoderMismatchError(f"the decoders were trained on different subsets ({listed}); train them "
                                   "again with the same settings, or compare them separately")
    return next(iter(settings.values()))


def load_decoder(inverter: Inverter, record: InversionLayer) -> dict:
    """Load the decoder a layer notebook trained into ``inverter``; return its checkpoint. A decoder
    trained on other encoder weights than ``inverter``'s is refused: its scores would mean nothing."""
    state = load_checkpoint(record.checkpoint, inverter.decoder)
    trained_on = state["metadata"].get("weights_id")
    if trained_on != inverter.encoder.weights_id:
        raise DecoderMismatchError(
            f"{record.checkpoint}: the {record.layer} decoder was trained on the encoder weights {trained_on!r} "
            f"but the encoder here has {inverter.encoder.weights_id!r}; give notebook 07 the same WEIGHTS, or "
            "train the decoder again")
    return state


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
