"""Saliency maps with no learned parameter: the **no learning** rows of every Part 1 table.

Colour contrast, a hand-made Itti-style contrast map, OpenCV's spectral residual and fine-grained maps, the
frozen front end's feature contrast and mirror symmetry; each one's few settings are chosen on the
validation images (``docs/part1-sample.md`` cites each and says what it scores)."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import torch
from scipy.ndimage import gaussian_filter, gaussian_laplace, maximum_filter, sobel
from skimage.color import rgb2lab

from . import evaluation
from .data import SaliencyDataset, SaliencyItem, load_ground_truth, make_loader
from .evaluation import NO_LEARNING, upsample
from .models import ContrastSaliencyNet, image_contrast

COLOUR = "colour contrast of the pixels"
HAND_MADE = "hand-made contrast: colour, luminance, orientation, scale (Itti-style)"
SPECTRAL_RESIDUAL = "spectral residual (Hou & Zhang 2007; OpenCV)"
FINE_GRAINED = "fine-grained saliency (Montabone & Soto 2010; OpenCV)"
FEATURES = "contrast of the frozen front end's features"
SYMMETRY = "mirror symmetry of proto-objects (Reisfeld et al. 1995; Kootstra et al. 2008)"
WITH_SYMMETRY = "hand-made contrast and mirror symmetry, combined"
RARITY = "patch rarity (Goferman et al. 2010; Seo & Milanfar 2009)"
#: The patch sides :func:`patch_rarity` may use, as shares of the width: about a glyph's, and about a part's.
RARITY_PATCHES = {"glyph": (1 / 10,), "part": (1 / 25,), "both": (1 / 10, 1 / 25)}
#: The width patch rarity works at (the images are about 640 wide: a quarter of that).
RARITY_WIDTH = 160
#: The blurs every candidate tries, as a share of the map's width (a fixation lands near, not on, the pixel).
BLURS = (1 / 64, 1 / 32, 1 / 16)


def row_name(candidate: str) -> str:
    """The table's name of a no-learning row: ``"no learning: <candidate>"``."""
    return f"{NO_LEARNING}: {candidate}"


def _blurred(maps: np.ndarray, blur: float) -> np.ndarray:
    return np.stack([gaussian_filter(one, blur * one.shape[-1]) if blur else one for one in maps])


def contrast_map(values: torch.Tensor, blur: float) -> np.ndarray:
    """``(B, C, h, w)`` → ``(B, h, w)``: the root mean square of each channel's z-score across its
    image, blurred by ``blur`` × the width."""
    energy = image_contrast(values).pow(2).mean(dim=1).sqrt().numpy().astype(np.float64)
    return _blurred(energy, blur)


def _z_magnitude(channel: np.ndarray) -> np.ndarray:
    """How unusual each pixel's value is in its image: ``|z|`` of the channel across the image."""
    return np.abs(channel - channel.mean()) / (channel.std() + 1e-6)


def _rarity(codes: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Self-information ``−log p`` of each pixel's quantised value (``codes``, whole numbers) under the
    histogram of its own image (weighted by ``weights``): a value few pixels share scores high — the
    idea of Bruce & Tsotsos's AIM and of SUN, with the image itself as the statistics."""
    weights = np.ones(codes.shape) if weights is None else weights
    counts = np.bincount(codes.ravel(), weights.ravel(), minlength=int(codes.max()) + 1)
    return -np.log((counts[codes] + 1e-6) / (counts.sum() + 1e-6)) * (weights > 0)


def hand_made_channels(rgb: np.ndarray) -> list[np.ndarray]:
    """The hand-made map's conspicuity channels of one image (``(H, W, 3)`` in [0, 1]), each
    normalised by :func:`itti_normalise`: the rarity of its colour (8 levels a channel) and of its luminance;
    the rarity of the local orientation where the structure is oriented (the structure tensor, pooled
    over about an item) and each of four orientations' share of the local energy (``|z|``); and
    luminance centre–surround at a fine and a coarse scale (``|z|``)."""
    luminance = rgb.mean(axis=-1)
    side = min(luminance.shape)
    colour = np.minimum((rgb * 8).astype(int), 7) @ np.array([64, 8, 1])
    smooth = gaussian_filter(luminance, side / 200)
    dx, dy = sobel(smooth, axis=1), sobel(smooth, axis=0)
    pooled = side / 40
    jxx, jyy, jxy = (gaussian_filter(v, pooled) for v in (dx * dx, dy * dy, dx * dy))
    energy = np.hypot(jxx - jyy, 2 * jxy)   # how strongly one orientation dominates
    angle = (np.arctan2(2 * jxy, jxx - jyy) / (2 * np.pi) + 0.5) * 16
    oriented = energy > 0.1 * energy.max()
    surround = [gaussian_filter(luminance, side * s / 100) - gaussian_filter(luminance, side * 4 * s / 100)
                for s in (2, 6)]   # fine and coarse centre–surround
    orientations = [gaussian_filter((dx * np.cos(a) + dy * np.sin(a)) ** 2, pooled) for a in np.arange(4) * np.pi / 4]
    total = sum(orientations) + 1e-12
    channels = [_rarity(colour), _rarity(np.minimum((luminance * 16).astype(int), 15)),
                _rarity(np.minimum(angle.astype(int), 15), oriented.astype(float)),
                *(_z_magnitude(o / total) for o in orientations),
                *(_z_magnitude(c) for c in surround)]
    return [itti_normalise(c, round(side / 20) | 1) for c in channels]


def itti_normalise(channel: np.ndarray, size: int) -> np.ndarray:
    """Itti, Koch & Niebur's (1998) map normalisation N(·): the channel scaled to [0, 1], then weighted
    by ``(1 − m̄)⁴``, m̄ the mean of its other local maxima above 0.5 (in windows of ``size`` pixels) — a channel
    with one strong peak is promoted, one with many equal peaks (every distractor alike) suppressed."""
    low, high = channel.min(), channel.max()
    scaled = (channel - low) / (high - low) if high > low else np.zeros_like(channel)
    peaks = scaled[(scaled == maximum_filter(scaled, size)) & (scaled > 0.5)]
    others = np.sort(peaks)[:-1]
    return scaled * (1 - (others.mean() if others.size else 0.0)) ** 4


def hand_made_contrast(rgb: np.ndarray, combine: str = "max") -> np.ndarray:
    """The hand-made contrast map of one image ``(H, W, 3)`` in [0, 1]: its channels
    (:func:`hand_made_channels`) combined by their ``"max"`` or ``"mean"``."""
    return _hand_made_combined(np.stack(hand_made_channels(rgb))[None], {"combine": combine})[0]


def proto_objects(rgb: np.ndarray, radii=(1 / 40, 1 / 20, 1 / 10)) -> list[tuple[float, float, float]]:
    """Blobs of colour distance in one image ``(H, W, 3)`` in [0, 1], as ``(row, column, radius)``: the
    scale-normalised Laplacian of Gaussian of each pixel's distance from its surround's colour, at the
    ``radii`` (shares of the width), its local maxima across place and scale above half the strongest."""
    height, width = rgb.shape[:2]
    surround = np.stack([gaussian_filter(rgb[..., c], width / 8) for c in range(3)], axis=-1)
    distance = np.linalg.norm(rgb - surround, axis=-1)
    sigmas = [r * width / np.sqrt(2) for r in radii]
    response = np.stack([-gaussian_laplace(distance, s) * s * s for s in sigmas])
    peaks = (response == maximum_filter(response, size=(3, 5, 5))) & (response > 0.5 * response.max())
    return [(float(row), float(column), float(sigmas[scale] * np.sqrt(2))) for scale, row, column in zip(*np.nonzero(peaks))]


def _mirror_correlation(detail: np.ndarray, row: int, column: int, radius: float) -> float:
    """The normalised correlation of ``detail`` inside 0.8 ``radius`` of ``(row, column)`` with its
    left–right mirror image about that column (the object, not its outline or surround); −1 off the image."""
    r = max(2, int(round(radius)))
    top, left = row - r, column - r
    if top < 0 or left < 0 or top + 2 * r + 1 > detail.shape[0] or left + 2 * r + 1 > detail.shape[1]:
        return -1.0
    patch = detail[top:top + 2 * r + 1, left:left + 2 * r + 1]
    inside = np.hypot(*np.mgrid[-r:r + 1, -r:r + 1]) <= 0.8 * r
    a, b = patch[inside] - patch[inside].mean(), patch[:, ::-1][inside] - patch[inside].mean()
    return float((a * b).sum() / (np.sqrt((a * a).sum() * (b * b).sum()) + 1e-12))


def mirror_symmetry(rgb: np.ndarray) -> np.ndarray:
    """The mirror-symmetry map of one image ``(H, W, 3)`` in [0, 1]: every proto-object
    (:func:`proto_objects`) painted over its disc with the normalised correlation of its high-passed
    luminance with the left–right mirror image of it, the axis searched within two pixels of its
    centre (negative correlations count 0)."""
    luminance = rgb.mean(axis=-1)
    height, width = luminance.shape
    rows, columns = np.mgrid[0:height, 0:width]
    symmetry = np.zeros((height, width))
    detail = luminance - gaussian_filter(luminance, width / 160)   # high-passed: the parts, not the shading
    for row, column, radius in proto_objects(rgb):
        score = max(_mirror_correlation(detail, int(round(row)), int(round(column)) + shift, radius)
                    for shift in (-2, -1, 0, 1, 2))   # the axis searched near the blob's centre
        disc = (rows - row) ** 2 + (columns - column) ** 2 <= radius ** 2
        symmetry[disc] = np.maximum(symmetry[disc], score)
    return np.maximum(symmetry, 0.0)


def patch_rarity(rgb: np.ndarray, patches: tuple[float, ...] = (1 / 10,)) -> np.ndarray:
    """How unlike every other part of its image each patch is, for one image ``(H, W, 3)`` in [0, 1]: at each
    patch side (a share of the width), every patch of the image (at :data:`RARITY_WIDTH`, in CIE Lab) is scored by
    its distance to the nearest patch at least one side away, then the scales' maps, each scaled to peak 1, are
    averaged. What has no near copy stands out, wherever it is: context-aware saliency (Goferman, Zelnik-Manor &
    Tal 2010), self-resemblance (Seo & Milanfar 2009), the self-information of Bruce & Tsotsos's AIM (2005)."""
    height, width = rgb.shape[:2]
    scale = min(1.0, RARITY_WIDTH / width)
    small = torch.nn.functional.interpolate(torch.from_numpy(rgb).permute(2, 0, 1)[None].float(), scale_factor=scale,
                                            mode="area")[0].permute(1, 2, 0).numpy() if scale < 1 else rgb
    lab = torch.from_numpy(rgb2lab(small) / np.array([100.0, 128.0, 128.0])).permute(2, 0, 1).float()[None]
    rarity = np.zeros((height, width))
    for share in patches:
        side = max(3, round(share * lab.shape[-1]))
        step = max(2, side // 4)                       # every patch a quarter-side apart is compared ...
        vectors = torch.nn.functional.unfold(lab, side, stride=step)[0].T               # (patches, 3 side²)
        rows, columns = (lab.shape[-2] - side) // step + 1, (lab.shape[-1] - side) // step + 1
        at = torch.stack(torch.meshgrid(torch.arange(rows), torch.arange(columns), indexing="ij"), -1).float() * step
        scored = at[::2, ::2].reshape(-1, 2)          # ... with the patches scored, a half-side apart
        queries = vectors.reshape(rows, columns, -1)[::2, ::2].reshape(len(scored), -1)
        distances = torch.cdist(queries, vectors)
        distances[torch.cdist(scored, at.reshape(-1, 2), p=float("inf")) < side] = float("inf")   # itself, overlaps
        nearest = distances.min(dim=1).values.reshape(1, 1, *at[::2, ::2].shape[:2])
        nearest = torch.nn.functional.interpolate(nearest, size=(height, width), mode="bilinear", align_corners=False)
        rarity += (nearest[0, 0] / nearest.max().clamp_min(1e-12)).numpy() / len(patches)
    return rarity


def opencv_saliency(rgb: np.ndarray, model: str) -> np.ndarray:
    """OpenCV's ``"spectral_residual"`` or ``"fine_grained"`` saliency of one image ``(H, W, 3)`` uint8."""
    import cv2  # deferred: only these two rows need OpenCV

    make = {"spectral_residual": cv2.saliency.StaticSaliencySpectralResidual_create,
            "fine_grained": cv2.saliency.StaticSaliencyFineGrained_create}[model]
    ok, saliency = make().computeSaliency(np.ascontiguousarray(rgb[..., ::-1]))   # OpenCV reads BGR
    if not ok:
        raise RuntimeError(f"OpenCV's {model} saliency failed on an image of {rgb.shape[1]}×{rgb.shape[0]}")
    return np.asarray(saliency, dtype=np.float64)


def _as_one(maps: np.ndarray, setting: dict) -> np.ndarray:
    return maps


@dataclass(frozen=True)
class Candidate:
    """One no-learning map: its name, the settings it may take besides its blur (each tried with every
    blur of :data:`BLURS`), and how it maps a batch of images before the blur: ``raw(images,
    front_end)``, images ``(B, 3, H, W)`` in [-1, 1] → what every setting shares (computed once a
    batch), then ``combine(raw, setting)`` → ``(B, H', W')``. ``needs_front_end``: only where a
    frozen front end is given."""

    name: str
    raw: Callable[[torch.Tensor, ContrastSaliencyNet | None], np.ndarray]
    options: dict = field(default_factory=dict)
    needs_front_end: bool = False
    combine: Callable[[np.ndarray, dict], np.ndarray] = _as_one

    @property
    def settings(self) -> tuple[dict, ...]:
        choices = {**self.options, "blur": BLURS}
        return tuple(dict(zip(choices, values)) for values in itertools.product(*choices.values()))


def _once_a_batch(raw):
    """``raw(images, front_end)`` computed once for a batch however many candidates read it (the
    combined map reads the hand-made channels and the symmetry map that are candidates of their own)."""
    last: dict = {}

    def cached(images, front_end):
        if last.get("images") is not images:
            last.clear()
            last.update(images=images, value=raw(images, front_end))
        return last["value"]
    return cached


def _as_rgb(images: torch.Tensor) -> np.ndarray:
    return ((images.float().permute(0, 2, 3, 1).numpy() + 1) / 2).clip(0, 1)


def _colour(images, front_end):
    return contrast_map(images.float(), blur=0.0)


@_once_a_batch
def _hand_made_channels(images, front_end):
    return np.stack([np.stack(hand_made_channels(rgb)) for rgb in _as_rgb(images)])   # (B, channels, H, W)


def _hand_made_combined(channels: np.ndarray, setting: dict) -> np.ndarray:
    return channels.max(axis=1) if setting["combine"] == "max" else channels.mean(axis=1)


def _opencv(model: str):
    def raw(images, front_end):
        rgb = np.round(_as_rgb(images) * 255).astype(np.uint8)
        return np.stack([opencv_saliency(one, model) for one in rgb])
    return raw


@_once_a_batch
def _symmetry(images, front_end):
    return np.stack([mirror_symmetry(rgb) for rgb in _as_rgb(images)])


def _channels_and_symmetry(images, front_end):
    """The hand-made channels with the symmetry map as one more, normalised as they are."""
    channels, symmetry = _hand_made_channels(images, front_end), _symmetry(images, front_end)
    size = round(min(symmetry.shape[1:]) / 20) | 1
    return np.concatenate([channels, np.stack([itti_normalise(one, size) for one in symmetry])[:, None]], axis=1)


def _rarity_maps(images, front_end):
    """Each patch side's rarity maps, computed once; :func:`_rarity_chosen` averages the setting's."""
    return {share: np.stack([patch_rarity(rgb, (share,)) for rgb in _as_rgb(images)]) for share in RARITY_PATCHES["both"]}


def _rarity_chosen(maps: dict, setting: dict) -> np.ndarray:
    return sum(maps[share] for share in RARITY_PATCHES[setting["patches"]]) / len(RARITY_PATCHES[setting["patches"]])


def _features(images, front_end):
    device = next(front_end.parameters()).device
    return contrast_map(front_end.frozen_features(images.to(device)).float().cpu(), blur=0.0)


CANDIDATES = (
    Candidate(COLOUR, _colour),
    Candidate(HAND_MADE, _hand_made_channels, {"combine": ("max", "mean")}, combine=_hand_made_combined),
    Candidate(SPECTRAL_RESIDUAL, _opencv("spectral_residual")),
    Candidate(FINE_GRAINED, _opencv("fine_grained")),
    Candidate(FEATURES, _features, needs_front_end=True),
    Candidate(SYMMETRY, _symmetry),
    Candidate(WITH_SYMMETRY, _channels_and_symmetry, {"combine": ("max", "mean")}, combine=_hand_made_combined),
    Candidate(RARITY, _rarity_maps, {"patches": tuple(RARITY_PATCHES)}, combine=_rarity_chosen),
)


def candidate_maps(items: Sequence[SaliencyItem], image_size: tuple[int, int], front_end: ContrastSaliencyNet | None,
                   device: torch.device | str = "cpu", only: dict[str, dict] | None = None) -> dict[tuple, np.ndarray]:
    """The candidates' maps of ``items`` from images at ``image_size``: ``(name, setting)`` (the
    setting as a sorted tuple of its items) → ``(N, h, w)``; every setting of every candidate, or
    ``only`` the one setting given per candidate. The feature contrast only where ``front_end`` is given.
    Each candidate's raw maps are computed once per batch, then combined and blurred for each setting."""
    dataset = SaliencyDataset(items, tuple(image_size), tuple(image_size))
    wanted = [(c, [s for s in c.settings if only is None or only.get(c.name) == s]) for c in CANDIDATES
              if (front_end is not None or not c.needs_front_end) and (only is None or c.name in only)]
    maps: dict[tuple, list] = {}
    if front_end is not None:
        front_end = front_end.to(device).eval()
    with torch.no_grad():
        for images, _ in make_loader(dataset, batch_size=8):
            for candidate, settings in wanted:
                raw = candidate.raw(images, front_end)
                for setting in settings:
                    maps.setdefault((candidate.name, tuple(sorted(setting.items()))), []).append(
                        _blurred(candidate.combine(raw, setting), setting["blur"]))
    return {key: np.concatenate(parts) for key, parts in maps.items()}


@dataclass
class NoLearningMaps:
    """The no-learning rows: each candidate's maps of the test images under the setting the
    validation images chose, and what chose it."""

    chosen: dict[str, dict]                 # candidate → its setting
    validation_auc: dict[str, float]        # candidate → the chosen setting's mean AUC-Judd on the validation images
    maps: dict[str, np.ndarray] = field(repr=False)   # row name (:func:`row_name`) → maps of the test images

    @property
    def best_on_validation(self) -> str:
        """The row name of the map with the highest validation AUC-Judd (the one figures show)."""
        return row_name(max(self.validation_auc, key=self.validation_auc.get))

    def summary(self) -> str:
        """Which settings the validation images chose, e.g. for the report."""
        said = "; ".join(f"{name}: {_setting_text(self.chosen[name])} (validation AUC-Judd {auc:.4f})"
                         for name, auc in self.validation_auc.items())
        return (f"each no-learning map's setting chosen by its mean AUC-Judd on the validation images, the test "
                f"images not looked at — {said}")


def _setting_text(setting: dict) -> str:
    return ", ".join(f"blur {value * 64:g}/64 of the width" if key == "blur" else f"{key} {value}"
                     for key, value in setting.items())


def mean_auc_judd(maps: np.ndarray, truths: Sequence) -> float:
    """The mean AUC-Judd of ``maps`` against the ground truths' fixations, each map upsampled as a network's is."""
    return evaluation.mean_auc_judd([upsample(m, t.fixations.shape) for m, t in zip(maps, truths)], truths)


def no_learning_maps(validation_items: Sequence[SaliencyItem], test_items: Sequence[SaliencyItem],
                     image_size: tuple[int, int], front_end: ContrastSaliencyNet | None = None,
                     device: torch.device | str = "cpu") -> NoLearningMaps:
    """The no-learning rows of a Part 1 table: each candidate's setting chosen by its mean AUC-Judd on
    ``validation_items``, then its maps of ``test_items`` under that setting only. ``front_end``: the
    second model (only its frozen front end is used, never its readout); ``None`` leaves the feature
    contrast out."""
    chosen, validation_auc = {}, {}
    truths = [load_ground_truth(item) for item in validation_items]   # read once, for every candidate and setting
    for (name, setting), maps in candidate_maps(validation_items, image_size, front_end, device).items():
        auc = mean_auc_judd(maps, truths)
        if auc > validation_auc.get(name, -np.inf):
            chosen[name], validation_auc[name] = dict(setting), auc
    on_test = candidate_maps(test_items, image_size, front_end, device, only=chosen)
    maps = {row_name(name): on_test[(name, tuple(sorted(chosen[name].items())))] for name in chosen}
    return NoLearningMaps(chosen, validation_auc, maps)
