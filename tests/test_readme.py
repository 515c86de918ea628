"""Every number the README quotes from a measurement is the committed results file's: prose and
results cannot drift apart."""
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_part1_section_of_the_readme_is_generated_from_the_committed_results_file():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from part1_sample import ORDER, RESULTS, SHOWN, readme_block

    results = json.loads(RESULTS.read_text())
    assert set(ORDER) <= set(results["rows"]) and all(set(SHOWN) <= set(results["rows"][name]) for name in ORDER)
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- part1-sample:begin -->\n(.*)\n<!-- part1-sample:end -->", readme, re.S)
    assert block, "the README has no part1-sample block"
    assert block.group(1) == readme_block(results)
