"""The assignment's Table 2 run and the smoke profile's, epoch by epoch, on the sample (seed 0): training and
validation loss and validation AUC-Judd, read from the checkpoints ``benchmarks/part1_sample.py`` trains (each
holds its run's history; a run still training is read as far as it got).

    python benchmarks/learning_curves.py     # seconds; writes docs/part1-curves.png, docs/results/learning_curves.json
                                             # and the learning-curves block of docs/part1-sample.md
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from part1_sample import PAGE, RUNS, TABLE_2  # noqa: E402

from helpers import saliency  # noqa: E402
from helpers.checkpoints import read_checkpoint  # noqa: E402
from helpers.io import atomic_path, replace_marked_block, write_json_atomic  # noqa: E402
from helpers.parallel import cpu_kind  # noqa: E402

RESULTS = ROOT / "docs" / "results" / "learning_curves.json"
CHOICES = ROOT / "docs" / "results" / "smoke_choices.json"
SCORED = ROOT / "docs" / "results" / "part1_sample.json"
FIGURE = ROOT / "docs" / "part1-curves.png"
MARKERS = ("<!-- learning-curves:begin -->\n", "\n<!-- learning-curves:end -->")
SHOWN = (RUNS[0][0], TABLE_2)


def measure() -> dict:
    """Each run's spec in words, its history, and the processes (sessions) that trained it."""
    os.environ.setdefault("SALIENCY_PROGRESS_BARS", "0")
    runs = {}
    for label, make in RUNS:
        if label in SHOWN:
            spec = make()
            state = read_checkpoint(saliency.checkpoint_for(spec))
            runs[label] = {"loss": spec.loss.upper(), "epochs_planned": state["epochs_planned"],
                           "history": [{k: row[k] for k in ("epoch", "train_loss", "val_loss", "AUC-Judd", "seconds",
                                                            "process") if k in row} for row in state["history"]]}
    return {"runs": runs, "cpu": cpu_kind(), "command": "python benchmarks/learning_curves.py"}


def figure(results: dict) -> plt.Figure:
    runs = results["runs"]
    fig, panels = plt.subplots(1, len(runs) + 1, figsize=(4.2 * (len(runs) + 1), 3.6))
    for axes, (label, run) in zip(panels, runs.items()):
        epochs = [row["epoch"] for row in run["history"]]
        axes.plot(epochs, [row["train_loss"] for row in run["history"]], "-o", ms=3, label="train")
        axes.plot(epochs, [row["val_loss"] for row in run["history"]], "--s", ms=3, label="validation")
        axes.set(title=f"{label}\n{len(epochs)} of {run['epochs_planned']} epochs", xlabel="epoch",
                 ylabel=f"{run['loss']} loss")
        axes.legend(frameon=False)
    for axes in panels:
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    for label, run in runs.items():
        panels[-1].plot([row["epoch"] for row in run["history"]], [row["AUC-Judd"] for row in run["history"]], "-o",
                        ms=3, label=label.split(", ", 1)[-1])
    panels[-1].axhline(0.5, color="grey", ls=":", lw=1, label="chance")
    panels[-1].set(title="validation AUC-Judd per epoch", xlabel="epoch", ylabel="AUC-Judd")
    panels[-1].legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def page_block(results: dict) -> str:
    lines = ["![Learning curves: the smoke profile and Table 2](part1-curves.png)", "",
             "| run | epochs | lowest validation loss | validation AUC-Judd, last epoch | wall s an epoch | sessions |",
             "|---|---|---|---|---|---|"]
    for label, run in results["runs"].items():
        history = run["history"]
        seconds = sum(row["seconds"] for row in history) / max(len(history), 1)
        sessions = len({row.get("process", "") for row in history})
        lines.append(f"| {label} | {len(history)} of {run['epochs_planned']} | "
                     f"{min(row['val_loss'] for row in history):.4f} ({run['loss']}) | {history[-1]['AUC-Judd']:.3f} | "
                     f"{seconds:.0f} | {sessions} |")
    lines += ["", f"*Read from the runs' checkpoints by `{results['command']}` on a {results['cpu']} machine; an epoch's "
                  "seconds are wall seconds, on a machine that was doing other work too.*", "", *what_it_shows(results)]
    return "\n".join(lines)


def what_it_shows(results: dict) -> list[str]:
    """What the curves say of Table 2, and what the smoke profile changed, each number read from a results file."""
    table_2 = results["runs"][TABLE_2]["history"]
    smoke = results["runs"][SHOWN[0]]["history"]
    choices = json.loads(CHOICES.read_text())["groups"]["saliency"]
    best = {loss: max((max(c["validation"]["AUC-Judd"]), c["setting"]["learning_rate"]) for c in choices["candidates"]
                      if c["setting"]["loss"] == loss) for loss in ("mse", "kld")}
    chosen = choices["choice"]
    done = f"{len(table_2)} of {results['runs'][TABLE_2]['epochs_planned']} epochs"
    scored = json.loads(SCORED.read_text())
    rows, per_category = scored["rows"], scored["per_category"][TABLE_2]
    found = [c for c, v in per_category.items() if v["singleton AUC"] > 0.8]
    return [f"* **Table 2 ({done})**: its MSE falls from {table_2[0]['train_loss']:.3f} to "
            f"{table_2[-1]['train_loss']:.3f} (validation {table_2[-1]['val_loss']:.3f}); its validation AUC-Judd goes "
            f"from {table_2[0]['AUC-Judd']:.3f} to {table_2[-1]['AUC-Judd']:.3f} (0.5: chance), where the smoke run "
            f"reaches {smoke[-1]['AUC-Judd']:.3f} in {len(smoke)} epochs. On the test displays its AUC-Judd is "
            f"{rows[TABLE_2]['AUC-Judd']:.3f} against the centre bias's {rows['centre bias']['AUC-Judd']:.3f}, and its "
            f"singleton AUC is above 0.8 only in {', '.join(found) or 'no category'}.",
            "* **What the smoke profile changed**: Adam instead of SGD and 96×128 instead of 240×320, so that a CPU "
            "finishes in minutes (not chosen on validation); the loss, the learning rate and the epochs chosen on the "
            f"validation displays ({choices['max_epochs']} epochs each, Adam, `docs/results/smoke_choices.json`):",
            f"  * under MSE, the best validation AUC-Judd was {best['mse'][0]:.3f} (learning rate {best['mse'][1]:g});",
            f"  * under the maps' KL divergence, {best['kld'][0]:.3f} (learning rate {best['kld'][1]:g});",
            f"  * chosen: {chosen['setting']['loss'].upper()} at {chosen['setting']['learning_rate']:g} for "
            f"{chosen['epochs']} epochs ({chosen['AUC-Judd']:.3f})."]


def main() -> int:
    results = measure()
    write_json_atomic(RESULTS, results)
    with atomic_path(FIGURE) as partial:
        figure(results).savefig(partial, format="png", dpi=110)
    replace_marked_block(PAGE, *MARKERS, page_block(results))
    print(page_block(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
