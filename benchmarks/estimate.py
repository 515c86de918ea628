"""The run-time estimate against what the run then took, for notebook 01's two smoke runs.

    python benchmarks/estimate.py      # about 5 minutes on 2 CPU cores

Trains the halved SalNet and the second model under the smoke profile on the generated sample (into a
scratch folder: your checkpoints are not touched, and the decode cache starts empty, as on a first
run), and prints, for each, what the run said beside what then happened: after its first steps, the
training of the first epoch and of each later one (that estimate says validation is not counted; it is
compared with the epochs' training, their held-out pass left out); after its first epoch, the remaining
epochs whole (validation and held-out scores included). The CPU's kind is printed with the figures
(`helpers.parallel.cpu_kind`).
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from helpers import parallel, saliency  # noqa: E402
from helpers.spec import ContrastSpec, SaliencySpec  # noqa: E402

RUNS = {"SalNet (half), smoke": SaliencySpec, "second model, smoke": ContrastSpec}


def compared(estimate: float, actual: float) -> str:
    return f"{estimate:7.1f} s against {actual:7.1f} s ({100 * (estimate - actual) / actual:+.0f} %)"


def main() -> int:
    precision = "bf16 autocast" if parallel.cpu_computes_bf16() else "float32"
    print(f"CPU: {parallel.cpu_kind()} (training in {precision})")
    os.environ["SALIENCY_PROGRESS_BARS"] = "0"   # the estimate's lines, not the bars
    with tempfile.TemporaryDirectory(prefix="estimate-") as scratch:
        for name in ("CHECKPOINT", "REPORT", "CACHE"):
            os.environ[f"SALIENCY_{name}_DIR"] = str(Path(scratch) / name.lower())
        for label, spec_class in RUNS.items():
            spec = spec_class.from_values({"dataset": "sample"}, "smoke", report=None)
            run = saliency.train(spec, device="cpu").run
            seconds = [row["seconds"] for row in run.history]
            training = [row["seconds"] - row["validation_seconds"] for row in run.history]
            later = len(seconds) - 1
            estimates = run.estimates
            print(f"\n{label}: epochs took " + ", ".join(f"{s:.1f}" for s in seconds) + " s, of which training "
                  + ", ".join(f"{s:.1f}" for s in training) + " s (the rest validation and held-out scores)")
            print("  said after the first steps (training, validation not counted):")
            print(f"    the first epoch's training:      {compared(estimates['first_epoch'], training[0])}")
            print(f"    a later epoch's training:        {compared(estimates['later_epoch'], sum(training[1:]) / later)}")
            whole = estimates["first_epoch"] + later * estimates["later_epoch"]
            print(f"    the training in all:             {compared(whole, sum(training))}")
            print("  said after the first epoch (everything):")
            print(f"    the {later} remaining epochs:        "
                  f"{compared(later * estimates['later_epoch_after_first'], sum(seconds[1:]))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
