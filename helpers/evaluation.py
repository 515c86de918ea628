"""Scoring saliency maps as the MIT benchmark does: each map upsampled to the fixation map's size, scaled to
[0, 1], scored with every metric of :mod:`helpers.metrics` beside the baselines (centre bias, chance, oracle,
all items, and the no-learning maps of :mod:`helpers.baselines`), and the bars a network is judged by.
"""
from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np
import pandas as pd
from scipy.ndimage import gaussian_filter

from . import metrics, samples
from .data import GroundTruth, SaliencyDataset, SaliencyItem, load_ground_truth, make_loader
from .progress import tqdm
from .models import CONTRAST, MODEL_NAMES, SALNET
from .training import predict

#: The maps scored for every image: the networks and the baselines.
NETWORK, SECOND_NETWORK = MODEL_NAMES[SALNET], MODEL_NAMES[CONTRAST]
CENTRE_BIAS, CHANCE, ALL_ITEMS = "centre bias", "chance", "all items"
ORACLE_SAMPLE, ORACLE_OBSERVERS = "oracle (the sample's known density)", "oracle (the other observers)"
NO_LEARNING = "no learning"
#: What a network must beat the best no-learning row on (where both have them): does training add anything?
AGAINST_NO_LEARNING = (metrics.SINGLETON_AUC, "NSS", "KL")
#: The rule every bar of the sample follows: a share of the way from what needs no learning to the
#: oracle (the known density the fixations were drawn from) — for the singleton AUC from chance (0.5,
#: a map that ranks the pixels at random), on a face category from the best no-learning map there, for
#: AUC-Judd from the centre bias. A mean over every test display must go :data:`OVERALL_SHARE` of the
#: way; a mean over one category's displays (a sixth of them) and AUC-Judd (which the fixations' own
#: scatter caps) :data:`CATEGORY_SHARE`. No network's score enters a bar (``docs/part1-sample.md``).
OVERALL_SHARE, CATEGORY_SHARE = 0.8, 0.6
#: The singleton AUC of a map that ranks the pixels at random.
CHANCE_SINGLETON_AUC = 0.5
#: The largest standard error of a category's mean singleton AUC that its bars may be judged on: a
#: category's eight test displays in a smoke run often give more, so ``benchmarks/part1_sample.py``
#: judges the per-category bars again on 100 fresh displays per category.
JUDGING_SE = 0.03


def bar_between(reference: float, oracle: float, share: float) -> float:
    """The bar ``share`` of the way from ``reference`` (what needs no learning) to ``oracle``."""
    return reference + share * (oracle - reference)


def oracle_name(truths: Sequence[GroundTruth]) -> str:
    """Which oracle the data allow: the sample's known density, the other observers, or none ("")."""
    if truths and all(t.known_density is not None for t in truths):
        return ORACLE_SAMPLE
    if truths and all(t.observers is not None for t in truths):
        return ORACLE_OBSERVERS
    return ""


def predict_saliency(model, items: Sequence[SaliencyItem], image_size, device="cpu",
                     batch_size: int = 8) -> np.ndarray:
    """The network's own output maps ``(N, h, w)`` at its output size — nothing clipped or rescaled."""
    dataset = SaliencyDataset(items, tuple(image_size), model.output_size(tuple(image_size)))
    return predict(model, make_loader(dataset, batch_size), device)[:, 0].numpy().astype(np.float64)


def _fixation_counts(fixations: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """How many fixated pixels of ``fixations`` fall on each pixel of a map of ``shape``."""
    rows, cols = np.nonzero(fixations)
    rows = ((rows + 0.5) * shape[0] // fixations.shape[0]).astype(int)
    cols = ((cols + 0.5) * shape[1] // fixations.shape[1]).astype(int)
    return np.bincount(rows * shape[1] + cols, minlength=shape[0] * shape[1]).reshape(shape)


def other_fixations(truths: Sequence[GroundTruth]) -> Iterator[np.ndarray]:
    """For each image in turn, the fixations of every *other* image mapped onto its size (for
    shuffled AUC). The counts of all images are summed once per size and each image's own removed,
    so scoring N images costs N passes, not N²."""
    totals: dict[tuple[int, int], np.ndarray] = {}
    for truth in truths:
        shape = truth.fixations.shape
        if shape not in totals:
            totals[shape] = sum(_fixation_counts(other.fixations, shape) for other in truths)
        yield (totals[shape] - _fixation_counts(truth.fixations, shape)) > 0


def model_maps(predictions: dict[str, np.ndarray], truth: GroundTruth, centre_sigma: tuple[float, float],
               seed: int = 0) -> dict[str, np.ndarray]:
    """The maps scored for one image, at the ground truth's size: each network's prediction
    (upsampled), the centre-bias baseline, chance (seeded), and on the sample the oracle (its known
    density) and the all-items map. The leave-one-observer-out oracle is scored apart
    (:func:`observer_oracle_scores`): it is a different map for each observer."""
    shape = truth.fixations.shape
    maps = {name: upsample(prediction, shape) for name, prediction in predictions.items()}
    maps[CENTRE_BIAS] = metrics.centre_bias_map(shape, centre_sigma)
    maps[CHANCE] = metrics.chance_map(shape, seed=seed)
    if truth.known_density is not None:
        maps[ORACLE_SAMPLE] = truth.known_density
    if truth.items is not None:
        maps[ALL_ITEMS] = samples.all_items_map(truth.items, shape[::-1])
    return maps


def score_map(saliency: np.ndarray, truth: GroundTruth, other: np.ndarray, baseline: np.ndarray,
              jitter: bool = True, seed: int = 0) -> dict[str, float]:
    """Every metric of :data:`helpers.metrics.METRICS` whose ground truth ``truth`` has, for one map
    already at the ground truth's size."""
    context = metrics.ScoringContext(other, baseline, jitter, seed)
    return {metric.name: metric.compute(saliency, truth, context) for metric in metrics.METRICS
            if metric.available(truth)}


def observer_oracle_scores(truth: GroundTruth, other: np.ndarray, baseline: np.ndarray, jitter: bool = True,
                           seed: int = 0) -> dict[str, float]:
    """Leave one observer out: each observer's fixations scored against the others' fixations blurred
    by the MIT benchmark's Gaussian (:func:`helpers.metrics.mit_blur_sigma`); the mean over observers."""
    sigma = metrics.mit_blur_sigma(truth.fixations.shape)
    everyone = np.sum(truth.observers, axis=0, dtype=np.float64)
    rows = []
    for observer in truth.observers:
        if not observer.any():
            continue
        others = gaussian_filter(everyone - observer, sigma)
        alone = GroundTruth(observer, truth.density)
        rows.append(score_map(others, alone, other, baseline, jitter=jitter, seed=seed))
    return {name: float(np.nanmean([row[name] for row in rows])) for name in rows[0]} if rows else {}


def evaluate(predictions: dict[str, np.ndarray], items: Sequence[SaliencyItem], centre_sigma: tuple[float, float],
             jitter: bool = True, seed: int = 0, progress: bool = True) -> pd.DataFrame:
    """One row per image and model — each network of ``predictions`` (name → maps ``(N, h, w)``), the
    baselines, the oracle where the data allow one — with every metric; each prediction is
    upsampled to the fixation map's resolution once."""
    truths = [load_ground_truth(item) for item in items]
    rows = []
    scored = zip(items, truths, other_fixations(truths))
    for index, (item, truth, other) in enumerate(tqdm(scored, total=len(items), desc="scoring", disable=not progress)):
        maps = model_maps({name: maps[index] for name, maps in predictions.items()}, truth, centre_sigma, seed + index)
        by_model = {name: score_map(saliency, truth, other, maps[CENTRE_BIAS], jitter=jitter, seed=seed + index)
                    for name, saliency in maps.items()}
        if truth.observers is not None:
            by_model[ORACLE_OBSERVERS] = observer_oracle_scores(truth, other, maps[CENTRE_BIAS], jitter, seed + index)
        for model_name, scores in by_model.items():
            rows.append({"model": model_name, "category": item.category, "image": item.stimulus.stem,
                         "fixated_pixels": int(truth.fixations.sum()), **scores})
    return pd.DataFrame(rows)


#: The metrics shown per category, each with its standard error over the category's images (column
#: ``"<metric> SE"``): on a few displays a category's mean is uncertain, and a reader should see how much.
PER_CATEGORY_METRICS = ("AUC-Judd", metrics.SINGLETON_AUC)
SE = " SE"


def summarise(scores: pd.DataFrame) -> pd.DataFrame:
    """Mean of every metric per model, per category and over all images (category ``"all"``), with the
    standard error of the mean of :data:`PER_CATEGORY_METRICS`.

    ``images`` counts the images that were scored — those with a finite AUC-Judd; an image without
    fixations has none and is left out of every mean that needs fixations."""
    metric_names = [metric.name for metric in metrics.METRICS if metric.name in scores]
    per_category = scores.groupby(["model", "category"], sort=False)[metric_names].mean()
    overall = scores.groupby("model", sort=False)[metric_names].mean()
    overall.index = pd.MultiIndex.from_product([overall.index, ["all"]], names=["model", "category"])
    table = pd.concat([per_category, overall]).sort_index(level=0, sort_remaining=False)
    scored = scores.assign(all="all", scored=np.isfinite(scores["AUC-Judd"]))
    counts = pd.concat([scored.groupby(["model", "category"])["scored"].sum(),
                        scored.groupby(["model", "all"])["scored"].sum().rename_axis(["model", "category"])])
    table.insert(0, "images", [int(counts[key]) for key in table.index])
    for name in (name for name in PER_CATEGORY_METRICS if name in metric_names):   # n − 1 in the variance
        errors = pd.concat([scores.groupby(["model", "category"], sort=False)[name].sem(),
                            scores.assign(all="all").groupby(["model", "all"])[name].sem()])
        table[f"{name}{SE}"] = [float(errors[key]) for key in table.index]
    return table


def per_model(table: pd.DataFrame) -> tuple[dict, dict]:
    """``(overall, per_category)`` of a :func:`summarise` table as plain dicts: model → metric → mean,
    and model → category → metric → mean (the metrics record's layout)."""
    overall = {model: {k: v for k, v in table.loc[(model, "all")].to_dict().items() if not k.endswith(SE)}
               for model in table.index.unique(level=0)}
    per_category: dict[str, dict] = {}
    for (model, category), row in table.iterrows():
        if category != "all":   # a standard error only where there is one (two images or more)
            per_category.setdefault(model, {})[category] = {k: v for k, v in row.to_dict().items()
                                                            if not (k.endswith(SE) and not np.isfinite(v))}
    return overall, per_category


def upsample(prediction: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A network's output at the ground truth's size, as the benchmark scores a saved map: MATLAB's
    bicubic ``imresize``, then scaled to [0, 1] (lowest value 0, highest 1) — an affine map of the
    output, so every metric that normalises scores the network's own values, and KL, which only
    divides by the sum, gets no negative mass. Nothing is clipped."""
    resized = metrics.imresize(prediction, shape)
    low, high = resized.min(), resized.max()
    return (resized - low) / (high - low) if high > low else np.zeros_like(resized)


def is_no_learning(name: str) -> bool:
    """Whether a row of a table is one of the no-learning maps (:mod:`helpers.baselines`)."""
    return name.startswith(f"{NO_LEARNING}: ")


def in_category(per_category: dict[str, dict[str, dict[str, float]]], category: str) -> dict[str, dict[str, float]]:
    """Every map's scores in one category (model → metric → score), from a per-category table."""
    return {name: by_category.get(category, {}) for name, by_category in per_category.items()}


def best_no_learning(rows: dict[str, dict[str, float]], metric: str, leave_out: str = "") -> tuple[str, float] | None:
    """``(row, score)`` of the no-learning row that does best on ``metric`` among ``rows`` (model →
    metric → score), ``leave_out`` excepted; ``None`` when there is none."""
    better = metrics.METRIC_BY_NAME[metric].higher_is_better
    scored = {name: row[metric] for name, row in rows.items()
              if is_no_learning(name) and name != leave_out and metric in row and np.isfinite(row[metric])}
    if not scored:
        return None
    best = (max if better else min)(scored, key=scored.get)
    return best, scored[best]


def quality_bars(overall: dict[str, dict[str, float]], network: str, oracle: str,
                 per_category: dict[str, dict[str, dict[str, float]]] | None = None) -> dict[str, bool]:
    """Whether ``network`` meets each bar the sample sets, each placed by the rule of
    :data:`OVERALL_SHARE` (see there): the singleton AUC overall and in every category, AUC-Judd, all
    towards the oracle (towards 1.0, the best a singleton AUC can be, where the table has no oracle);
    NSS ≥ 1; better than the centre bias on every metric (lower KL, IG above 0); and — where the table
    has no-learning rows — better than the best of them on singleton AUC, NSS and KL, and on each face
    category :data:`CATEGORY_SHARE` of the way from the best of them there to the oracle. A no-learning
    row is judged against the others."""
    net, centre = overall[network], overall[CENTRE_BIAS]
    result = {}
    if metrics.SINGLETON_AUC in net:
        target = bar_between(CHANCE_SINGLETON_AUC, _ceiling(overall.get(oracle)), OVERALL_SHARE)
        result[f"singleton AUC ≥ {target:.3f} ({OVERALL_SHARE:.0%} from chance to the oracle)"] = \
            net[metrics.SINGLETON_AUC] >= target
        result.update(category_bars(per_category or {}, network, oracle, faces=False))
    if oracle in overall:
        target = bar_between(centre["AUC-Judd"], overall[oracle]["AUC-Judd"], CATEGORY_SHARE)
        result[f"AUC-Judd ≥ {target:.4f} ({CATEGORY_SHARE:.0%} from centre bias to oracle)"] = net["AUC-Judd"] >= target
    result["NSS ≥ 1.0"] = net["NSS"] >= 1.0
    for metric in metrics.METRICS:
        if metric.bar_against_centre and metric.name in net and metric.name in centre:
            rival = 0.0 if metric.relative_to_centre else centre[metric.name]
            result[metric.bar()] = metric.better(net[metric.name], rival)
    for name in AGAINST_NO_LEARNING:
        best = best_no_learning(overall, name, leave_out=network)
        if best is not None and name in net:
            metric = metrics.METRIC_BY_NAME[name]
            result[f"{name} {'above' if metric.higher_is_better else 'below'} the best no-learning map's "
                   f"({best[1]:.3f}, {best[0][len(NO_LEARNING) + 2:]})"] = metric.better(net[name], best[1])
    result.update(category_bars(per_category or {}, network, oracle, chance=False))
    return result


def _ceiling(row: dict | None) -> float:
    """The oracle's singleton AUC, or the best there can be (1.0) where the table has no oracle."""
    return row.get(metrics.SINGLETON_AUC, 1.0) if row else 1.0


def category_targets(per_category: dict[str, dict[str, dict[str, float]]], network: str, oracle: str,
                     chance: bool = True, faces: bool = True) -> list[tuple[str, str, float, float]]:
    """``(category, bar's label, bar, network's singleton AUC)`` of each bar of :func:`quality_bars` that one
    category's displays decide, by the same rule: in every category :data:`CATEGORY_SHARE` of the way
    from chance to the oracle (``chance``), and in each face category as far from the best no-learning
    map there (``faces``). ``per_category``: map → category → metric → mean, from any set of displays
    (the test split, or a larger draw)."""
    targets = []
    for category, row in per_category.get(network, {}).items():
        if metrics.SINGLETON_AUC not in row:
            continue
        score, oracle_there = row[metrics.SINGLETON_AUC], _ceiling(per_category.get(oracle, {}).get(category))
        if chance:
            bar = bar_between(CHANCE_SINGLETON_AUC, oracle_there, CATEGORY_SHARE)
            targets.append((category, f"singleton AUC ≥ {bar:.3f} in {category} ({CATEGORY_SHARE:.0%} from chance to "
                                      "the oracle)", bar, score))
        best = best_no_learning(in_category(per_category, category), metrics.SINGLETON_AUC, leave_out=network)
        if faces and category in samples.FACE_CATEGORIES and best is not None:
            bar = bar_between(best[1], oracle_there, CATEGORY_SHARE)
            targets.append((category, f"singleton AUC in {category} ≥ {bar:.3f} ({CATEGORY_SHARE:.0%} from the best "
                                      f"no-learning map's {best[1]:.3f} to the oracle)", bar, score))
    return targets


def category_bars(per_category: dict[str, dict[str, dict[str, float]]], network: str, oracle: str,
                  chance: bool = True, faces: bool = True) -> dict[str, bool]:
    """:func:`category_targets` as :func:`quality_bars` gives them: bar's label → met."""
    targets = category_targets(per_category, network, oracle, chance, faces)
    return {label: score >= bar for _, label, bar, score in targets}


def too_few_to_judge(per_category: dict[str, dict[str, dict[str, float]]], network: str) -> str:
    """A sentence naming each category where the standard error of ``network``'s singleton AUC exceeds
    :data:`JUDGING_SE` — too few displays to judge that category's bars on — or ``""`` where none does."""
    key = f"{metrics.SINGLETON_AUC}{SE}"
    wide = {category: row[key] for category, row in per_category.get(network, {}).items()
            if row.get(key, 0.0) > JUDGING_SE}
    if not wide:
        return ""
    said = ", ".join(f"{category} (± {error:.3f})" for category, error in wide.items())
    return (f"Too few test displays for a sure verdict on the bars of {said}: a standard error above {JUDGING_SE} "
            "(docs/part1-sample.md judges every category's bars again on 100 fresh displays per category).")


def no_learning_margins(overall: dict[str, dict[str, float]], network: str) -> dict[str, float]:
    """``network``'s score less the best no-learning row's on each metric of :data:`AGAINST_NO_LEARNING`
    (empty when the table has no such row; signed so that positive is better, for KL too): what
    training adds over maps with no trained parameter."""
    margins = {}
    for name in AGAINST_NO_LEARNING:
        best = best_no_learning(overall, name, leave_out=network)
        if best is not None and name in overall[network]:
            sign = 1 if metrics.METRIC_BY_NAME[name].higher_is_better else -1
            margins[name] = sign * (overall[network][name] - best[1])
    return margins


def gain_over_no_learning(per_category: dict[str, dict[str, dict[str, float]]], network: str,
                          metric_names: Sequence[str] = (metrics.SINGLETON_AUC, "NSS", "AUC-Judd")) -> pd.DataFrame:
    """What ``network`` adds over the best no-learning map, per category: one row per category, for
    each metric ``network``'s score, the best no-learning map's, and the difference
    (positive: better, KL's sign turned)."""
    rows = []
    for category, row in per_category.get(network, {}).items():
        others = in_category(per_category, category)
        line = {"category": category}
        for name in metric_names:
            best = best_no_learning(others, name, leave_out=network)
            if best is None or name not in row:
                continue
            sign = 1 if metrics.METRIC_BY_NAME[name].higher_is_better else -1
            line.update({f"{name}": row[name], f"{name}, best no learning": best[1],
                         f"{name} added": sign * (row[name] - best[1])})
        rows.append(line)
    return pd.DataFrame(rows).set_index("category") if rows else pd.DataFrame()


def mean_auc_judd(maps: Sequence[np.ndarray], truths: Sequence[GroundTruth]) -> float:
    """The mean AUC-Judd of maps already at their ground truth's size (images without fixations left out)."""
    return float(np.nanmean([metrics.auc_judd(m, t.fixations) for m, t in zip(maps, truths)]))


class HeldOutScorer:
    """``fit``'s ``held_out_scores``: the network's mean AUC-Judd on the held-out images (``loader``
    holds them, in ``items``' order) — and the mean singleton AUC where the data label the items. The
    ground truth is read at the first call."""

    def __init__(self, items: Sequence[SaliencyItem], loader, device="cpu"):
        self.items, self.loader, self.device = items, loader, device
        self.truths: list[GroundTruth] = []

    def __call__(self, model) -> dict[str, float]:
        if not self.truths:
            self.truths.extend(load_ground_truth(item) for item in self.items)
        outputs = predict(model, self.loader, self.device)[:, 0].numpy().astype(np.float64)
        maps = [upsample(output, truth.fixations.shape) for output, truth in zip(outputs, self.truths)]
        scores = {"AUC-Judd": mean_auc_judd(maps, self.truths)}
        if all(t.labels is not None for t in self.truths):
            scores[metrics.SINGLETON_AUC] = float(np.nanmean([metrics.singleton_auc(m, t.labels)
                                                              for m, t in zip(maps, self.truths)]))
        return scores
