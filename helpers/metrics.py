"""Saliency metrics, exact to the MIT saliency benchmark's MATLAB code (cvzoya/saliency, ``code_forMetrics``):
``auc_judd``, ``auc_borji``, ``auc_shuffled``, ``nss``, ``cc``, ``similarity``, ``kl_div``, ``info_gain``.
Each takes 2-D arrays or tensors, computes in float64 and resizes the prediction to the ground truth with
:func:`imresize`, a port of MATLAB's (bicubic, antialiased). Read :func:`auc_judd` first.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np

#: MATLAB's ``eps``: the spacing of doubles at 1.0, exactly 2^-52 (not the rounded 2.2204e-16).
MATLAB_EPS = 2.0 ** -52


def _as_2d(array) -> np.ndarray:
    if hasattr(array, "detach"):  # torch tensor, on any device
        array = array.detach().cpu().numpy()
    array = np.asarray(array)
    if array.ndim != 2:
        raise ValueError(f"expected a 2-D map (H, W), got shape {array.shape}")
    return array


def _as_float64(array) -> np.ndarray:
    return _as_2d(array).astype(np.float64, copy=False)


def _as_binary(array) -> np.ndarray:
    array = _as_2d(array)
    return array if array.dtype == np.bool_ else array > 0


# ---------------------------------------------------------------------------------------------
# MATLAB's imresize
# ---------------------------------------------------------------------------------------------

def _cubic(x: np.ndarray) -> np.ndarray:
    """Keys' cubic convolution kernel with a = −0.5 (MATLAB's ``cubic``)."""
    ax = np.abs(x)
    ax2, ax3 = ax * ax, ax * ax * ax
    return ((1.5 * ax3 - 2.5 * ax2 + 1) * (ax <= 1)
            + (-0.5 * ax3 + 2.5 * ax2 - 4 * ax + 2) * ((1 < ax) & (ax <= 2)))


@lru_cache(maxsize=64)
def _resize_matrix(in_length: int, out_length: int) -> np.ndarray:
    """Dense ``(out, in)`` matrix of MATLAB's ``contributions`` for one dimension (mirror boundary)."""
    scale = out_length / in_length
    kernel_width = 4.0
    if scale < 1:  # antialiasing: widen the kernel by 1/scale
        kernel = lambda x: scale * _cubic(scale * x)  # noqa: E731
        kernel_width /= scale
    else:
        kernel = _cubic
    u = np.arange(1, out_length + 1) / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - kernel_width / 2)
    taps = int(math.ceil(kernel_width)) + 2
    indices = left[:, None] + np.arange(taps)[None, :]
    weights = kernel(u[:, None] - indices)
    weights /= weights.sum(axis=1, keepdims=True)
    mirror = np.concatenate([np.arange(in_length), np.arange(in_length - 1, -1, -1)])
    columns = mirror[(indices.astype(np.int64) - 1) % (2 * in_length)]
    matrix = np.zeros((out_length, in_length))
    np.add.at(matrix, (np.repeat(np.arange(out_length), taps), columns.ravel()), weights.ravel())
    return matrix


def imresize(array, shape: tuple[int, int]) -> np.ndarray:
    """MATLAB's ``imresize(A, [rows cols])`` for a 2-D double array (bicubic, antialiased when shrinking).

    Dimensions are resized one at a time, the one shrinking most first, as MATLAB does.
    """
    array = _as_float64(array)
    rows, cols = int(shape[0]), int(shape[1])
    if array.shape == (rows, cols):
        return array
    scales = (rows / array.shape[0], cols / array.shape[1])
    order = (0, 1) if scales[0] <= scales[1] else (1, 0)
    for dim in order:
        out = (rows, cols)[dim]
        if array.shape[dim] == out:
            continue
        matrix = _resize_matrix(array.shape[dim], out)
        array = matrix @ array if dim == 0 else array @ matrix.T
    return array


def _normalise_min_max(values: np.ndarray) -> np.ndarray:
    low, high = values.min(), values.max()
    with np.errstate(invalid="ignore", divide="ignore"):
        return (values - low) / (high - low)


def _trapz(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1])) / 2.0)


# ---------------------------------------------------------------------------------------------
# AUC-Judd
# ---------------------------------------------------------------------------------------------

def auc_judd(saliency_map, fixation_map, jitter: bool = True, seed: int = 0) -> float:
    """Area under the ROC curve of the map as a classifier of fixated pixels (``AUC_Judd.m``).

    The map is resized to the fixation map, jittered with uniform noise in [0, 1e-7) (from ``seed``)
    to break ties when ``jitter``, and min-max normalised. The thresholds are the map's values at the
    fixated pixels (a binary map: a pixel fixated twice counts once), sorted descending; at the
    i-th, ``tp = i / n_fix`` and ``fp = (#pixels ≥ thr − i) / (n_pixels − n_fix)``. No fixations, or a
    constant map without jitter, give NaN with a warning, as MIT's code does.
    """
    curve = roc_curve_judd(saliency_map, fixation_map, jitter, seed)
    return math.nan if curve is None else _trapz(*curve)


def roc_curve_judd(saliency_map, fixation_map, jitter: bool = True, seed: int = 0):
    """``(fpr, tpr)`` of :func:`auc_judd`'s ROC curve with its end points (0, 0) and (1, 1); ``None``
    (with a warning) where the score is NaN."""
    fixation_map = _as_binary(fixation_map)
    saliency = imresize(saliency_map, fixation_map.shape).ravel()
    if jitter:
        saliency = saliency + np.random.default_rng(seed).random(saliency.shape) / 1e7
    fixated = np.flatnonzero(fixation_map)
    if fixated.size == 0:
        warnings.warn("auc_judd: the fixation map has no fixations; the score is NaN", stacklevel=3)
        return None
    low, high = saliency.min(), saliency.max()
    if not high > low:  # MATLAB's (S - min) / (max - min) is NaN everywhere
        warnings.warn("auc_judd: the saliency map is constant; the score is NaN", stacklevel=3)
        return None
    thresholds = np.sort((saliency[fixated] - low) / (high - low))[::-1]
    above = _count_at_or_above(saliency, low, high, thresholds)
    n_fix, n_pix = fixated.size, saliency.size
    ranks = np.arange(1, n_fix + 1)
    fp = np.concatenate([[0.0], (above - ranks) / (n_pix - n_fix), [1.0]])
    tp = np.concatenate([[0.0], ranks / n_fix, [1.0]])
    return fp, tp


_BINS = 1 << 16  # a power of two, so v * _BINS is exact; 65,536 bins fit in cache


def _count_at_or_above(saliency: np.ndarray, low: float, high: float, thresholds: np.ndarray) -> np.ndarray:
    """For each threshold t: #pixels whose normalised value ``(s - low) / (high - low) >= t``.

    Exact, with no sort of the whole map: each pixel's normalised value falls into one of ``_BINS``
    equal bins (``floor(v * _BINS)`` is monotone in ``v``), a histogram counts the pixels in bins
    above each threshold's bin, and only the few pixels sharing a bin with a threshold are compared
    with it directly.
    """
    # (s - low) / ((high - low) / 2^k) is bit for bit MATLAB's normalised value times 2^k: scaling
    # by a power of two commutes with rounding. One pass fewer than normalising, then scaling.
    scaled = np.subtract(saliency, low)
    np.divide(scaled, (high - low) / _BINS, out=scaled)
    bins = scaled.astype(np.intp)               # in [0, _BINS]; 1.0 falls into bin _BINS
    per_bin = np.bincount(bins, minlength=_BINS + 1)
    in_higher_bins = per_bin[::-1].cumsum()[::-1] - per_bin   # pixels in bins strictly above
    threshold_bins = (thresholds * _BINS).astype(np.intp)
    is_threshold_bin = np.zeros(_BINS + 1, dtype=bool)
    is_threshold_bin[threshold_bins] = True
    shared = np.flatnonzero(is_threshold_bin[bins])
    shared_values = np.sort((saliency[shared] - low) / (high - low))
    shared_bins = (shared_values * _BINS).astype(np.intp)   # sorted, as the values are
    same_bin_at_or_above = (np.searchsorted(shared_bins, threshold_bins, side="right")
                            - np.searchsorted(shared_values, thresholds, side="left"))
    return in_higher_bins[threshold_bins] + same_bin_at_or_above


# ---------------------------------------------------------------------------------------------
# AUC-Borji and shuffled AUC
# ---------------------------------------------------------------------------------------------

def matlab_colon(start: float, step: float, stop: float) -> np.ndarray:
    """MATLAB's ``start:step:stop`` for a positive step, value for value: the number of intervals is
    rounded (within a tolerance of ``stop``), an end point within the tolerance becomes ``stop``, and
    the first half of the values is built up from ``start`` and the second half down from the end
    point — so ``0:0.1:1`` holds exactly 0.6 and 0.7, where ``np.arange`` gives 0.6000000000000001 — and,
    for an even number of intervals, the middle value is ``(start + end) / 2`` (``0:0.1:0.6`` holds 0.3)."""
    tol = 2.0 * np.finfo(float).eps * max(abs(start), abs(stop))
    n = round((stop - start) / step)
    if start + n * step - stop > tol:
        n -= 1
    if n < 0:
        return np.empty(0)
    end = start + n * step
    if end - stop > -tol:
        end = stop
    values = np.empty(n + 1)
    k = np.arange(n // 2 + 1)
    values[k] = start + k * step
    values[n - k] = end - k * step
    if n % 2 == 0:  # as MathWorks' colonop: the middle value is the mean of the two ends
        values[n // 2] = (start + end) / 2
    return values


def _aucs_against_negatives(positives: np.ndarray, negatives: np.ndarray, step: float) -> np.ndarray:
    """MIT's fixed-step ROC, one AUC per row of ``negatives`` (a split): thresholds 0, step, … up to the
    largest value of the positives and that row, from the top down. Rows sharing that largest value
    share their thresholds, and are counted against them together."""
    tops = np.maximum(positives.max(), negatives.max(axis=1))
    aucs = np.empty(len(negatives))
    for top in np.unique(tops):
        rows = tops == top
        thresholds = matlab_colon(0.0, step, top)[::-1]  # fliplr(0:thresholdstep:max(...))
        tp = np.concatenate([[0.0], (positives[None, :] >= thresholds[:, None]).mean(axis=1), [1.0]])
        above = (negatives[rows][:, None, :] >= thresholds[None, :, None]).mean(axis=2)
        fp = np.concatenate([np.zeros((len(above), 1)), above, np.ones((len(above), 1))], axis=1)
        aucs[rows] = np.sum((fp[:, 1:] - fp[:, :-1]) * (tp[1:] + tp[:-1]), axis=1) / 2.0   # _trapz, row by row
    return aucs


def _split_auc(saliency_map, fixation_map, draw_negatives, step: float, name: str,
               min_fixations: int = 1) -> float:
    fixations = _as_binary(fixation_map)
    if fixations.sum() < min_fixations:
        warnings.warn(f"{name}: fewer than {min_fixations} fixated pixels in the fixation map; the score is NaN",
                      stacklevel=3)
        return math.nan
    values = _normalise_min_max(imresize(saliency_map, fixations.shape).ravel())
    if np.isnan(values).all():  # a constant map: MATLAB's min-max normalisation is 0/0 everywhere
        warnings.warn(f"{name}: the saliency map is constant; the score is NaN", stacklevel=3)
        return math.nan
    positives = values[fixations.ravel()]
    negatives = values[np.asarray(draw_negatives(values.size, positives.size))]   # (splits, negatives)
    return float(np.mean(_aucs_against_negatives(positives, negatives, step)))


def auc_borji(saliency_map, fixation_map, splits: int = 100, step: float = 0.1, seed: int = 0) -> float:
    """``AUC_Borji.m``: negatives are as many pixels as fixations, drawn uniformly (with replacement),
    in each of ``splits`` splits; thresholds every ``step``; the mean AUC over the splits.

    As MIT's code, NaN (with a warning) for a constant map and for a map with fewer than two
    fixated pixels (``sum(fixationMap(:)>0)<=1``)."""
    rng = np.random.default_rng(seed)
    draw = lambda n_pix, n_fix: rng.integers(0, n_pix, size=(splits, n_fix))  # noqa: E731
    return _split_auc(saliency_map, fixation_map, draw, step, "auc_borji", min_fixations=2)


def auc_shuffled(saliency_map, fixation_map, other_map, splits: int = 100, step: float = 0.1,
                 seed: int = 0) -> float:
    """``AUC_shuffled.m``: negatives are the map's values at fixations of *other* images
    (``other_map``, a binary map of the fixation map's size), so centre bias earns nothing.

    As MIT's code, NaN (with a warning) for a constant map or no fixations; one fixation is scored."""
    other = _as_binary(other_map).ravel()
    if other.size != _as_binary(fixation_map).size:
        raise ValueError(f"other_map must have the fixation map's shape {np.shape(fixation_map)}, "
                         f"got {np.shape(other_map)}")
    candidates = np.flatnonzero(other)
    if candidates.size == 0:
        warnings.warn("auc_shuffled: other_map has no fixations; the score is NaN", stacklevel=2)
        return math.nan
    rng = np.random.default_rng(seed)

    def draw(n_pix, n_fix):
        count = min(n_fix, candidates.size)
        return [rng.permutation(candidates)[:count] for _ in range(splits)]

    return _split_auc(saliency_map, fixation_map, draw, step, "auc_shuffled")


# ---------------------------------------------------------------------------------------------
# Distribution-based metrics
# ---------------------------------------------------------------------------------------------

def _z_score(values: np.ndarray) -> np.ndarray:
    return (values - values.mean()) / values.std(ddof=1)  # MATLAB's std: N − 1


def _sum_normalise(values: np.ndarray) -> np.ndarray:
    return values / values.sum()


def nss(saliency_map, fixation_map) -> float:
    """``NSS.m``: the mean of the z-scored map (N−1 standard deviation) at the fixated pixels."""
    fixations = _as_binary(fixation_map)
    if not fixations.any():
        warnings.warn("nss: no fixations in the fixation map; the score is NaN", stacklevel=2)
        return math.nan
    z = _z_score(imresize(saliency_map, fixations.shape))
    return float(z[fixations].mean())


def cc(saliency_map, density_map) -> float:
    """``CC.m``: Pearson's correlation (``corr2``) of the z-scored map and ground-truth density."""
    density = _as_float64(density_map)
    a = _z_score(imresize(saliency_map, density.shape))
    b = _z_score(density)
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / math.sqrt((a * a).sum() * (b * b).sum()))


def similarity(saliency_map, density_map) -> float:
    """``similarity.m`` (histogram intersection): each map min-max normalised (unless all zero),
    then divided by its sum; the score is ``sum(min(a, b))``, 1 for identical distributions."""
    density = _as_float64(density_map)
    maps = []
    for values in (imresize(saliency_map, density.shape), density):
        if values.any():
            values = _sum_normalise(_normalise_min_max(values))
        maps.append(values)
    if np.isnan(maps[0]).all() or np.isnan(maps[1]).all():
        return math.nan
    return float(np.minimum(*maps).sum())


def kl_div(saliency_map, density_map) -> float:
    """``KLdiv.m``: KL divergence of the sum-normalised map from the ground-truth density, with
    MATLAB's ``eps`` (2^-52) for regularisation. Lower is better. As MIT's code, a map with no
    non-zero value is left as it is (not divided by its zero sum), so an all-zero map scores a
    large finite value and an all-zero density 0."""
    density = _as_float64(density_map)
    s, g = imresize(saliency_map, density.shape), density
    s, g = (_sum_normalise(m) if m.any() else m for m in (s, g))
    return float(np.sum(g * np.log(MATLAB_EPS + g / (s + MATLAB_EPS))))


def info_gain(saliency_map, fixation_map, baseline_map) -> float:
    """``InfoGain.m``: mean log2 gain, in bits per fixation, of the map over ``baseline_map`` (for
    example a centre-bias map), each min-max then sum normalised, at the fixated pixels."""
    fixations = _as_binary(fixation_map)
    if not fixations.any():
        warnings.warn("info_gain: no fixations in the fixation map; the score is NaN", stacklevel=2)
        return math.nan
    s, b = (_sum_normalise(_normalise_min_max(imresize(m, fixations.shape)))
            for m in (saliency_map, baseline_map))
    return float(np.mean(np.log2(MATLAB_EPS + s[fixations]) - np.log2(MATLAB_EPS + b[fixations])))


# ---------------------------------------------------------------------------------------------
# Pop-out: does the map single out the odd item?
# ---------------------------------------------------------------------------------------------

def singleton_auc(saliency_map, labels, singleton: int = 1, distractor: int = 2) -> float:
    """The AUC of the map's values on the singleton's pixels against those on the distractors'
    pixels (``labels`` marks them ``singleton`` and ``distractor``; the map is resized to it): the
    probability that a singleton pixel outranks a distractor pixel, ties counting a half
    (Mann–Whitney). 0.5 for a map that treats every item alike, 1.0 for a perfect singleton detector.
    Not an MIT metric: the generated sample knows which item is the odd one out. NaN (with a warning)
    when either kind of pixel is missing, or the map is NaN on one."""
    labels = _as_2d(labels)
    values = imresize(saliency_map, labels.shape)
    on_singleton, on_distractors = values[labels == singleton], values[labels == distractor]
    if on_singleton.size == 0 or on_distractors.size == 0:
        warnings.warn("singleton_auc: the labels mark no singleton or no distractor; the score is NaN", stacklevel=2)
        return math.nan
    if np.isnan(on_singleton).any() or np.isnan(on_distractors).any():  # a NaN would sort above every value
        warnings.warn("singleton_auc: the map is NaN on an item's pixels; the score is NaN", stacklevel=2)
        return math.nan
    distractors = np.sort(on_distractors)
    below = np.searchsorted(distractors, on_singleton, side="left")      # distractors it outranks
    not_above = np.searchsorted(distractors, on_singleton, side="right")  # ... plus those it ties
    return float((below.sum() + not_above.sum()) / (2 * on_singleton.size * distractors.size))


# ---------------------------------------------------------------------------------------------
# Baselines
# ---------------------------------------------------------------------------------------------

def centre_bias_map(shape: tuple[int, int], sigma: float | tuple[float, float] = 0.25) -> np.ndarray:
    """A centred Gaussian ``(H, W)`` in [0, 1]; ``sigma`` as fractions of the height and width."""
    sy, sx = (sigma, sigma) if np.isscalar(sigma) else sigma
    rows = (np.arange(shape[0]) + 0.5) / shape[0] - 0.5
    cols = (np.arange(shape[1]) + 0.5) / shape[1] - 0.5
    return np.exp(-0.5 * ((rows[:, None] / sy) ** 2 + (cols[None, :] / sx) ** 2))


def fit_centre_bias(fixation_maps) -> tuple[float, float]:
    """The centre-bias widths ``(sigma_y, sigma_x)``, as fractions of height and width, fitted as the
    standard deviation of the training fixations' normalised positions about the centre."""
    ys, xs = [], []
    for fixation_map in fixation_maps:
        fixations = _as_binary(fixation_map)
        rows, cols = np.nonzero(fixations)
        ys.append((rows + 0.5) / fixations.shape[0] - 0.5)
        xs.append((cols + 0.5) / fixations.shape[1] - 0.5)
    ys, xs = np.concatenate(ys), np.concatenate(xs)
    if ys.size < 2:
        raise ValueError("fit_centre_bias needs at least two fixations")
    return float(np.sqrt(np.mean(ys ** 2))), float(np.sqrt(np.mean(xs ** 2)))


def mit_blur_sigma(shape: tuple[int, int]) -> float:
    """The width, in pixels, of the Gaussian the MIT benchmark blurs fixations with to make a
    continuous map: ``antonioGaussian.m`` with a cut-off of fc = 8 cycles per image (about one
    degree of visual angle) on the image padded to a power of two, n = 2^ceil(log2(longest side)).
    Its transfer function exp(-f²ln2/fc²) is a Gaussian of sigma = n·sqrt(ln 2) / (sqrt(2)·π·fc) pixels:
    24 px for MIT1003's 1024-pixel side, 48 px for CAT2000's 1920, 24 px for SALICON's 640."""
    n = 2 ** math.ceil(math.log2(max(shape)))
    return n * math.sqrt(math.log(2)) / (math.sqrt(2) * math.pi * 8)


def chance_map(shape: tuple[int, int], seed: int = 0) -> np.ndarray:
    """Chance: uniform random values (every AUC ≈ 0.5)."""
    return np.random.default_rng(seed).random(shape)


@dataclass(frozen=True)
class Metric:
    """One metric of notebook 02's tables: how to compute it on a map already at the ground truth's
    size, which ground truth it reads, and which way is better. Scoring
    (:func:`helpers.evaluation.score_map`), the summaries, the quality bars and the report all
    iterate over :data:`METRICS`."""

    name: str
    compute: Callable  # (map, truth, context) → float; truth has .fixations, .density, .labels
    reads: str         # the ground truth it needs: "fixations", "density" or "labels"
    #: whether it is a quality bar: a network must beat the centre bias on it (declared by each metric:
    #: a metric added to the table is not a bar unless it says so)
    bar_against_centre: bool
    higher_is_better: bool = True
    #: the score the centre bias has by definition, where the metric is measured against it (IG: 0)
    relative_to_centre: bool = False

    def available(self, truth) -> bool:
        return getattr(truth, self.reads, None) is not None

    def better(self, score: float, than: float) -> bool:
        return score > than if self.higher_is_better else score < than

    def bar(self) -> str:
        """How the bar "better than the centre bias" reads for this metric."""
        if self.relative_to_centre:
            return f"{self.name} {'above' if self.higher_is_better else 'below'} 0 (over the centre bias)"
        return f"{self.name} {'above' if self.higher_is_better else 'below'} the centre bias"


@dataclass(frozen=True)
class ScoringContext:
    """What some metrics need besides the map and its own ground truth."""

    other: np.ndarray       # the other images' fixations (sAUC's negatives)
    baseline: np.ndarray    # the centre bias (IG is measured against it)
    jitter: bool = True
    seed: int = 0


#: Scored beside them where the data know the odd one out (the generated sample).
SINGLETON_AUC = "singleton AUC"
#: Every metric, in the order of notebook 02's tables.
METRICS = (
    Metric("AUC-Judd", lambda s, t, c: auc_judd(s, t.fixations, jitter=c.jitter, seed=c.seed), "fixations", True),
    Metric("AUC-Borji", lambda s, t, c: auc_borji(s, t.fixations, seed=c.seed), "fixations", True),
    Metric("sAUC", lambda s, t, c: auc_shuffled(s, t.fixations, c.other, seed=c.seed), "fixations", True),
    Metric("NSS", lambda s, t, c: nss(s, t.fixations), "fixations", True),
    Metric("CC", lambda s, t, c: cc(s, t.density), "density", True),
    Metric("SIM", lambda s, t, c: similarity(s, t.density), "density", True),
    Metric("KL", lambda s, t, c: kl_div(s, t.density), "density", True, higher_is_better=False),
    Metric("IG", lambda s, t, c: info_gain(s, t.fixations, c.baseline), "fixations", True, relative_to_centre=True),
    # its own bars (from chance towards the oracle, helpers.evaluation.quality_bars): the centre bias has no items to rank
    Metric(SINGLETON_AUC, lambda s, t, c: singleton_auc(s, t.labels), "labels", False),
)
METRIC_BY_NAME = {metric.name: metric for metric in METRICS}
#: The MIT benchmark's eight, scored for every data set.
METRIC_NAMES = tuple(metric.name for metric in METRICS if metric.reads != "labels")
