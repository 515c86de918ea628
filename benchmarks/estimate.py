"""The run-time estimate against what the run then took, for notebook 01's two smoke runs.

    python benchmarks/estimate.py      # about 5 minutes on 2 CPU cores

Trains the halved SalNet and the second model under the smoke profile on the generated sample (into a
scratch folder: your checkpoints are not touched, and the decode cache starts empty, as on a first
run), and prints, for each, what the run said after its first steps — the first epoch, and each later
epoch — and after its first epoch, beside what the epochs then took. The estimates leave validation
out until the first epoch has ended; the epochs' times include it. The CPU's kind is printed with the
figures (`helpers.parallel.cpu_computes_bf16`).
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
    kind = "with bf16 instructions" if parallel.cpu_computes_bf16() else "without bf16 instructions (fp32)"
    print(f"CPU: {os.cpu_count()} cores, {kind}")
    os.environ["SALIENCY_PROGRESS_BARS"] = "0"   # the estimate's lines, not the bars
    with tempfile.TemporaryDirectory(prefix="estimate-") as scratch:
        for name in ("CHECKPOINT", "REPORT", "CACHE"):
            os.environ[f"SALIENCY_{name}_DIR"] = str(Path(scratch) / name.lower())
        for label, spec_class in RUNS.items():
            spec = spec_class.from_values({"dataset": "sample"}, "smoke", report=None)
            run = saliency.train(spec, device="cpu").run
            seconds = [row["seconds"] for row in run.history]
            later = sum(seconds[1:]) / max(len(seconds) - 1, 1)
            estimates = run.estimates
            print(f"\n{label}: epochs took " + ", ".join(f"{s:.1f}" for s in seconds) + " s")
            print(f"  first epoch, after the first steps:  {compared(estimates['first_epoch'], seconds[0])}")
            print(f"  a later epoch, after the first steps: {compared(estimates['later_epoch'], later)}")
            print(f"  a later epoch, after the first epoch: {compared(estimates['later_epoch_after_first'], later)}")
            whole = estimates["first_epoch"] + (len(seconds) - 1) * estimates["later_epoch"]
            print(f"  the whole run, after the first steps: {compared(whole, sum(seconds))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
