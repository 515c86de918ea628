"""The sample's leak audit (benchmarks/glyph_audit.py): on the face displays no low-level statistic tells
the face from the distractors — and the audit finds the leaks of the sample's version 3."""
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import glyph_audit as leak_audit  # noqa: E402
from helpers import samples  # noqa: E402
from sample_version_3_faces import make_display as version_3_display

DISPLAYS = 150   # a category's displays in each audit: some 1,500 face–distractor pairs


@pytest.mark.slow
@pytest.mark.parametrize("category", samples.FACE_CATEGORIES)
def test_no_statistic_of_one_glyph_tells_the_face_but_its_relation_to_the_others_does_in_version_4(category):
    """Version 4's face has the statistics of its distractors, but it is the one glyph with no near copy in its
    display: every relational statistic singles it out (a rarity map finds it: docs/part1-sample.md)."""
    table = leak_audit.audit(leak_audit.face_displays(category, DISPLAYS, seed=11), category)
    assert set(table) == set(leak_audit.ALL_STATISTICS)
    assert set(leak_audit.leaks(table)) == set(leak_audit.RELATIONS)
    assert all(table[name] > 0.95 for name in leak_audit.RELATIONS)


@pytest.mark.slow
def test_the_audit_finds_what_leaked_from_the_version_3_face_displays():
    """Version 3's upright face was the one mirror-symmetric glyph, its ink higher and more spread."""
    table = leak_audit.audit(leak_audit.face_displays("FaceAmongInverted", DISPLAYS, seed=11, make=version_3_display),
                             "FaceAmongInverted")
    found = leak_audit.leaks(table)
    assert found["mirror symmetry, vertical axis"] > 0.9 and found["ink centroid, vertical"] < 0.2
    assert found["ink spread, vertical"] > 0.8
    assert "colour, hue" not in found and "size" not in found   # what really was the same stays at 0.5


def test_a_statistic_is_compared_within_a_display_and_ties_count_half():
    image = np.zeros((80, 160, 3), np.uint8)
    image[10:30, 10:30] = 200            # the "face": a bright square
    image[10:30, 90:110] = 200           # a distractor just like it
    image[50:70, 50:70] = 100            # a darker one
    items = [(20.0, 20.0, 10.0), (100.0, 20.0, 10.0), (60.0, 60.0, 10.0)]
    table = leak_audit.audit([(image, items)], "FaceAmongInverted")
    assert table["colour, lightness"] == pytest.approx((0.5 + 1.0) / 2)   # a tie, then brighter
    assert table["size"] == 0.5
    # the "face" and the first distractor are copies (distance 0), the darker one has none: 0 > 0 ties, 0 < d
    assert table["nearest other glyph, pixels"] == pytest.approx((0.5 + 0.0) / 2)
