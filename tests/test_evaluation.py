"""Scoring saliency maps: the summary table and the best / worst images."""
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.data import SaliencyItem
from helpers.evaluation import CENTRE_BIAS, NETWORK, best_and_worst, per_model, summarise


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


def test_best_and_worst_are_matched_to_items_by_name_not_row_order():
    items = [SaliencyItem(c, Path(f"/s/{c}/{n}.jpg"), Path("m"), Path("f")) for c, n in
             (("A", "001"), ("A", "002"), ("B", "003"))]
    # rows deliberately in another order than the items, with the baselines in between
    scores = scores_table([(CENTRE_BIAS, "B", "003", 0.99, 0), (NETWORK, "B", "003", 0.9, 0),
                           (NETWORK, "A", "002", 0.1, 0), (NETWORK, "A", "001", 0.5, 0)])
    picked = best_and_worst(scores, items, count=1)
    assert [(item.stimulus.stem, score) for item, score, _ in picked] == [("003", 0.9), ("002", 0.1)]
    assert [label for *_, label in picked] == ["best: AUC-Judd 0.900", "worst: AUC-Judd 0.100"]
    assert np.isfinite([score for _, score, _ in picked]).all()
