import math

import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter

from helpers import metrics
from helpers.metrics import auc_judd, cc, imresize, kl_div, nss, similarity
from mit_reference import auc_judd_mit_loop, auc_splits_mit_loop


def fixation_scene(seed=0, shape=(60, 80), n=40):
    rng = np.random.default_rng(seed)
    fixations = np.zeros(shape, dtype=bool)
    fixations[rng.integers(0, shape[0], n), rng.integers(0, shape[1], n)] = True
    density = gaussian_filter(fixations.astype(float), 3)
    return fixations, density


# --- AUC-Judd ---------------------------------------------------------------------------------

def test_auc_judd_worked_by_hand_with_a_tie():
    # values 0, .5, 1, .5; fixated: the 1 and one of the two .5s (the other .5 is a tied negative).
    # thresholds 1, .5 → (fp, tp) = (0, .5), (.5, 1); with (0, 0) and (1, 1): area .875
    saliency = np.array([[0.0, 0.5], [1.0, 0.5]])
    fixations = np.array([[0, 1], [1, 0]])
    assert auc_judd(saliency, fixations, jitter=False) == 0.875


def test_auc_judd_perfect_and_worst_separation_by_hand():
    saliency = np.array([[4.0, 3.0, 2.0, 1.0]])
    assert auc_judd(saliency, np.array([[1, 1, 0, 0]]), jitter=False) == 1.0
    # Worst ranking: MIT only puts curve points at the fixated values (normalised 1/3 and 0), so the
    # curve goes (0, 0) → (1, .5) → (1, 1) and the area is .25, not 0.
    assert auc_judd(saliency, np.array([[0, 0, 1, 1]]), jitter=False) == 0.25


def test_a_pixel_fixated_twice_counts_once():
    saliency = np.random.default_rng(1).random((20, 30))
    once, twice = np.zeros((20, 30)), np.zeros((20, 30))
    once[[3, 7, 12], [4, 20, 9]] = 1
    twice[[3, 7, 12], [4, 20, 9]] = [1, 2, 5]
    assert auc_judd(saliency, once, jitter=False) == auc_judd(saliency, twice, jitter=False)


@pytest.mark.parametrize("seed", range(8))
def test_auc_judd_equals_the_mit_loop_on_any_input_ties_included(seed):
    rng = np.random.default_rng(seed)
    shape = tuple(rng.integers(5, 70, 2))
    if seed % 2:   # heavy ties: a few integer levels, as in uint8 or ReLU-zeroed maps
        saliency = rng.integers(0, 4, shape).astype(float)
    else:
        saliency = rng.random(shape) ** 3
    fixations = rng.random(shape) < rng.uniform(0.01, 0.3)
    fixations.flat[0] = True
    assert auc_judd(saliency, fixations, jitter=False) == pytest.approx(
        auc_judd_mit_loop(saliency, fixations), abs=1e-14)


def test_auc_judd_resizes_the_map_to_the_fixations_before_scoring():
    fixations, density = fixation_scene()
    small = imresize(density, (30, 40))
    expected = auc_judd_mit_loop(imresize(small, fixations.shape), fixations)
    assert auc_judd(small, fixations, jitter=False) == pytest.approx(expected, abs=1e-14)


def test_auc_judd_is_invariant_to_monotone_transforms():
    fixations, _ = fixation_scene(2)
    saliency = np.random.default_rng(2).random(fixations.shape)
    base = auc_judd(saliency, fixations, jitter=False)
    for transformed in (saliency ** 3, np.exp(4 * saliency), 10 * saliency - 7):
        assert auc_judd(transformed, fixations, jitter=False) == pytest.approx(base, abs=1e-12)


def test_the_fixation_density_scores_near_one_and_its_reverse_near_zero():
    fixations, density = fixation_scene(3)
    assert auc_judd(density, fixations) > 0.9
    assert auc_judd(-density, fixations) < 0.1


def test_jitter_breaks_ties_and_is_seeded():
    fixations, _ = fixation_scene(4)
    flat = np.zeros(fixations.shape)
    flat[:, :40] = 1.0  # two levels: many ties
    assert auc_judd(flat, fixations, seed=5) == auc_judd(flat, fixations, seed=5)
    assert auc_judd(flat, fixations, seed=5) != auc_judd(flat, fixations, seed=6)
    assert auc_judd(flat, fixations, seed=5) != auc_judd(flat, fixations, jitter=False)


def test_no_fixations_gives_nan_with_a_warning():
    with pytest.warns(UserWarning, match="no fixations"):
        assert math.isnan(auc_judd(np.random.rand(5, 5), np.zeros((5, 5))))


def test_a_constant_map_without_jitter_gives_nan_and_with_jitter_about_a_half():
    fixations, _ = fixation_scene(5)
    with pytest.warns(UserWarning, match="constant"):
        assert math.isnan(auc_judd(np.ones(fixations.shape), fixations, jitter=False))
    assert auc_judd(np.ones(fixations.shape), fixations) == pytest.approx(0.5, abs=0.1)


def test_roc_curve_runs_from_origin_to_one_one_and_integrates_to_the_auc():
    fixations, density = fixation_scene(6)
    fpr, tpr = metrics.roc_curve_judd(density, fixations, jitter=False)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0, 0, 1, 1)
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
    assert np.trapezoid(tpr, fpr) == pytest.approx(auc_judd(density, fixations, jitter=False), abs=1e-14)


# --- imresize ---------------------------------------------------------------------------------

def test_imresize_first_sample_worked_from_matlabs_cubic_kernel():
    # Doubling [1 2 3 4]: the first output sits at u = 0.75; weights k(1.75), k(.75), k(.25), k(1.25)
    # = -.0234375, .2265625, .8671875, -.0703125 on x(2), x(1), x(1), x(2) (mirrored border).
    out = imresize(np.array([[1.0, 2.0, 3.0, 4.0]]), (1, 8))
    assert out[0, 0] == pytest.approx(1.09375 * 1 - 0.09375 * 2, abs=1e-15)
    # The second at u = 1.25: k(1.25), k(.25), k(.75), k(1.75) on x(1), x(1), x(2), x(3) = 1.1796875;
    # the last two mirror the first two about the middle (the input is a ramp): 5 − 0.90625, 5 − 1.1796875.
    assert [out[0, i] for i in (0, 1, 6, 7)] == pytest.approx([0.90625, 1.1796875, 3.8203125, 4.09375], abs=1e-15)


def test_imresize_shrinking_widens_the_kernel_as_matlab_does():
    # Halving [1 … 8]: the first output sits at u = 1.5 and the kernel is 0.5·k(0.5·d), 8 wide; taps at
    # x(-2 … 5) = x(3), x(2), x(1), x(1) … x(5) (mirrored) with weights −.01171875, −.03515625,
    # .11328125, .43359375, .43359375, .11328125, −.03515625, −.01171875: 1.44921875.
    out = imresize(np.arange(1.0, 9.0)[None, :], (1, 4))
    assert out[0, 0] == pytest.approx(1.44921875, abs=1e-15)


def test_imresize_keeps_constants_and_reproduces_ramps_away_from_the_border():
    assert np.allclose(imresize(np.full((7, 9), 3.5), (20, 5)), 3.5)
    ramp = np.tile(np.arange(10.0), (4, 1))
    wide = imresize(ramp, (4, 40))
    interior = wide[0, 8:-8]
    assert np.allclose(np.diff(interior), np.diff(interior)[0])  # bicubic reproduces linear functions


def test_imresize_antialiases_when_shrinking():
    stripes = np.tile([0.0, 1.0], (8, 32))  # the finest possible stripes
    assert np.ptp(imresize(stripes, (8, 16))) < 0.2  # averaged to grey, not aliased


# --- the other metrics, worked by hand ----------------------------------------------------------

def test_nss_by_hand_uses_the_n_minus_1_standard_deviation():
    saliency = np.array([[1.0, 2.0], [3.0, 4.0]])
    fixations = np.array([[0, 0], [0, 1]])
    assert nss(saliency, fixations) == pytest.approx(1.5 / math.sqrt(5 / 3), abs=1e-14)


def test_cc_is_one_for_an_affine_copy_and_minus_one_for_a_reversed_one():
    _, density = fixation_scene(7)
    assert cc(2 * density + 1, density) == pytest.approx(1.0, abs=1e-12)
    assert cc(-density, density) == pytest.approx(-1.0, abs=1e-12)


def test_similarity_by_hand():
    a = np.array([[1.0, 1.0], [0.0, 0.0]])
    b = np.array([[1.0, 0.0], [0.0, 0.0]])
    assert similarity(a, b) == pytest.approx(0.5)
    assert similarity(b, b) == pytest.approx(1.0)
    assert similarity(b, np.array([[0.0, 1.0], [0.0, 0.0]])) == 0.0


def test_kl_by_hand_and_with_matlabs_exact_eps():
    assert metrics.MATLAB_EPS == 2.0 ** -52
    g = np.array([[1.0, 1.0], [0.0, 0.0]])
    assert kl_div(np.ones((2, 2)), g) == pytest.approx(math.log(2), rel=1e-12)
    # where the prediction is 0 and the truth is 1, the term is log(eps + 1 / eps) = 52 log 2
    assert kl_div(np.array([[0.0, 1.0]]), np.array([[1.0, 0.0]])) == pytest.approx(52 * math.log(2), rel=1e-13)


def test_info_gain_is_zero_against_itself_and_positive_for_the_density():
    fixations, density = fixation_scene(8)
    centre = metrics.centre_bias_map(fixations.shape)
    assert metrics.info_gain(centre, fixations, centre) == 0.0
    assert metrics.info_gain(density, fixations, centre) > 1.0


def test_borji_and_shuffled_auc_rank_the_density_high_and_chance_near_a_half():
    fixations, density = fixation_scene(9)
    other, _ = fixation_scene(10)
    assert metrics.auc_borji(density, fixations) > 0.9
    assert metrics.auc_shuffled(density, fixations, other) > 0.9
    assert metrics.auc_borji(metrics.chance_map(fixations.shape), fixations) == pytest.approx(0.5, abs=0.08)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_borji_and_shuffled_auc_match_mits_loop_over_splits_on_the_same_draws(seed):
    """All splits are counted at once; MIT's loop counts one split at a time. Maps quantised to
    tenths put many values exactly on the thresholds, where a ≥ against a > would show."""
    fixations, density = fixation_scene(20 + seed)
    other, _ = fixation_scene(40 + seed)
    rng = np.random.default_rng(seed)
    for saliency in (density, np.round(density / density.max() * 10) / 10, rng.random(density.shape)):
        values = (saliency - saliency.min()) / (saliency.max() - saliency.min())
        flat, fixated = values.ravel(), fixations.ravel() > 0
        draws = np.random.default_rng(seed).integers(0, flat.size, size=(100, fixated.sum()))   # auc_borji's draw
        assert metrics.auc_borji(saliency, fixations, seed=seed) == pytest.approx(
            auc_splits_mit_loop(flat, fixated, draws), abs=1e-12)
        candidates = np.flatnonzero(other.ravel() > 0)
        shuffle = np.random.default_rng(seed)   # auc_shuffled's draw: a permutation of the other fixations per split
        draws = [shuffle.permutation(candidates)[:min(fixated.sum(), candidates.size)] for _ in range(100)]
        assert metrics.auc_shuffled(saliency, fixations, other, seed=seed) == pytest.approx(
            auc_splits_mit_loop(flat, fixated, draws), abs=1e-12)


def test_shuffled_auc_does_not_reward_centre_bias_shared_by_all_images():
    shape = (60, 80)
    rng = np.random.default_rng(0)

    def centred():
        f = np.zeros(shape, dtype=bool)
        f[np.clip(rng.normal(30, 6, 60).astype(int), 0, 59), np.clip(rng.normal(40, 8, 60).astype(int), 0, 79)] = True
        return f

    centre = metrics.centre_bias_map(shape, 0.15)
    fixations, other = centred(), centred()
    assert metrics.auc_borji(centre, fixations) > 0.8
    assert metrics.auc_shuffled(centre, fixations, other) == pytest.approx(0.5, abs=0.08)


def test_fit_centre_bias_recovers_the_spread():
    rng = np.random.default_rng(1)
    shape = (400, 600)
    fixations = np.zeros(shape, dtype=bool)
    rows = np.clip(rng.normal(200, 0.1 * 400, 3000).astype(int), 0, 399)
    cols = np.clip(rng.normal(300, 0.2 * 600, 3000).astype(int), 0, 599)
    fixations[rows, cols] = True
    sy, sx = metrics.fit_centre_bias([fixations])
    assert sy == pytest.approx(0.1, rel=0.1) and sx == pytest.approx(0.2, rel=0.1)


# --- inputs -------------------------------------------------------------------------------------

@pytest.mark.parametrize("metric, truth", [(auc_judd, "f"), (nss, "f"), (cc, "d"), (similarity, "d"),
                                           (kl_div, "d")])
def test_numpy_and_torch_inputs_agree(metric, truth):
    fixations, density = fixation_scene(11)
    saliency = 0.5 + 0.5 * np.random.default_rng(11).random((30, 40))  # stays positive when resized
    ground = fixations if truth == "f" else density
    from_numpy = metric(saliency, ground)
    from_torch = metric(torch.from_numpy(saliency), torch.from_numpy(ground))
    assert isinstance(from_torch, float) and from_torch == from_numpy


def test_maps_that_are_not_2d_are_refused():
    with pytest.raises(ValueError, match="2-D"):
        auc_judd(np.zeros((2, 3, 4)), np.zeros((3, 4)))


def test_shuffled_auc_without_other_fixations_is_nan_with_a_warning():
    fixations, density = fixation_scene(13)
    with pytest.warns(UserWarning, match="other_map has no fixations"):
        assert math.isnan(metrics.auc_shuffled(density, fixations, np.zeros(fixations.shape)))


def test_other_fixations_are_the_union_of_every_other_image_on_each_images_size():
    from helpers.data import GroundTruth
    from helpers.evaluation import other_fixations

    rng = np.random.default_rng(14)
    truths = [GroundTruth(rng.random(shape) < 0.02, np.zeros(shape))
              for shape in [(60, 80), (30, 40), (60, 80), (45, 45)]]
    truths[2].fixations[:] = truths[0].fixations  # a pixel fixated in two images stays "other"
    for index, got in enumerate(other_fixations(truths)):
        shape = truths[index].fixations.shape
        expected = np.zeros(shape, dtype=bool)
        for j, truth in enumerate(truths):
            if j != index:
                rows, cols = np.nonzero(truth.fixations)
                expected[((rows + 0.5) * shape[0] // truth.fixations.shape[0]).astype(int),
                         ((cols + 0.5) * shape[1] // truth.fixations.shape[1]).astype(int)] = True
        assert np.array_equal(got, expected), index


# ---------------------------------------------------------------------------------------------
# Degenerate inputs, as the MIT benchmark's MATLAB code (code_forMetrics at its latest revision)
# handles them. The expected values are worked through that code by hand, step by step.
# ---------------------------------------------------------------------------------------------

def test_split_aucs_of_a_constant_map_are_nan_as_in_matlab():
    # AUC_Borji.m / AUC_shuffled.m: (S - min) / (max - min) is 0/0 everywhere, and the
    # "sum(isnan(saliencyMap(:)))==length(saliencyMap(:))" check returns the preset score = nan.
    fixations = np.zeros((6, 8), dtype=bool)
    fixations[1, 2] = fixations[4, 5] = True
    other = np.zeros((6, 8), dtype=bool)
    other[0, 0] = other[3, 3] = True
    constant = np.full((6, 8), 0.3)
    with pytest.warns(UserWarning, match="constant"):
        assert math.isnan(metrics.auc_borji(constant, fixations))
    with pytest.warns(UserWarning, match="constant"):
        assert math.isnan(metrics.auc_shuffled(constant, fixations, other))


def test_auc_borji_needs_two_fixated_pixels_and_auc_shuffled_scores_one():
    # AUC_Borji.m returns NaN when sum(fixationMap(:)>0) <= 1; AUC_shuffled.m has no such check.
    # The map is 1..48 (column-major in MATLAB, which does not matter here); the fixated pixel
    # holds 25, the two other-image fixations 1 and 48. Normalised: (v - 1) / 47, so the
    # fixation is at 24/47 = 0.5106, the negatives at 0 and 1.
    ramp = np.arange(1, 49, dtype=float).reshape(6, 8)
    single = ramp == 25
    other = (ramp == 1) | (ramp == 48)
    with pytest.warns(UserWarning, match="fewer than 2"):
        assert math.isnan(metrics.auc_borji(ramp, single))
    # Nfixations_oth = min(1, 2) = 1: each split takes one negative, 0 or 1 with equal chance.
    # Thresholds 1.0, 0.9, ..., 0 (max = 1 when the negative is 1, else 0.5106 → 0.5, ..., 0):
    #   negative 1: tp = [0, 0 (1.0) ... 0 (0.6), 1 (0.5) ... 1, 1], fp = [0, 1 (all ≥ 0), ...]
    #     → the negative is above every threshold from 1.0 down: fp = 1 from the first one on,
    #       tp reaches 1 at 0.5: trapz over fp ∈ {0, 1} of tp = 0 → area 0.
    #   negative 0: fp = 0 down to threshold 0.1 and 1 at 0; tp = 1 from 0.5 down → area 1.
    # The mean over 100 splits is the share of splits that drew the 0: about a half.
    score = metrics.auc_shuffled(ramp, single, other, splits=400, seed=1)
    assert 0.4 < score < 0.6
    assert score * 400 == pytest.approx(round(score * 400))   # every split scores exactly 0 or 1


def test_kl_div_of_an_all_zero_map_is_finite_as_in_matlab():
    # KLdiv.m divides a map by its sum only "if any(map1(:))": an all-zero prediction stays zero,
    # so the score is sum(g .* log(eps + g ./ (0 + eps))), worked out here for g = [1 3 0 4] / 8.
    density = np.array([[1.0, 3.0], [0.0, 4.0]])
    g = density / 8
    eps = 2.0 ** -52
    expected = sum(v * math.log(eps + v / eps) for v in g.ravel())
    assert metrics.kl_div(np.zeros((2, 2)), density) == pytest.approx(expected, rel=1e-12)
    assert math.isfinite(expected) and expected > 30       # log(1/eps) ≈ 36: a large, finite penalty
    # And an all-zero density: g = 0 everywhere, so every term is 0 · log(eps + 0) = 0.
    assert metrics.kl_div(np.array([[1.0, 2.0], [3.0, 4.0]]), np.zeros((2, 2))) == 0.0


def test_auc_thresholds_are_matlabs_colon_values_not_numpys():
    """``0:0.1:1`` in MATLAB holds exactly 0.6 and 0.7 (the second half is counted down from the end);
    np.arange gives 0.6000000000000001 and 0.7000000000000001."""
    from helpers.metrics import matlab_colon

    thresholds = matlab_colon(0.0, 0.1, 1.0)
    assert len(thresholds) == 11 and thresholds[6] == 0.6 and thresholds[7] == 0.7
    assert thresholds[3] == 3 * 0.1        # the first half counts up from 0, as MATLAB's does
    assert len(matlab_colon(0.0, 0.1, 0.6)) == 7 and matlab_colon(0.0, 0.1, 0.6)[-1] == 0.6
    assert len(matlab_colon(0.0, 0.1, 0.987)) == 10


def test_matlabs_colon_sets_the_middle_of_an_even_count_of_intervals_to_the_mean_of_its_ends():
    """MathWorks' ``colonop``: with n even, ``out(n/2+1) = (a+c)/2``. Counting down from 0.6 gives
    0.29999999999999993 and counting up 0.30000000000000004; MATLAB holds 0.3."""
    from helpers.metrics import matlab_colon

    assert 0.6 - 3 * 0.1 != 0.3 and 3 * 0.1 != 0.3          # the two ways the middle could be missed
    assert matlab_colon(0.0, 0.1, 0.6)[3] == 0.3
    assert matlab_colon(1.0, 0.5, 3.0)[2] == 2.0 and len(matlab_colon(0.0, 0.1, 0.7)) == 8   # odd: no middle


@pytest.mark.parametrize("stop", [0.0, 0.05, 0.3, 0.6, 0.7, 0.987, 1.0, 0.9999999999999999, 1.0000000000000002, 2.35])
@pytest.mark.parametrize("step", [0.1, 0.05, 0.01])
def test_the_colon_values_are_mathworks_colonop_bit_for_bit(step, stop):
    """The project's vectorised colon against ``colonop.m`` transcribed apart, scalar by scalar
    (``tests/mit_reference.py``): the same count and the same floats, to the last bit."""
    from helpers.metrics import matlab_colon
    from mit_reference import colonop

    assert matlab_colon(0.0, step, stop).tolist() == colonop(0.0, step, stop)


def test_a_uint8_map_whose_fixated_value_is_exactly_a_threshold_scores_as_in_matlab():
    """Worked by hand: the fixated pixels are 153/255 = 0.6 after min-max normalisation, the other
    images' fixations fall on 140/255 ≈ 0.549 and 0; the largest value among them is 0.6, so the
    thresholds are 0.6, 0.5, ..., 0. At MATLAB's 0.6 both fixated pixels are above it and no
    negative is: the ROC goes straight to (0, 1), AUC 1. With np.arange's 0.6000000000000001 the first
    point is (0, 0) and the next (0.5, 1), AUC 0.75."""
    saliency = np.array([[153, 153, 140, 0, 255]], dtype=np.uint8)
    fixations = np.array([[1, 1, 0, 0, 0]])
    other = np.array([[0, 0, 1, 1, 0]])          # two candidates for two fixations: every split is the same
    assert metrics.auc_shuffled(saliency, fixations, other, splits=3) == 1.0


def test_auc_borji_worked_by_hand_from_the_matlab_code(monkeypatch):
    """``AUC_Borji.m`` with the random pixels fixed: the map 255, 153, 140, 0, 51 is 1, 0.6, 0.549, 0,
    0.2 after min-max; pixels 0 and 1 are fixated (1 and 0.6). Thresholds 1:-0.1:0 (MATLAB's colon:
    0.6 exactly). Split 1 draws pixels 2 and 3 (0.549, 0): every fixation above every negative from
    0.6 down, ROC (0,0) → (0,1) → (1,1), AUC 1. Split 2 draws pixels 0 and 4 (1, 0.2): at 1 the
    rates are (½, ½), from 0.6 (½, 1), from 0.2 (1, 1): AUC ⅛ + ½ = 0.625. The mean: 0.8125."""
    class Drawn:
        def integers(self, low, high, size):
            assert (low, high, size) == (0, 5, (2, 2))   # as many negatives as fixations, in each split
            return np.array([[2, 3], [0, 4]])

    monkeypatch.setattr(metrics.np.random, "default_rng", lambda seed: Drawn())
    saliency = np.array([[255, 153, 140, 0, 51]], dtype=np.uint8)
    fixations = np.array([[1, 1, 0, 0, 0]])
    assert metrics.auc_borji(saliency, fixations, splits=2) == 0.8125


# --- singleton AUC (the sample's pop-out score) -------------------------------------------------

def test_singleton_auc_worked_by_hand_with_a_tie():
    # singleton pixels 3 and 1; distractor pixels 1, 0, 0: of the six pairs, 3 outranks all three,
    # 1 outranks the two 0s and ties the 1 (a half): (3 + 2.5) / 6
    saliency = np.array([[3.0, 1.0, 1.0, 0.0, 0.0]])
    labels = np.array([[1, 1, 2, 2, 2]])
    assert metrics.singleton_auc(saliency, labels) == pytest.approx(5.5 / 6, abs=1e-15)


def test_a_map_that_is_nan_on_an_item_scores_nan_not_a_perfect_singleton_auc():
    labels = np.array([[1, 1, 2, 2, 2]])
    for saliency in (np.array([[np.nan, 1.0, 1.0, 0.0, 0.0]]), np.array([[1.0, 1.0, np.nan, 0.0, 0.0]])):
        with pytest.warns(UserWarning, match="NaN on an item's pixels"):
            assert math.isnan(metrics.singleton_auc(saliency, labels))


@pytest.mark.parametrize("seed", range(3))
def test_singleton_auc_is_the_mann_whitney_statistic_scaled_to_one(seed):
    """Against SciPy's Mann–Whitney U on maps with many ties (values rounded to eight levels)."""
    from scipy.stats import mannwhitneyu

    rng = np.random.default_rng(seed)
    saliency = np.round(rng.random((40, 50)) * 7)
    labels = rng.choice([0, 1, 2], size=(40, 50), p=[0.5, 0.1, 0.4])
    singleton, distractors = saliency[labels == 1], saliency[labels == 2]
    scaled_u = mannwhitneyu(singleton, distractors).statistic / (singleton.size * distractors.size)
    assert metrics.singleton_auc(saliency, labels) == pytest.approx(scaled_u, abs=1e-12)
    swapped = np.where(labels > 0, 3 - labels, 0)   # the singleton's pixels become the distractors'
    assert metrics.singleton_auc(saliency, swapped) == pytest.approx(1 - scaled_u, abs=1e-12)
