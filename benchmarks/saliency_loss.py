"""What Part 1's ``LOSS`` does to the halved SalNet on the generated sample: MSE (Table 2) against the
KL divergence of the two maps as distributions, each trained with the smoke profile on samples drawn
with two seeds, scored on the held-out displays as notebook 02 scores them, beside the centre bias.

    python benchmarks/saliency_loss.py            # about 10 minutes on 2 CPU cores

Writes ``docs/results/saliency_loss.json`` (the README's table is read from it, and a test checks
that the two agree) and prints the table. Each run trains in a temporary folder: no checkpoint of
yours is touched.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from helpers import evaluation, metrics, saliency  # noqa: E402
from helpers.io import write_json_atomic  # noqa: E402
from helpers.spec import SaliencySpec  # noqa: E402

RESULTS = ROOT / "docs" / "results" / "saliency_loss.json"
SHOWN = ("AUC-Judd", metrics.SINGLETON_AUC, "NSS", "KL", "IG")


def held_out_scores(trained: saliency.TrainedSaliency) -> dict[str, dict[str, float]]:
    """Notebook 02's means over the held-out displays: the network and the centre bias."""
    items = trained.data.held_out_items
    centre_sigma = metrics.fit_centre_bias(evaluation.load_ground_truth(i).fixations for i in trained.data.train_items)
    predictions = {trained.name: evaluation.predict_saliency(trained.model, items, trained.spec.image_size, "cpu")}
    table = evaluation.summarise(evaluation.evaluate(predictions, items, centre_sigma, progress=False))
    overall = evaluation.per_model(table)[0]
    return {name: {m: float(overall[name][m]) for m in SHOWN} for name in (trained.name, evaluation.CENTRE_BIAS)}


def measure(sample_seed: int, loss: str, workspace: Path) -> dict:
    for name in ("DATA", "CACHE", "CHECKPOINT", "REPORT"):
        os.environ[f"SALIENCY_{name}_DIR"] = str(workspace / f"seed{sample_seed}" / name.lower())
    os.environ["SAMPLE_SEED"] = str(sample_seed)
    spec = SaliencySpec.from_values({"loss": loss}, profile="smoke", report=None)
    started = time.perf_counter()
    trained = saliency.train(spec, device="cpu", progress=False)
    return {"spec": spec.as_dict(), "held_out_images": len(trained.data.held_out_items),
            "seconds": round(time.perf_counter() - started), **held_out_scores(trained)}


def markdown_table(runs: list[dict]) -> str:
    """The README's table of these runs (``tests/test_readme.py`` checks the README holds exactly it)."""
    network = saliency.MODEL_NAMES[saliency.SALNET]
    lines = [f"| sample seed | map | training | {' | '.join(SHOWN)} |", "|---|---|---|" + "---|" * len(SHOWN)]
    for run in runs:
        spec = run["spec"]
        training = (f"{spec['optimizer'].upper()} {spec['learning_rate']:g}, batch {spec['batch_size']}, "
                    f"{spec['image_size'][0]}×{spec['image_size'][1]}, {spec['epochs']} epochs")
        for name, label, how in ((network, f"{network}, `LOSS = {run['loss']!r}`", training),
                                 (evaluation.CENTRE_BIAS, "centre bias", "none (fitted on the training fixations)")):
            if name == evaluation.CENTRE_BIAS and run["loss"] != "mse":
                continue  # the same row as the MSE run's: the same held-out displays
            lines.append(f"| {run['sample_seed']} | {label} | {how} | "
                         + " | ".join(f"{run[name][m]:.3f}" for m in SHOWN) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 7], help="SAMPLE_SEED values (default: 0 7)")
    args = parser.parse_args()
    os.environ["SALIENCY_PROGRESS_BARS"] = "0"
    runs = []
    with tempfile.TemporaryDirectory(prefix="saliency-loss-") as workspace:
        for seed in args.seeds:
            for loss in ("mse", "kld"):
                print(f"SAMPLE_SEED={seed}, LOSS={loss!r} ...", flush=True)
                runs.append({"sample_seed": seed, "loss": loss, **measure(seed, loss, Path(workspace))})
    write_json_atomic(RESULTS, {"command": "python benchmarks/saliency_loss.py", "profile": "smoke", "runs": runs})
    print("\n" + markdown_table(runs))
    print(f"\nwritten: {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
