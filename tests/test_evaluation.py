"""Scoring saliency maps: the summary table and the best / worst images."""
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from helpers import evaluation, metrics
from helpers.data import SaliencyItem, load_ground_truth, no_oracle_reason
from helpers.evaluation import ALL_ITEMS, CENTRE_BIAS, NETWORK, ORACLE_OBSERVERS, ORACLE_SAMPLE, per_model, summarise
from helpers.plots import best_and_worst


def scores_table(rows):
    return pd.DataFrame([{"model": m, "category": c, "image": i, "AUC-Judd": a, "NSS": n} for m, c, i, a, n in rows])


def test_the_images_column_counts_only_images_that_were_scored():
    scores = scores_table([
        (NETWORK, "A", "001", 0.8, 1.0), (NETWORK, "A", "002", math.nan, math.nan),  # 002: no fixations
        (NETWORK, "B", "003", 0.6, 0.5), (CENTRE_BIAS, "A", "001", 0.7, 0.2),
        (CENTRE_BIAS, "A", "002", math.nan, math.nan), (CENTRE_BIAS, "B", "003", 0.5, 0.1)])
    table = summarise(scores)
    assert table.loc[(NETWORK, "A"), "images"] == 1 and table.loc[(NETWORK, "all"), "images"] == 2
    assert table.loc[(NETWORK, "all"), "AUC-Judd"] == pytest.approx(0.7)  # NaN left out of the mean
    overall, per_category = per_model(table)
    assert overall[CENTRE_BIAS]["AUC-Judd"] == pytest.approx(0.6)
    assert per_category[NETWORK]["B"]["NSS"] == pytest.approx(0.5) and "all" not in per_category[NETWORK]


def test_each_category_carries_the_standard_error_of_its_mean_and_the_overall_scores_do_not():
    """AUC-Judd's standard error per category, by hand: the sample's sd (n − 1) over √n of the images scored."""
    scores = scores_table([(NETWORK, "A", "001", 0.9, 1.0), (NETWORK, "A", "002", 0.7, 1.0),
                           (NETWORK, "A", "003", 0.5, 1.0), (NETWORK, "B", "004", 0.6, 0.5),
                           (NETWORK, "B", "005", math.nan, math.nan)])
    table = summarise(scores)
    assert table.loc[(NETWORK, "A"), "AUC-Judd SE"] == pytest.approx(0.2 / math.sqrt(3))
    assert math.isnan(table.loc[(NETWORK, "B"), "AUC-Judd SE"])          # one image scored: no error to give
    overall, per_category = per_model(table)
    assert per_category[NETWORK]["A"]["AUC-Judd SE"] == pytest.approx(0.2 / math.sqrt(3))
    assert "AUC-Judd SE" not in per_category[NETWORK]["B"]                # none to record: the record compares equal
    assert not any(name.endswith(" SE") for name in overall[NETWORK])


def test_best_and_worst_are_matched_to_items_by_name_not_row_order():
    items = [SaliencyItem(c, Path(f"/s/{c}/{n}.jpg"), Path("m"), Path("f")) for c, n in
             (("A", "001"), ("A", "002"), ("B", "003"))]
    # rows deliberately in another order than the items, with the baselines in between
    scores = scores_table([(CENTRE_BIAS, "B", "003", 0.99, 0), (NETWORK, "B", "003", 0.9, 0),
                           (NETWORK, "A", "002", 0.1, 0), (NETWORK, "A", "001", 0.5, 0)])
    picked = best_and_worst(scores, items, count=1)
    assert [(item.stimulus.stem, label) for item, label in picked] == [
        ("003", "best: AUC-Judd 0.900"), ("002", "worst: AUC-Judd 0.100")]


def test_a_network_output_is_scored_as_it_is_not_clipped():
    """The issue's example: a ReLU-zeroed map. Clipping its lower half made one big tie that jitter
    ordered at random; the affine scaling keeps every value's rank, so the AUC is the map's own."""
    rng = np.random.default_rng(0)
    fixations = np.zeros((40, 60), dtype=bool)
    fixations[rng.integers(0, 40, 30), rng.integers(0, 60, 30)] = True
    output = rng.normal(size=(40, 60)) - 1.5 * fixations   # fixated pixels *lower*: an AUC well below 0.5
    scaled = evaluation.upsample(output, (40, 60))
    assert scaled.min() == 0.0 and scaled.max() == 1.0
    assert np.array_equal(np.argsort(scaled, axis=None), np.argsort(output, axis=None))   # same order
    own = metrics.auc_judd(output, fixations, jitter=False)
    assert metrics.auc_judd(scaled, fixations, jitter=False) == pytest.approx(own, abs=1e-12)
    clipped = ((output + 1) / 2).clip(0, 1)     # what was scored before: ties at 0 below -1
    assert abs(metrics.auc_judd(clipped, fixations) - own) > 0.02


@pytest.fixture(scope="module")
def sample_scores(small_sample):
    from helpers.data import dirs_loader

    _, held_out = dirs_loader(small_sample, True, 0)
    rng = np.random.default_rng(1)
    noise = {NETWORK: rng.random((len(held_out), 24, 32))}
    return held_out, evaluation.evaluate(noise, held_out, (0.25, 0.25), progress=False)


def test_the_sample_is_scored_against_its_oracle_and_the_all_items_map(sample_scores):
    _, scores = sample_scores
    table = summarise(scores)
    assert {ORACLE_SAMPLE, ALL_ITEMS, CENTRE_BIAS, NETWORK} <= set(table.index.get_level_values(0))
    overall, _ = per_model(table)
    # the known density singles out the odd item; every item marked alike does not; noise neither
    assert overall[ORACLE_SAMPLE][metrics.SINGLETON_AUC] > 0.97
    assert overall[ALL_ITEMS][metrics.SINGLETON_AUC] == pytest.approx(0.5, abs=0.03)
    assert overall[NETWORK][metrics.SINGLETON_AUC] == pytest.approx(0.5, abs=0.1)
    # and AUC-Judd rewards finding items: all items scores far above the centre bias, the oracle higher
    assert overall[ORACLE_SAMPLE]["AUC-Judd"] > overall[ALL_ITEMS]["AUC-Judd"] > overall[CENTRE_BIAS]["AUC-Judd"] + 0.2


def test_bars_judge_a_network_against_the_centre_bias_and_the_oracle(sample_scores):
    _, scores = sample_scores
    overall, per_category = per_model(summarise(scores))
    met = evaluation.quality_bars(overall, ORACLE_SAMPLE, ORACLE_SAMPLE, per_category)
    centre_bars = sum(metric.bar_against_centre for metric in metrics.METRICS)   # as each metric declares
    categories = len(per_category[ORACLE_SAMPLE])
    assert all(met.values()) and len(met) == categories + 1 + 1 + 1 + centre_bars and centre_bars == 8
    # not tautological: "all items" finds the items (above the AUC-Judd mark, above the centre bias)
    # but not the odd one out (every singleton bar missed) — the bars tell the two apart
    items = evaluation.quality_bars(overall, ALL_ITEMS, ORACLE_SAMPLE, per_category)
    mark = next(bar for bar in items if bar.startswith("AUC-Judd ≥"))
    assert items[mark] and items["AUC-Judd above the centre bias"]
    assert not any(ok for bar, ok in items.items() if bar.startswith("singleton AUC"))
    noise = evaluation.quality_bars(overall, NETWORK, ORACLE_SAMPLE, per_category)
    overall_bar = next(bar for bar in noise if bar.startswith("singleton AUC ≥") and " in " not in bar)
    assert not noise[overall_bar] and not noise["NSS ≥ 1.0"] and not all(noise.values())


def test_every_bar_is_a_share_of_the_way_from_what_needs_no_learning_to_the_oracle():
    """The rule docs/part1-sample.md states, worked by hand: chance 0.5, an oracle at 0.98 overall and 0.96
    and 0.90 in two categories, the centre bias's AUC-Judd 0.70 against the oracle's 0.90, and a best
    no-learning map of 0.62 on the face category. No network's score enters a bar."""
    row = {"AUC-Judd": 0.8, "NSS": 2.0, "KL": 1.0, "IG": 1.0, "CC": 0.5, "SIM": 0.5, "AUC-Borji": 0.8, "sAUC": 0.7}
    face = "FaceAmongInverted"
    overall = {CENTRE_BIAS: {**row, "AUC-Judd": 0.70}, ORACLE_SAMPLE: {**row, "AUC-Judd": 0.90, "singleton AUC": 0.98},
               "no learning: x": {**row, "singleton AUC": 0.6}, "net": {**row, "singleton AUC": 0.9}}
    per_category = {ORACLE_SAMPLE: {"ColourSingleton": {"singleton AUC": 0.96}, face: {"singleton AUC": 0.90}},
                    "no learning: x": {"ColourSingleton": {"singleton AUC": 0.9}, face: {"singleton AUC": 0.62}},
                    "net": {"ColourSingleton": {"singleton AUC": 0.8}, face: {"singleton AUC": 0.8}}}
    bars = evaluation.quality_bars(overall, "net", ORACLE_SAMPLE, per_category)
    assert "singleton AUC ≥ 0.884 (80% from chance to the oracle)" in bars            # 0.5 + 0.8 × 0.48
    assert "singleton AUC ≥ 0.776 in ColourSingleton (60% from chance to the oracle)" in bars   # 0.5 + 0.6 × 0.46
    assert "AUC-Judd ≥ 0.8200 (60% from centre bias to oracle)" in bars                # 0.70 + 0.6 × 0.20
    face_bar = f"singleton AUC in {face} ≥ 0.788 (60% from the best no-learning map's 0.620 to the oracle)"
    assert bars[face_bar] is True and bars[f"singleton AUC ≥ 0.740 in {face} (60% from chance to the oracle)"]
    moved = {**overall, "net": {**row, "singleton AUC": 0.99}}
    assert set(evaluation.quality_bars(moved, "net", ORACLE_SAMPLE, per_category)) == set(bars)   # a network moves no bar


def test_a_larger_draw_is_judged_by_the_same_per_category_bars_and_a_wide_standard_error_is_named():
    """category_targets gives quality_bars' per-category bars from any table of category means (the
    test split's, or benchmarks/part1_sample.py's draw of 100 displays per category); too_few_to_judge
    names each category whose singleton AUC's standard error exceeds JUDGING_SE, and only those."""
    face = "FaceAmongInverted"
    per_category = {ORACLE_SAMPLE: {"ColourSingleton": {"singleton AUC": 1.0}, face: {"singleton AUC": 1.0}},
                    "no learning: x": {"ColourSingleton": {"singleton AUC": 0.9}, face: {"singleton AUC": 0.55}},
                    "net": {"ColourSingleton": {"singleton AUC": 0.799, "singleton AUC SE": 0.0301},
                            face: {"singleton AUC": 0.81, "singleton AUC SE": 0.03}}}
    targets = evaluation.category_targets(per_category, "net", ORACLE_SAMPLE)
    assert [(c, round(bar, 3), score) for c, _, bar, score in targets] == [
        ("ColourSingleton", 0.8, 0.799), (face, 0.8, 0.81), (face, 0.82, 0.81)]   # 0.55 + 0.6 × 0.45
    bars = evaluation.category_bars(per_category, "net", ORACLE_SAMPLE)
    assert list(bars.values()) == [False, True, False]
    assert set(bars) <= set(evaluation.quality_bars({CENTRE_BIAS: {"AUC-Judd": 0.6, "NSS": 0.0},
                                                    "net": {"AUC-Judd": 0.7, "NSS": 2.0, "singleton AUC": 0.9}},
                                                   "net", ORACLE_SAMPLE, per_category))
    said = evaluation.too_few_to_judge(per_category, "net")
    assert "ColourSingleton (± 0.030)" in said and face not in said
    assert evaluation.too_few_to_judge({"net": {face: {"singleton AUC": 0.9, "singleton AUC SE": 0.02}}}, "net") == ""


def test_salicon_observers_give_a_leave_one_out_oracle_and_pooled_data_none(tmp_path):
    import shutil

    from helpers.data import find_mit1003, find_salicon
    from helpers.samples import write_saliency_sample

    root = write_saliency_sample(tmp_path / "salicon", images_per_category=2, seed=4, layout="salicon")
    shutil.rmtree(root / "truth")     # as real SALICON: no known density, but three observers per image
    items = find_salicon(root, "train")[:3]
    truths = [load_ground_truth(item) for item in items]
    assert evaluation.oracle_name(truths) == ORACLE_OBSERVERS and len(truths[0].observers) == 3
    scores = evaluation.evaluate({NETWORK: np.random.default_rng(0).random((3, 12, 16))}, items, (0.25, 0.25),
                                 progress=False)
    oracle = scores[scores["model"] == ORACLE_OBSERVERS]
    assert len(oracle) == 3 and (oracle["AUC-Judd"] > 0.75).all()   # the others' fixations predict each observer
    mit = write_saliency_sample(tmp_path / "mit", images_per_category=1, seed=4, layout="mit1003")
    shutil.rmtree(mit / "truth")
    assert evaluation.oracle_name([load_ground_truth(find_mit1003(mit)[0])]) == ""
    assert "pool every observer" in no_oracle_reason("mit1003")


def test_a_metric_added_to_the_table_is_a_bar_only_when_it_declares_so(sample_scores, monkeypatch):
    _, scores = sample_scores
    overall, per_category = per_model(summarise(scores))
    before = evaluation.quality_bars(overall, ORACLE_SAMPLE, ORACLE_SAMPLE, per_category)
    for row in overall.values():
        row["CC at half scale"] = row["CC"]
    for declared, added in ((False, 0), (True, 1)):
        half = metrics.Metric("CC at half scale", lambda s, t, c: 0.0, "density", bar_against_centre=declared)
        monkeypatch.setattr(metrics, "METRICS", (*metrics.METRICS, half))
        after = evaluation.quality_bars(overall, ORACLE_SAMPLE, ORACLE_SAMPLE, per_category)
        assert len(after) == len(before) + added


def test_the_held_out_scorer_reads_the_ground_truth_once_and_scores_the_auc_judd_of_the_upsampled_map(monkeypatch):
    """fit's held-out scores each epoch: the ground truth is read at the first call only."""
    from helpers.data import GroundTruth

    reads = []
    fixations = np.zeros((6, 8), bool)
    fixations[1, 2] = fixations[4, 5] = True

    def read(item):
        reads.append(item)
        return GroundTruth(fixations=fixations, density=fixations.astype(float))

    monkeypatch.setattr(evaluation, "load_ground_truth", read)
    ramp = torch.arange(24.0).reshape(1, 1, 4, 6) / 24      # brightest at the bottom right
    monkeypatch.setattr(evaluation, "predict", lambda model, loader, device: ramp.expand(2, 1, 4, 6))
    scorer = evaluation.HeldOutScorer(["first", "second"], loader=None)
    for _ in range(3):
        scores = scorer(model=None)
    assert reads == ["first", "second"]
    expected = metrics.auc_judd(evaluation.upsample(ramp[0, 0].numpy().astype(np.float64), (6, 8)), fixations)
    assert scores == {"AUC-Judd": pytest.approx(expected)}
