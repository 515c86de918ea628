"""Part 2 glue: an inverter for one layer of a frozen encoder, its checkpoint and record, the
reconstruction error, and the comparison of decoders trained on a pretrained and a random network."""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from .data import InversionDataset, denormalise_imagenet, make_loader
from .models import LAYERS, InversionDecoder, Inverter, build_encoder
from .records import InversionLayer
from .training import TrainingConfig, TrainingRun, checkpoint_path, config_record, fit, load_checkpoint


def build_inverter(encoder: str, layer: str, weights: str = "", require_pretrained: bool = False,
                   image_size: int = 227) -> Inverter:
    """A frozen ``encoder`` cut at ``layer`` and a fresh decoder for the shape of its features
    (Tables 3 and 4 for AlexNet; the same pattern for any other layer). Random encoder weights are
    announced loudly (see :mod:`helpers.weights`)."""
    frozen = build_encoder(encoder, layer, weights, require_pretrained)
    if not frozen.pretrained:
        print("=" * 72 + f"\n{frozen.weights_description.upper()}\n"
              f"Reconstructions below invert a randomly initialised {frozen.network}, not an ImageNet-trained one.\n"
              + "=" * 72)
    shape = None if encoder == "alexnet" else frozen.feature_shape(image_size)
    return Inverter(frozen, InversionDecoder(layer, output_size=image_size, feature_shape=shape))


def weights_note(inverter: Inverter) -> str:
    """The text every figure title and metrics file carries about the encoder's weights."""
    return inverter.encoder.weights_description


def weights_kind(inverter: Inverter) -> str:
    return "pretrained" if inverter.encoder.pretrained else "random"


def run_name(encoder: str, layer: str, kind: str) -> str:
    """How files name a decoder: ``alexnet_conv2_random``, ``mobilenet_v2_features.6.add_pretrained``."""
    return f"{encoder}_{layer}_{kind}"


def decoder_metadata(inverter: Inverter, dataset: str, WholeDataset: bool | int, image_size: int) -> dict:
    """What, besides the training settings, defines a trained decoder (stored in its checkpoint): the
    encoder and layer, the data, and the encoder weights it learned to invert."""
    return {"encoder": inverter.encoder.network, "layer": inverter.decoder.layer, "dataset": dataset,
            "WholeDataset": WholeDataset, "image_size": int(image_size), "weights_id": inverter.encoder.weights_id}


def decoder_checkpoint(config: TrainingConfig, metadata: dict) -> Path:
    """The checkpoint of the decoder with these settings."""
    return checkpoint_path(f"inversion_{metadata['encoder']}_{metadata['layer']}", metadata["dataset"], config, metadata)


def record_layer(run: TrainingRun, inverter: Inverter, config: TrainingConfig, data_root: str | Path,
                 train_images: int, test_images: int, scores: dict) -> InversionLayer:
    """Write a layer notebook's record (the decoder, the encoder's weights, the test scores) for
    notebook 07 and the report."""
    meta = run.metadata
    record = InversionLayer(
        dataset=meta["dataset"], data_root=str(data_root), WholeDataset=meta["WholeDataset"], seed=config.seed,
        checkpoint=str(run.checkpoint), train_images=train_images, held_out_images=test_images,
        config=config_record(config), history=run.history, epochs_trained=len(run.history),
        epochs_planned=run.epochs_planned, encoder=meta["encoder"], layer=meta["layer"],
        weights=weights_note(inverter), weights_id=meta["weights_id"], pretrained=inverter.encoder.pretrained,
        image_size=meta["image_size"], scores=scores)
    record.write()
    return record


class DecoderMismatchError(RuntimeError):
    """Trained decoders that cannot be compared or scored as asked (the message says why)."""


def layer_records(dataset: str, encoder: str = "alexnet", kind: str | None = None) -> dict[str, InversionLayer]:
    """The record of every layer notebook (03–06, or any ``LAYER``) that has run on ``dataset`` with
    ``encoder`` (and, when given, ``kind`` of weights: "pretrained" or "random"), in network order."""
    found = [InversionLayer.read(path.name) for path in sorted(InversionLayer.files(encoder))]
    chosen = {r.layer: r for r in found if r is not None and r.dataset == dataset
              and (kind is None or r.kind == kind)}
    order = {layer: index for index, layer in enumerate(LAYERS)}
    return dict(sorted(chosen.items(), key=lambda item: order.get(item[0], len(order))))


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


def mean_colour_errors(originals: torch.Tensor, reconstructions: torch.Tensor) -> np.ndarray:
    """Per image, the distance between the mean RGB colour of the image and of its reconstruction
    (pixels in [0, 1]): what even the deepest layer should keep."""
    return np.linalg.norm(to_pixels(originals).mean(axis=(1, 2)) - to_pixels(reconstructions).mean(axis=(1, 2)), axis=1)


def load_images(items, image_size: int) -> torch.Tensor:
    """Normalised ``(N, 3, S, S)`` images of ``items`` (decoded once, see :class:`InversionDataset`)."""
    return torch.cat([batch[0] for batch in make_loader(InversionDataset(items, image_size), 64)])


def mean_image_prediction(train_items, test_images: torch.Tensor, image_size: int) -> torch.Tensor:
    """The baseline every decoder must beat: the training images' mean, predicted for each test image."""
    return load_images(train_items, image_size).mean(dim=0, keepdim=True).expand_as(test_images)


@dataclass
class TrainedDecoder:
    """A decoder trained (or loaded) by :func:`train_decoder`, with its record and its reconstructions
    of the test images (in their order)."""

    inverter: Inverter
    run: TrainingRun
    record: InversionLayer
    reconstructions: torch.Tensor


def train_decoder(encoder: str, layer: str, weights: str, dataset: str, data_root: str | Path, train_items: Sequence,
                  test_items: Sequence, config: TrainingConfig, WholeDataset: bool | int, image_size: int,
                  device: str | torch.device = "auto", retrain: bool = False) -> TrainedDecoder:
    """What a layer notebook does, as one call: build the inverter, train its decoder (or load or resume
    it), score it on the test images and write its record."""
    inverter = build_inverter(encoder, layer, weights, False, image_size)
    train_loader = make_loader(InversionDataset(train_items, image_size), config.batch_size, shuffle=True, seed=config.seed)
    test_loader = make_loader(InversionDataset(test_items, image_size), config.batch_size)
    metadata = decoder_metadata(inverter, dataset, WholeDataset, image_size)
    run = fit(inverter, train_loader, test_loader, config, decoder_checkpoint(config, metadata), device=device,
              trainable=inverter.decoder, retrain=retrain, metadata=metadata, held_out_name="test")
    images = load_images(test_items, image_size)
    reconstructions = reconstruct(inverter, images, device)
    scores = reconstruction_metrics(images, reconstructions, seed=config.seed)
    record = record_layer(run, inverter, config, data_root, len(train_items), len(test_items), scores)
    return TrainedDecoder(inverter, run, record, reconstructions)


#: The two kinds of encoder weights compared, and the ``WEIGHTS`` value that gives each.
KINDS = {"pretrained": "", "random": "random"}


def compare_pretrained_and_random(encoder: str, layers: Sequence[str], dataset: str, data_root: str | Path,
                                  train_items: Sequence, test_items: Sequence, config: TrainingConfig,
                                  WholeDataset: bool | int, image_size: int, device: str | torch.device = "auto",
                                  seed: int = 0):
    """Train (or load) a decoder for every layer of ``encoder`` with its ImageNet weights and with
    random weights, score each on the same test images beside the mean-image predictor (the training
    images' mean), and write the :class:`helpers.records.InversionComparison` record.

    Returns ``(record, test_images, reconstructions[kind][layer])``."""
    from .records import InversionComparison

    test_images = load_images(test_items, image_size)
    mean_image = mean_image_prediction(train_items, test_images, image_size)
    baseline_colour = mean_colour_errors(test_images, mean_image)
    rows, reconstructions, descriptions = {}, {}, {}
    for kind, weights in KINDS.items():
        rows[kind], reconstructions[kind] = {}, {}
        for layer in layers:
            trained = train_decoder(encoder, layer, weights, dataset, data_root, train_items, test_items,
                                    replace(config, seed=seed), WholeDataset, image_size, device)
            if kind == "pretrained" and not trained.inverter.encoder.pretrained:
                raise DecoderMismatchError(f"no ImageNet weights for {encoder}: the comparison needs them "
                                           f"(python -m helpers.weights fetch {encoder})")
            descriptions[kind] = weights_note(trained.inverter)
            reconstructions[kind][layer] = trained.reconstructions
            colour = mean_colour_errors(test_images, reconstructions[kind][layer])
            rows[kind][layer] = {**trained.record.scores, "mean-colour error": float(colour.mean()),
                                 "images with a better mean colour than the mean image":
                                     float(np.mean(colour < baseline_colour)),
                                 "lowest test loss": trained.record.lowest_val_loss}
    mean_scores = {**reconstruction_metrics(test_images, mean_image, seed=seed),
                   "mean-colour error": float(baseline_colour.mean())}
    record = InversionComparison(dataset=dataset, encoder=encoder, layers=list(layers), WholeDataset=WholeDataset,
                                 seed=seed, test_images=len(test_items), image_size=image_size,
                                 mean_image=mean_scores, rows=rows, weights=descriptions)
    record.write()
    return record, test_images, reconstructions
