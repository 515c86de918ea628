"""The leak audit of the sample's face displays: every low-level statistic a hand-made operator could
read — of each glyph alone, and of a glyph against the others of its display — as P(the face's value > a
distractor's in the same display), on this version of the sample and on version 3 (whose leaks made the face
findable by a symmetry map with no learning).

    python benchmarks/leak_audit.py      # about a minute on 2 CPU cores

Writes ``docs/results/leak_audit.json`` and the audit table of ``docs/part1-sample.md`` (between its
leak-audit markers; ``tests/test_readme.py`` checks that the two agree).
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import glyph_audit as leak_audit  # noqa: E402
from helpers import samples  # noqa: E402
from helpers.io import replace_marked_block, write_json_atomic  # noqa: E402

RESULTS = ROOT / "docs" / "results" / "leak_audit.json"
PAGE = ROOT / "docs" / "part1-sample.md"
MARKERS = ("<!-- leak-audit:begin -->\n", "\n<!-- leak-audit:end -->")
DISPLAYS, SEED = 300, 11
#: What version 3 called the category whose distractors are now upside-down faces.
FORMER_NAMES = {"3": {"FaceAmongInverted": "FaceAmongScrambled"}}
LOW, HIGH = 0.35, 0.65


def measure() -> dict:
    """Both versions' audit tables, category → statistic → P(face > distractor)."""
    from sample_version_3_faces import make_display as version_3

    tables = {}
    for version, make in ((samples.SAMPLE_VERSION, samples.make_search_display), (3, version_3)):
        tables[str(version)] = {category: leak_audit.audit(leak_audit.face_displays(category, DISPLAYS, SEED + k, make),
                                                           category)
                                for k, category in enumerate(samples.FACE_CATEGORIES)}
    return {"displays_per_category": DISPLAYS, "seed": SEED, "command": "python benchmarks/leak_audit.py",
            "versions": tables}


def readme_block(results: dict) -> str:
    """The audit table: one row per statistic, one column per version and face category."""
    versions = results["versions"]
    columns = [(version, category) for version in versions for category in samples.FACE_CATEGORIES]

    def cell(value: float) -> str:
        return f"{value:.2f}" if LOW <= value <= HIGH else f"**{value:.2f}**"

    lines = [f"P(the face's value > a distractor's in the same display) over {results['displays_per_category']} displays "
             f"of each face category (`{results['command']}`); 0.5: the statistic says nothing about which glyph is "
             f"the face; **bold**: outside [{LOW}, {HIGH}], a leak. The last {len(leak_audit.RELATIONS)} rows relate a "
             "glyph to the other glyphs of its display (what a rarity map reads); the rest measure each glyph alone.",
             "",
             "| statistic | " + " | ".join(f"v{version}: {FORMER_NAMES.get(version, {}).get(category, category)}"
                                          for version, category in columns) + " |",
             "|---|" + "---|" * len(columns)]
    for name in leak_audit.ALL_STATISTICS:
        lines.append(f"| {name} | " + " | ".join(cell(versions[v][c][name]) for v, c in columns) + " |")
    return "\n".join(lines)


def main() -> int:
    results = measure()
    write_json_atomic(RESULTS, results)
    replace_marked_block(PAGE, *MARKERS, readme_block(results))
    print(readme_block(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
