"""Every number the README quotes from a measurement is the committed results file's: prose and
results cannot drift apart."""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_loss_table_in_the_readme_is_the_committed_results_file():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from saliency_loss import RESULTS, SHOWN, markdown_table

    results = json.loads(RESULTS.read_text())
    assert {(run["sample_seed"], run["loss"]) for run in results["runs"]} == {(0, "mse"), (0, "kld"), (7, "mse"),
                                                                              (7, "kld")}
    assert all(set(SHOWN) <= set(run["SalNet (half)"]) for run in results["runs"])
    assert markdown_table(results["runs"]) in (ROOT / "README.md").read_text()
