"""Part 2's recipe: :func:`train_decoder` builds a frozen encoder and its decoder from an
:class:`helpers.spec.InversionSpec`, trains it with :func:`helpers.training.fit`, scores the reconstructions
on the test images and writes the record; notebook 07's summary and pretrained-against-random comparison.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from . import identity, plots
from .data import (DataError, InversionDataset, RunData, check_image_items, make_loader, resolve_inversion_dataset,
                   split_validation, to_pixels)
from .data.fingerprints import check_trained_on
from .encoders import LAYERS, build_encoder
from .models import InversionDecoder, Inverter, count_parameters
from .notebooks import describe as named
from .parallel import per_rank_batch, process_group, rank_zero_first, select_device, start_process_group
from .profiles import TOKEN_RUN, profile_of
from .records import InversionComparison, InversionLayer, InversionSummary, write_table
from .spec import InversionSpec
from .checkpoints import checkpoint_path, read_checkpoint
from .identity import check_architecture
from .training import TrainingRun, fit, recipe_options, set_seed
from . import weights as weight_files
from .weights import resolve


def build_inverter(encoder: str, layer: str, weights: str = "", require_pretrained: bool = False,
                   image_size: int = 227) -> Inverter:
    """A frozen ``encoder`` cut at ``layer`` and a fresh decoder for the shape of its features
    (Tables 3 and 4 for AlexNet; the same pattern for any other layer). Random encoder weights are
    announced loudly (see :mod:`helpers.weights`)."""
    frozen = build_encoder(encoder, layer, weights, require_pretrained)
    if not frozen.pretrained and weight_files.announce_once(f"{frozen.network} banner"):  # once per process
        print("=" * 72 + f"\n{frozen.weights_description.upper()}\n"
              f"Reconstructions below invert a randomly initialised {frozen.network}, not an ImageNet-trained one.\n"
              + "=" * 72)
    shape = input_side_checked(frozen, image_size)  # AlexNet's decoders follow Tables 3 and 4 instead
    shape = None if encoder == "alexnet" else shape
    return Inverter(frozen, InversionDecoder(layer, output_size=image_size, feature_shape=shape))


#: The input sides searched for one an encoder takes, when it refuses the one asked for.
SEARCHED_SIDES = range(16, 1025)


def input_side_checked(frozen, image_size: int) -> tuple[int, ...]:
    """The features' shape at ``image_size``, or an error naming the input side nearest to it that the
    encoder takes — above (a side too small for its downsampling) or below (ViT takes one side only)."""
    try:
        return frozen.feature_shape(image_size)
    except (RuntimeError, AssertionError):  # ViT asserts its one input size
        nearest = next((side for side in sorted(SEARCHED_SIDES, key=lambda side: (abs(side - image_size), -side))
                        if _works(frozen, side)), None)
        if nearest is None:
            raise ValueError(f"IMAGE_SIZE {image_size}: {frozen.network} up to {frozen.layer} takes no input side from "
                             f"{SEARCHED_SIDES.start} to {SEARCHED_SIDES.stop - 1}") from None
        if nearest > image_size:
            raise ValueError(f"IMAGE_SIZE {image_size} is too small for {frozen.network} up to {frozen.layer}: the "
                             f"smallest input side it takes is {nearest}") from None
        raise ValueError(f"IMAGE_SIZE {image_size} does not fit {frozen.network} up to {frozen.layer}: the input side "
                         f"nearest to it that it takes is {nearest}") from None


def _works(frozen, side: int) -> bool:
    try:
        frozen.feature_shape(side)
        return True
    except (RuntimeError, AssertionError):
        return False


def weights_note(inverter: Inverter, spec: InversionSpec | None = None) -> str:
    """The text every figure title and metrics file carries about the encoder's weights — and, for a decoder the
    ci profile trained a token epoch (``spec``), that it is one."""
    token = spec is not None and "ci" in (profile_of(spec, "inversion"), profile_of(spec, "comparison"))
    return inverter.encoder.weights_description + (f" — {TOKEN_RUN}" if token else "")


def weights_kind(inverter: Inverter) -> str:
    return "pretrained" if inverter.encoder.pretrained else "random"


def run_name(encoder: str, layer: str, kind: str) -> str:
    """How files name a decoder: ``alexnet_conv2_random``, ``mobilenet_v2_features.6.add_pretrained``."""
    return f"{encoder}_{layer}_{kind}"


class InversionData(RunData):
    """Part 2's data of a run: training, validation (what each epoch is checked on) and test images
    (scored once, after training; on the sample, crops of photographs no training crop comes from)."""

    SPLITS = ("train", "held_out", "validation")


def split_data(dataset: str, data_dir: str, whole_dataset, seed: int, require_real: bool = False) -> InversionData:
    """A data set's split into training, validation (15 %, taken from the training images as in
    Part 1: :func:`helpers.data.split_validation`) and test images (held out) — the one split a layer
    notebook trains on and notebook 07 rebuilds to score its decoders."""
    name, root, train_items, test_items = resolve_inversion_dataset(dataset, data_dir, whole_dataset, seed, require_real)
    train_items, validation_items = split_validation(train_items, test_items, seed)
    return InversionData(name, Path(root), train_items, test_items, validation_items)


def load_data(spec: InversionSpec) -> InversionData:
    """The spec's data set and its split (:func:`split_data`), checked before training."""
    data = split_data(spec.dataset, spec.data_dir, spec.whole_dataset, spec.seed, spec.require_real_data)
    data.check_not_empty(spec.whole_dataset)
    if len(data.held_out_items) < 2:  # the normalised error compares pairs of test images: found now, not after training
        raise DataError(f"{data.root}: {len(data.held_out_items)} test image with WholeDataset = {spec.whole_dataset!r}; "
                        "Part 2's normalised error needs at least two. Give WholeDataset a larger number (15 % of it "
                        "is held out for testing)")
    check_image_items(data.train_items, data.held_out_items + data.validation_items)
    return data


def run_metadata(inverter: Inverter, data: RunData) -> dict:
    """What, besides the spec, defines a trained decoder: the data it saw, the encoder weights it
    learned to invert and the decoder's architecture (with the spec's identity: :func:`helpers.checkpoints.run_identity`)."""
    return {"encoder": inverter.encoder.network, "dataset": data.name, "data": data.fingerprint(),
            "weights_id": inverter.encoder.weights_id,
            "architecture": identity.digest(identity.architecture(inverter.decoder))}


def record_layer(run: TrainingRun, spec: InversionSpec, inverter: Inverter, data: RunData,
                 scores: dict) -> InversionLayer:
    """Write a decoder's record (its spec, the encoder's weights, the test scores) for notebook 07
    and the report."""
    record = InversionLayer(
        dataset=data.name, data_root=str(data.root), spec=spec.as_dict(), metadata=run.metadata,
        checkpoint=str(run.checkpoint), train_images=len(data.train_items), held_out_images=len(data.held_out_items),
        validation_images=len(getattr(data, "validation_items", [])),
        history=run.history, epochs_trained=len(run.history),
        epochs_planned=run.epochs_planned, encoder=inverter.encoder.network, layer=spec.layer,
        weights=weights_note(inverter, spec), weights_id=inverter.encoder.weights_id, pretrained=inverter.encoder.pretrained,
        scores=scores)
    record.write()
    return record


class DecoderMismatchError(RuntimeError):
    """Trained decoders that cannot be compared or scored as asked (the message says why)."""


def layer_records(dataset: str | None, encoder: str = "alexnet", kind: str | None = None) -> dict[str, InversionLayer]:
    """The record of every layer notebook (03–06, or any ``LAYER``) that has run on ``dataset`` (``None``:
    any) with ``encoder`` (and, when given, ``kind`` of weights: "pretrained" or "random"), in network order."""
    found = [InversionLayer.read(path.name) for path in sorted(InversionLayer.files(encoder))]
    chosen = {r.layer: r for r in found if r is not None and dataset in (None, r.dataset)
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


def load_decoder(inverter: Inverter, record: InversionLayer, data: RunData | None = None) -> dict:
    """Load the decoder a layer notebook trained into ``inverter``; return its checkpoint. It goes
    through the checks training makes: a decoder trained on other encoder weights than ``inverter``'s,
    one whose architecture is not the one the code builds (:func:`helpers.identity.check_architecture`)
    and — given ``data`` — one trained on another split than ``data``'s are refused, saying why."""
    state = read_checkpoint(record.checkpoint)
    trained_on = state["metadata"].get("weights_id")
    if trained_on != inverter.encoder.weights_id:
        raise DecoderMismatchError(
            f"{record.checkpoint}: the {record.layer} decoder was trained on the encoder weights {trained_on!r} "
            f"but the encoder here has {inverter.encoder.weights_id!r}; give {named('layer-summary')} the same WEIGHTS, or "
            "train the decoder again")
    check_architecture(record.checkpoint, state, inverter.decoder, f"train the {record.layer} decoder again")
    if data is not None:
        check_trained_on(data, state.get("split_files"), state["metadata"].get("data"), record.checkpoint)
    inverter.decoder.load_state_dict(state["model"])
    return state


@torch.no_grad()
def reconstruct(inverter: Inverter, images: torch.Tensor, device: torch.device | str = "cpu",
                batch_size: int = 32) -> torch.Tensor:
    """Reconstructions of normalised ``images`` ``(N, 3, S, S)``, in normalised pixel space, on the CPU."""
    device = select_device(device)
    inverter.to(device).eval()
    outputs = [inverter(images[i:i + batch_size].to(device)).float().cpu() for i in range(0, len(images), batch_size)]
    return torch.cat(outputs)


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


def paired_difference(originals: torch.Tensor, reconstructions: dict, layer: str, seed: int = 0) -> dict:
    """The pretrained decoder's normalised error less the random one's at ``layer``, image by image: the mean, its
    standard error and the number of images (what the report's "below" and "above" must exceed)."""
    x = to_pixels(originals)
    per_image = {kind: np.linalg.norm((x - to_pixels(reconstructions[kind][layer])).reshape(len(x), -1), axis=1)
                 for kind in ("pretrained", "random")}
    difference = (per_image["pretrained"] - per_image["random"]) / mean_pair_distance(x, seed)
    se = float(difference.std(ddof=1) / np.sqrt(len(difference))) if len(difference) > 1 else math.inf
    return {"mean": float(difference.mean()), "se": se, "images": len(difference)}


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
    """A decoder trained (or loaded) by :func:`train_decoder`, with its record, its test images and
    their reconstructions (in the same order)."""

    spec: InversionSpec
    inverter: Inverter
    run: TrainingRun
    record: InversionLayer
    data: RunData
    test_images: torch.Tensor
    reconstructions: torch.Tensor

    @property
    def figure_suffix(self) -> str:
        """How figure files name this decoder: ``alexnet_conv2_random``."""
        return run_name(self.spec.encoder, self.spec.layer, weights_kind(self.inverter))

    def summary(self) -> str:
        scores, run = self.record.scores, self.run
        return (f"data: {self.data.name} ({self.data.root}); {len(self.data.train_items)} training, "
                f"{len(self.data.validation_items)} validation and {len(self.data.held_out_items)} test images\n"
                f"{weights_note(self.inverter, self.spec)}\n"
                f"{self.spec.layer} features {self.inverter.encoder.feature_shape(self.spec.image_size)}; decoder: "
                f"{count_parameters(self.inverter.decoder):,} parameters\ncheckpoint: {run.checkpoint}\n"
                f"lowest train loss {min(run.train_loss):.4f}, lowest validation loss {min(run.val_loss):.4f}\n"
                f"{self.spec.layer} after the last epoch, on {scores['images']} test images: MSE {scores['MSE']:.4f}, "
                "normalised error "
                f"{scores['normalised error']:.3f}, PSNR {scores['PSNR']:.2f} dB, SSIM {scores['SSIM']:.3f}")

    def loss_figure(self):
        """Figure 3 for this layer: train and validation loss per epoch."""
        return plots.loss_curves({self.spec.layer: self.run.history}, held_out="validation",
                                 title=f"Decoder for {self.spec.layer}: MSE per epoch\n{weights_note(self.inverter, self.spec)}")

    def examples_figure(self, count: int = 8):
        """Figure 4 for this layer: test images spread over the classes and their reconstructions."""
        return plots.reconstruction_examples(self.test_images, {self.spec.layer: self.reconstructions}, count,
                                             title=weights_note(self.inverter, self.spec))


def train_decoder(spec: InversionSpec, *, device: str = "auto", retrain: bool = False,
                  num_workers: int = 0, checkpoint_every: str | None = None, progress: bool = True) -> TrainedDecoder:
    """What a layer notebook does, as one call: build the inverter the spec describes, train its
    decoder (or load or resume it), score it on the test images and write its record; under
    ``torchrun``, data-parallel."""
    device = start_process_group(device)
    data = rank_zero_first(lambda: load_data(spec))  # the sample is made once, by rank 0
    set_seed(spec.seed)  # the initial weights
    inverter = build_inverter(spec.encoder, spec.layer, spec.weights, spec.require_pretrained, spec.image_size)
    test_loader = make_loader(InversionDataset(data.held_out_items, spec.image_size), spec.batch_size,
                              num_workers=num_workers)
    validation_loader = make_loader(InversionDataset(data.validation_items, spec.image_size), spec.batch_size,
                                    num_workers=num_workers)
    metadata = run_metadata(inverter, data)
    checkpoint = checkpoint_path(f"inversion_{metadata['encoder']}_{spec.layer}", data.name, spec, metadata)
    options = recipe_options(data, inverter.decoder, checkpoint, device=device, retrain=retrain,
                             checkpoint_every=checkpoint_every, progress=progress)
    train_loader = make_loader(InversionDataset(data.train_items, spec.image_size), per_rank_batch(spec.batch_size),
                               shuffle=True, seed=spec.seed, num_workers=num_workers)
    run = fit(inverter, train_loader, validation_loader, spec, checkpoint, loss_fn=torch.nn.MSELoss(), metadata=metadata,
              name=f"{spec.layer} decoder, {'ImageNet' if inverter.encoder.pretrained else 'random'} weights", **options)
    images = torch.cat([batch[0] for batch in test_loader])   # scored once, after the last epoch
    reconstructions = reconstruct(inverter, images, device)
    scores = reconstruction_metrics(images, reconstructions, seed=spec.seed)
    record = record_layer(run, spec, inverter, data, scores) if process_group()[0] == 0 else None
    return TrainedDecoder(spec, inverter, run, record, data, images, reconstructions)


@dataclass
class LayerSummary:
    """Notebook 07's first part: every trained layer scored on the same test images."""

    table: pd.DataFrame                  # layer (and "mean image") → metric
    histories: dict[str, list]           # layer → its training history
    test_images: torch.Tensor
    reconstructions: dict[str, torch.Tensor]
    note: str                            # what the figures say about the encoder's weights


def summarise_trained_layers(spec: InversionSpec, device: str | torch.device = "cpu") -> LayerSummary:
    """Load every decoder the layer notebooks trained on ``spec``'s data set, encoder and kind of
    weights (they must share one test set), score each beside the mean image, and write
    ``inversion_metrics`` (CSV) and the :class:`helpers.records.InversionSummary` record."""
    dataset = resolve_inversion_dataset(spec.dataset, spec.data_dir, require_real=spec.require_real_data)[0]
    kind = "pretrained" if resolve(spec.encoder, spec.weights, spec.require_pretrained).pretrained else "random"
    records = layer_records(dataset, spec.encoder, kind)
    if not records:
        raise RuntimeError(f"no decoder trained on {kind} {spec.encoder} weights for {dataset}: run {named('layer')} first")
    whole_dataset, seed, image_size = common_test_set(records)  # the subset every decoder was trained and tested on
    data = split_data(dataset, spec.data_dir, whole_dataset, seed)  # checked against each decoder's stored split
    train_items, test_items = data.train_items, data.held_out_items
    print(f"data: {dataset} (WholeDataset={whole_dataset}, seed {seed}); {len(test_items)} test images; "
          f"trained layers: {', '.join(records)}")
    test_images = load_images(test_items, image_size)
    rows = {"mean image": reconstruction_metrics(test_images, mean_image_prediction(train_items, test_images, image_size),
                                                 seed=seed)}
    histories, reconstructions = {}, {}
    for layer, record in records.items():
        inverter = build_inverter(spec.encoder, layer, spec.weights, spec.require_pretrained, image_size)
        state = load_decoder(inverter, record, data)  # refuses other encoder weights, code or images
        histories[layer], reconstructions[layer] = state["history"], reconstruct(inverter, test_images, device)
        rows[layer] = {"lowest train loss": min(r["train_loss"] for r in state["history"]),
                       "lowest validation loss": min(r["val_loss"] for r in state["history"]), "epochs": state["epoch"],
                       **reconstruction_metrics(test_images, reconstructions[layer], seed=seed)}
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("layer")
    write_table("inversion_metrics", table, comment=weights_note(inverter))
    InversionSummary(dataset=dataset, weights=weights_note(inverter), weights_id=inverter.encoder.weights_id,
                     WholeDataset=whole_dataset, seed=seed, test_images=len(test_items), layers=rows).write()
    return LayerSummary(table, histories, test_images, reconstructions, record.weights)   # a token run's note too


#: The two kinds of encoder weights compared, and the ``WEIGHTS`` value that gives each.
KINDS = {"pretrained": "", "random": "random"}


def compare_pretrained_and_random(spec: InversionSpec, layers: Sequence[str], device: str | torch.device = "auto",
                                  random_layers: Sequence[str] | None = None):
    """Train (or load) a decoder for every layer of ``spec.encoder`` with its ImageNet weights and
    with random weights — each :func:`train_decoder` with ``spec`` at that layer and weights — score
    each on the same test images beside the mean-image predictor (the training images' mean), and
    write the :class:`helpers.records.InversionComparison` record. ``random_layers``: only these
    layers with random weights (default: every one of ``layers``), for a question that needs no more.

    Returns ``(record, test_images, reconstructions[kind][layer])``."""
    data = load_data(spec)
    test_images = load_images(data.held_out_items, spec.image_size)
    mean_image = mean_image_prediction(data.train_items, test_images, spec.image_size)
    baseline_colour = mean_colour_errors(test_images, mean_image)
    rows, reconstructions, descriptions = {}, {}, {}
    planned = [(kind, weights, layer) for kind, weights in KINDS.items()
               for layer in (layers if kind == "pretrained" or random_layers is None else random_layers)]
    for kind in KINDS:
        rows[kind], reconstructions[kind] = {}, {}
    for number, (kind, weights, layer) in enumerate(planned, start=1):
        print(f"decoder {number} of {len(planned)}: {spec.encoder} {layer}, {kind} weights", flush=True)
        trained = train_decoder(spec.replace(layer=layer, weights=weights), device=device)
        if kind == "pretrained" and not trained.inverter.encoder.pretrained:
            raise DecoderMismatchError(f"no ImageNet weights for {spec.encoder}: the comparison needs them "
                                       f"(python -m helpers.weights fetch {spec.encoder})")
        descriptions[kind] = weights_note(trained.inverter, trained.spec)
        reconstructions[kind][layer] = trained.reconstructions
        colour = mean_colour_errors(test_images, reconstructions[kind][layer])
        rows[kind][layer] = {**trained.record.scores, "mean-colour error": float(colour.mean()),
                             "images with a better mean colour than the mean image":
                                 float(np.mean(colour < baseline_colour)),
                             "lowest validation loss": trained.record.lowest_val_loss}
    mean_scores = {**reconstruction_metrics(test_images, mean_image, seed=spec.seed),
                   "mean-colour error": float(baseline_colour.mean())}
    record = InversionComparison(dataset=data.name, encoder=spec.encoder, layers=list(layers),
                                 WholeDataset=spec.whole_dataset, seed=spec.seed, test_images=len(data.held_out_items),
                                 image_size=spec.image_size, mean_image=mean_scores, rows=rows, weights=descriptions,
                                 differences={layer: paired_difference(test_images, reconstructions, layer, spec.seed)
                                              for layer in reconstructions["random"]})
    record.write()
    write_table("inversion_comparison", plots.comparison_table(record))
    return record, test_images, reconstructions
