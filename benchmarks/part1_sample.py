"""Part 1 on the generated sample, every row measured by the project's own code: the baselines, the
contrast step with no learning, the halved SalNet under the smoke profile (both losses) and under
the assignment's own Table 2, and the second model with a pretrained and a random front end — all
scored on the same 48 test displays, which nothing was trained or chosen on.

    python benchmarks/part1_sample.py      # about 15 minutes on 2 CPU cores, plus the Table 2 run

The Table 2 run (SGD 1e-4, batch 2, 240×320, 20 epochs) takes about 80 minutes on 2 CPU cores; it is
trained once into the checkpoint folder (``checkpoints/``, or ``--checkpoints``) and loaded from there
afterwards, so run it first on its own if you like:
``python -m helpers.train saliency --profile assignment --dataset sample``.

Writes ``docs/results/part1_sample.json`` (``docs/part1-sample.md``'s table is generated from it, and
``tests/test_readme.py`` checks that the two agree) and prints the table.
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

from helpers import baselines, evaluation, metrics, paths, saliency  # noqa: E402
from helpers.data import load_ground_truth  # noqa: E402
from helpers.io import replace_marked_block, write_json_atomic  # noqa: E402
from helpers.report import REFERENCE_METRICS as SHOWN, REFERENCE_RESULTS as RESULTS, reference_table  # noqa: E402
from helpers.spec import ContrastSpec, SaliencySpec  # noqa: E402

SALNET = saliency.MODEL_NAMES[saliency.SALNET]
#: The networks trained, each: (row label, spec).
RUNS = (
    (f"{SALNET}, smoke profile, Table 2's `LOSS = 'mse'`",
     lambda: SaliencySpec.from_values({"dataset": "sample", "loss": "mse"}, "smoke", report=None)),
    (f"{SALNET}, smoke profile (`LOSS = 'kld'`)", lambda: SaliencySpec.from_values({"dataset": "sample"}, "smoke", report=None)),
    (f"{SALNET}, Table 2 (the assignment's settings)",
     lambda: SaliencySpec.from_values({"dataset": "sample"}, "assignment", report=None)),
    ("second model, random front end (trained readout)",
     lambda: ContrastSpec.from_values({"dataset": "sample", "weights": "random"}, "smoke", report=None)),
    ("second model (ImageNet front end, trained readout)",
     lambda: ContrastSpec.from_values({"dataset": "sample"}, "smoke", report=None)),
)


def training_text(spec) -> str:
    """How a row was trained, as the table says it: optimiser, learning rate, batch, input, epochs."""
    return (f"{spec.optimizer.upper()} {spec.learning_rate:g}, batch {spec.batch_size}, "
            f"{spec.image_size[0]}×{spec.image_size[1]}, {spec.epochs} epochs"
            + (", bf16 autocast" if spec.mixed_precision else ""))


def as_far_as_trained(spec) -> tuple:
    """``(network, row note)`` of a run another process is still training: its newest checkpoint,
    read as it is (written atomically, so never half), marked with how far it got."""
    network = saliency.load_network(saliency.checkpoint_for(spec))
    return network.model, f" — **{network.unfinished}**" if network.unfinished else ""


def measure(unfinished: tuple[str, ...] = ()) -> dict:
    """Train (or load) every network, then score them and the baselines on the test displays.
    ``unfinished``: rows whose run another process is training, scored as far as it got."""
    networks, rows = {}, {}
    for label, make_spec in RUNS:
        spec = make_spec()
        print(f"{label}: {training_text(spec)} ...", flush=True)
        started = time.perf_counter()
        note = ""
        if label in unfinished:
            network, note = as_far_as_trained(spec)
        else:
            network = saliency.train(spec, device="cpu", progress=False).model
        networks[label] = (network, spec)
        rows[label] = {"training": training_text(spec) + note, "seconds": round(time.perf_counter() - started)}
    data = saliency.load_data(RUNS[0][1]())
    test, validation = data.held_out_items, data.validation_items
    assert all(saliency.load_data(spec).held_out_items == test for _, spec in networks.values()), "one test set"
    centre_sigma = metrics.fit_centre_bias(load_ground_truth(i).fixations for i in data.train_items)
    predictions = {label: evaluation.predict_saliency(network, test, spec.image_size, "cpu")
                   for label, (network, spec) in networks.items()}
    shipped, shipped_spec = networks[RUNS[-1][0]]
    no_learning = baselines.no_learning_baseline(validation, test, shipped_spec.image_size, shipped)
    predictions[evaluation.NO_LEARNING] = no_learning.maps
    predictions.update({f"{evaluation.NO_LEARNING}: {name}": maps for name, maps in no_learning.candidates.items()})
    scores = evaluation.evaluate(predictions, test, centre_sigma, progress=False)
    overall, per_category = evaluation.per_model(evaluation.summarise(scores))
    oracle = evaluation.ORACLE_SAMPLE
    for name in overall:
        # the no-learning candidates are judged as the row itself is: not against themselves
        judged_with = ({k: v for k, v in overall.items() if k != evaluation.NO_LEARNING}
                       if name.startswith(f"{evaluation.NO_LEARNING}: ") else overall)
        bars = evaluation.quality_bars(judged_with, name, oracle, per_category)
        rows.setdefault(name, {"training": "none"}).update(
            {m: float(overall[name][m]) for m in SHOWN}, bars_met=sum(bars.values()), bars=len(bars))
    return {"test_images": len(test), "validation_images": len(validation), "train_images": len(data.train_items),
            "no_learning": no_learning.summary(), "order": list(ORDER), "rows": rows}


MARKERS = ("<!-- part1-sample:begin -->\n", "\n<!-- part1-sample:end -->")
#: Where the table is shown (the README links to it).
PAGE = ROOT / "docs" / "part1-sample.md"
ORDER = (evaluation.ORACLE_SAMPLE, evaluation.ALL_ITEMS, evaluation.CENTRE_BIAS, evaluation.CHANCE,
         f"{evaluation.NO_LEARNING}: {baselines.COLOUR}", f"{evaluation.NO_LEARNING}: {baselines.FEATURES}",
         *(label for label, _ in RUNS))


def _compared(value: float, rival: float) -> str:
    return "above" if value > rival else "below" if value < rival else "at"


def readme_block(results: dict) -> str:
    """The README's Part 1 results, table and sentences, every number read from ``results``."""
    rows = results["rows"]
    centre, chosen = rows[evaluation.CENTRE_BIAS], rows[evaluation.NO_LEARNING]
    shipped, random_front = rows[RUNS[-1][0]], rows[RUNS[-2][0]]
    mse, kld, table2 = (rows[label] for label, _ in RUNS[:3])
    gain = {m: shipped[m] - chosen[m] for m in ("AUC-Judd", metrics.SINGLETON_AUC, "NSS", "KL")}
    lines = [
        f"Scored on the **{results['test_images']} test displays** of the sample (seed 0) — a split of their own: "
        f"{results['train_images']} training displays, {results['validation_images']} validation displays that "
        "notebook 01 checks every epoch, and the test displays, which only notebook 02 reads. Every row is scored "
        "by notebook 02's code; *bars met* counts the bars of the sample (below) that the map meets, the "
        f"no-learning ones included. The *{evaluation.NO_LEARNING}* row that notebook 02 and the bars use is "
        f"{results['no_learning']}.",
        "",
        reference_table(results),
        "",
        f"* **How much is the contrast step alone.** With no trained parameter, the colour contrast of the pixels "
        f"scores AUC-Judd {rows[ORDER[4]]['AUC-Judd']:.3f} and singleton AUC {rows[ORDER[4]][metrics.SINGLETON_AUC]:.3f} "
        f"(centre bias {centre['AUC-Judd']:.3f} and {centre[metrics.SINGLETON_AUC]:.3f}).",
        f"* **What the second model's training adds** over it: singleton AUC {gain[metrics.SINGLETON_AUC]:+.3f}, "
        f"NSS {gain['NSS']:+.2f}, KL {gain['KL']:+.3f} (lower is better), AUC-Judd {gain['AUC-Judd']:+.3f}. "
        f"The same readout trained on a *random* front end reaches singleton AUC "
        f"{random_front[metrics.SINGLETON_AUC]:.3f} and NSS {random_front['NSS']:.2f}, against "
        f"{shipped[metrics.SINGLETON_AUC]:.3f} and {shipped['NSS']:.2f} with ImageNet's: the pretrained features "
        "are part of what it adds.",
        f"* **The halved SalNet.** With Table 2's MSE and the smoke profile's four epochs it scores AUC-Judd "
        f"{mse['AUC-Judd']:.3f} ({_compared(mse['AUC-Judd'], centre['AUC-Judd'])} the centre bias) and meets "
        f"{mse['bars_met']} of {mse['bars']} bars; with the maps' KL divergence (`LOSS = 'kld'`, the smoke "
        f"profile's), AUC-Judd {kld['AUC-Judd']:.3f}, singleton AUC {kld[metrics.SINGLETON_AUC]:.3f}, NSS "
        f"{kld['NSS']:.2f}: {kld['bars_met']} of {kld['bars']} bars. With **the assignment's own "
        f"Table 2** ({table2['training']}) it scores AUC-Judd {table2['AUC-Judd']:.3f} "
        f"({_compared(table2['AUC-Judd'], centre['AUC-Judd'])} the centre bias), singleton AUC "
        f"{table2[metrics.SINGLETON_AUC]:.3f}, NSS {table2['NSS']:.2f}: {table2['bars_met']} of {table2['bars']} bars.",
    ]
    return "\n".join(lines)


def write_readme_block(results: dict) -> None:
    """Replace ``docs/part1-sample.md``'s text between the part1-sample markers with :func:`readme_block`."""
    replace_marked_block(PAGE, *MARKERS, readme_block(results))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoints", default=str(paths.checkpoint_dir()),
                        help="where the networks are trained and found (default: the project's checkpoints/)")
    parser.add_argument("--table-2-unfinished", action="store_true",
                        help="score the Table 2 run as far as it got (another process is training it) instead of "
                             "training it here")
    args = parser.parse_args()
    os.environ["SALIENCY_PROGRESS_BARS"] = "0"
    os.environ["SALIENCY_CHECKPOINT_DIR"] = str(Path(args.checkpoints).resolve())
    os.environ.pop("SAMPLE_SEED", None)
    with tempfile.TemporaryDirectory(prefix="part1-") as records:
        os.environ["SALIENCY_REPORT_DIR"] = records  # the training records: your report/ is not touched
        results = measure(unfinished=(RUNS[2][0],) if args.table_2_unfinished else ())
    write_json_atomic(RESULTS, {"command": "python benchmarks/part1_sample.py", "sample_seed": 0, **results})
    print(f"\n{results['test_images']} test displays; {evaluation.NO_LEARNING}: {results['no_learning']}\n")
    print(readme_block(results))
    write_readme_block(results)
    print(f"\nwritten: {RESULTS}, and the part1-sample block of {PAGE.relative_to(ROOT)} (the text above)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
