"""Part 1 on the generated sample, every row measured by the project's own code, overall and per
category: the baselines, the five maps with no learning, the oracle with and without its face channel,
the halved SalNet under the smoke profile and under the assignment's own Table 2, and the second model
with a pretrained and a random front end — all scored on the same 48 test displays, which nothing was
trained or chosen on.

    python benchmarks/part1_sample.py                  # about 15 minutes on 2 CPU cores, plus the Table 2 run
    python benchmarks/part1_sample.py --sample-seed 1  # another draw of the sample, kept beside seed 0's

The Table 2 run (SGD 1e-4, batch 2, 240×320, 20 epochs, on the smoke runs' 320 displays) takes about
90 minutes on 2 idle CPU cores; it is trained once into the checkpoint folder (``checkpoints/``, or
``--checkpoints``), resumed where it stopped, and loaded from there afterwards, so run it first on its own
if you like: ``python -m helpers.train saliency --profile assignment --dataset sample --whole-dataset 320``.

Writes ``docs/results/part1_sample.json`` (``docs/part1-sample.md``'s table is generated from it, and
``tests/test_readme.py`` checks that the two agree) and prints the table.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from helpers import baselines, evaluation, metrics, paths, saliency, samples, trained_models  # noqa: E402
from helpers.data import load_ground_truth, saliency_splits  # noqa: E402
from helpers.io import replace_marked_block, write_json_atomic  # noqa: E402
from helpers.report import REFERENCE_METRICS as SHOWN, REFERENCE_RESULTS as RESULTS, reference_table  # noqa: E402
from helpers.profiles import SMOKE  # noqa: E402
from helpers.spec import ContrastSpec, SaliencySpec  # noqa: E402

SALNET = saliency.MODEL_NAMES[saliency.SALNET]
TABLE_2 = f"{SALNET}, Table 2 (the assignment's settings)"
#: The networks trained, each: (row label, spec).
RUNS = (
    (f"{SALNET}, smoke profile", lambda: SaliencySpec.from_values({"dataset": "sample"}, "smoke", report=None)),
    # Table 2's settings on the same displays as the smoke runs (WholeDataset is how many, not how to train)
    (TABLE_2, lambda: SaliencySpec.from_values({"dataset": "sample", "whole_dataset": SMOKE["saliency"]["whole_dataset"]},
                                               "assignment", report=None)),
    ("second model, random front end (trained readout)",
     lambda: ContrastSpec.from_values({"dataset": "sample", "weights": "random"}, "smoke", report=None)),
    ("second model (ImageNet front end, trained readout)",
     lambda: ContrastSpec.from_values({"dataset": "sample"}, "smoke", report=None)),
)
SHIPPED = RUNS[-1][0]
#: The oracle with its face channel removed: the best a map blind to faces could do.
BLIND_ORACLE = "oracle without faces (the known density, a face drawing no more than a distractor)"


def training_text(spec) -> str:
    """How a row was trained, as the table says it: optimiser, learning rate, batch, input, epochs."""
    return (f"{spec.optimizer.upper()} {spec.learning_rate:g}, {spec.loss.upper()}, batch {spec.batch_size}, "
            f"{spec.image_size[0]}×{spec.image_size[1]}, {spec.epochs} epochs"
            + (", bf16 autocast" if spec.mixed_precision else ""))


def as_far_as_trained(spec) -> tuple:
    """``(network, row note)`` of a run another process is still training: its newest checkpoint,
    read as it is (written atomically, so never half), marked with how far it got."""
    network = trained_models.load_network(saliency.checkpoint_for(spec))
    return network.model, f" — **{network.unfinished}**" if network.unfinished else ""


def blind_oracle_maps(items) -> np.ndarray:
    """:data:`BLIND_ORACLE` for each of ``items``, at the stimulus' size."""
    maps = []
    for item in items:
        truth = load_ground_truth(item)
        maps.append(samples.fixation_model_density(truth.items, truth.fixations.shape[::-1], item.category, faces=False))
    return np.stack(maps)


#: Displays per category of the fresh draw every map is scored on besides the split's test displays:
#: enough that a category's singleton AUC has a standard error of at most about 0.03.
DRAW = 100


def standard_errors(scores, metric: str = metrics.SINGLETON_AUC) -> dict:
    """map → category → the standard error of ``metric``'s mean over that category's displays."""
    grouped = scores.groupby(["model", "category"])[metric]
    table = (grouped.std(ddof=1) / np.sqrt(grouped.count())).round(4)
    return {name: {category: float(table[(name, category)]) for category in samples.SALIENCY_CATEGORIES
                   if (name, category) in table.index} for name in table.index.unique(level=0)}


def fresh_draw(networks: dict, no_learning, seed: int) -> dict:
    """Every map's singleton AUC per category, mean and standard error, on :data:`DRAW` fresh displays
    per category (the sample's generator, another seed: nothing was trained or chosen on them); the
    no-learning maps keep the settings the validation displays chose."""
    with tempfile.TemporaryDirectory(prefix="draw-") as folder:
        root = samples.write_saliency_sample(Path(folder) / "draw", images_per_category=DRAW, seed=seed)
        train, validation, test = saliency_splits("sample", root, True, 0)
        items = [*train, *validation, *test]
        shipped = networks[SHIPPED][0]
        maps = {label: evaluation.predict_saliency(network, items, spec.image_size, "cpu")
                for label, (network, spec) in networks.items()}
        chosen = baselines.candidate_maps(items, networks[SHIPPED][1].image_size, shipped, only=no_learning.chosen)
        maps.update({baselines.row_name(name): found for (name, _), found in chosen.items()})
        truths = [load_ground_truth(item) for item in items]
        maps[evaluation.ORACLE_SAMPLE] = np.stack([t.known_density for t in truths])
        maps[BLIND_ORACLE] = blind_oracle_maps(items)
        rows = [{"model": name, "category": item.category,
                 metrics.SINGLETON_AUC: metrics.singleton_auc(evaluation.upsample(found[k], t.fixations.shape), t.labels)}
                for name, found in maps.items() for k, (item, t) in enumerate(zip(items, truths))]
    scores = pd.DataFrame(rows)
    means = scores.groupby(["model", "category"])[metrics.SINGLETON_AUC].mean().round(4)
    errors = standard_errors(scores)
    return {"displays_per_category": DRAW, "seed": seed,
            "per_category": {name: {c: {"mean": float(means[(name, c)]), "se": errors[name][c]}
                                    for c in samples.SALIENCY_CATEGORIES} for name in maps}}


def bars_on_draw(draw: dict) -> dict:
    """network → category → ``{"bar", "met"}``: its per-category bars judged on the draw by notebook 02's
    rule (:func:`helpers.evaluation.category_targets`, the draw's means in place of the test split's):
    the highest bar of the category, and whether it meets every bar there."""
    table = {name: {c: {metrics.SINGLETON_AUC: value["mean"]} for c, value in by_category.items()}
             for name, by_category in draw["per_category"].items()}
    result = {}
    for name in table:
        if evaluation.is_no_learning(name) or name in (evaluation.ORACLE_SAMPLE, BLIND_ORACLE):
            continue
        result[name] = {}
        for category, _, bar, score in evaluation.category_targets(table, name, evaluation.ORACLE_SAMPLE):
            was = result[name].get(category, {"bar": 0.0, "met": True})
            result[name][category] = {"bar": round(max(was["bar"], bar), 4), "met": was["met"] and score >= bar}
    return result


def measure(runs=RUNS, unfinished: tuple[str, ...] = ()) -> dict:
    """Train (or load) every network of ``runs``, then score them and the baselines on the test displays.
    ``unfinished``: rows whose run another process is training, scored as far as it got."""
    networks, rows = {}, {}
    for label, make_spec in runs:
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
    data = saliency.load_data(runs[0][1]())
    test, validation = data.held_out_items, data.validation_items
    assert all(saliency.load_data(spec).held_out_items == test for _, spec in networks.values()), "one test set"
    centre_sigma = metrics.fit_centre_bias(load_ground_truth(i).fixations for i in data.train_items)
    predictions = {label: evaluation.predict_saliency(network, test, spec.image_size, "cpu")
                   for label, (network, spec) in networks.items()}
    shipped, shipped_spec = networks[SHIPPED]
    no_learning = baselines.no_learning_maps(validation, test, shipped_spec.image_size, shipped)
    predictions.update(no_learning.maps)
    predictions[BLIND_ORACLE] = blind_oracle_maps(test)
    scores = evaluation.evaluate(predictions, test, centre_sigma, progress=False)
    overall, per_category = evaluation.per_model(evaluation.summarise(scores))
    for name in overall:
        bars = evaluation.quality_bars(overall, name, evaluation.ORACLE_SAMPLE, per_category)
        rows.setdefault(name, {"training": "none"}).update(
            {m: float(overall[name][m]) for m in SHOWN}, bars_met=sum(bars.values()), bars=len(bars),
            bars_missed=[bar for bar, met in bars.items() if not met])
    order = [evaluation.ORACLE_SAMPLE, BLIND_ORACLE, evaluation.ALL_ITEMS, evaluation.CENTRE_BIAS, evaluation.CHANCE,
             *no_learning.maps, *networks]
    return {"sample_seed": samples.sample_seed(), "test_images": len(test), "validation_images": len(validation),
            "train_images": len(data.train_items), "no_learning": no_learning.summary(), "order": order, "rows": rows,
            "per_category": {name: {c: {m: float(v[m]) for m in (metrics.SINGLETON_AUC, "NSS", "AUC-Judd")}
                                    for c, v in per_category[name].items()} for name in order},
            "gains": {label: evaluation.gain_over_no_learning(per_category, label).round(4).to_dict("index")
                      for label in networks},
            "standard_errors": standard_errors(scores),
            "draw": fresh_draw(networks, no_learning, seed=1000 + samples.sample_seed())}


MARKERS = ("<!-- part1-sample:begin -->\n", "\n<!-- part1-sample:end -->")
#: Where the table is shown (the README links to it).
PAGE = ROOT / "docs" / "part1-sample.md"
POP_OUT = samples.POP_OUT_CATEGORIES


def _mean(per_category: dict, name: str, categories, metric: str = metrics.SINGLETON_AUC) -> float:
    return float(np.mean([per_category[name][c][metric] for c in categories]))


def _best_no_learning(results: dict, categories) -> tuple[str, float]:
    """The no-learning row with the highest mean singleton AUC over ``categories``, and that mean."""
    per_category = results["per_category"]
    names = [n for n in results["order"] if evaluation.is_no_learning(n)]
    best = max(names, key=lambda n: _mean(per_category, n, categories))
    return best, _mean(per_category, best, categories)


def category_table(results: dict, metric: str = metrics.SINGLETON_AUC) -> str:
    """``metric`` of every row in every category (columns), ± its standard error over the category's
    test displays, as a Markdown table."""
    categories = list(samples.SALIENCY_CATEGORIES)
    errors = results.get("standard_errors", {})
    lines = ["| map | " + " | ".join(categories) + " |", "|---|" + "---|" * len(categories)]
    for name in results["order"]:
        cells = [f"{results['per_category'][name][c][metric]:.3f}"
                 + (f" ± {errors[name][c]:.3f}" if c in errors.get(name, {}) else "") for c in categories]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def draw_table(results: dict) -> str:
    """The singleton AUC of every map per category on the fresh draw, mean ± standard error; first the
    bar each category sets a network (:func:`bars_on_draw`: the same for every network, since no
    network's score enters a bar), and beside each network's score its verdict (✓ every bar of the
    category met, ✗ not) and how many categories it meets."""
    categories = list(samples.SALIENCY_CATEGORIES)
    per_category, bars = results["draw"]["per_category"], bars_on_draw(results["draw"])
    bar = {c: next(iter(bars.values()))[c]["bar"] for c in categories}
    assert all(by_category[c]["bar"] == bar[c] for by_category in bars.values() for c in categories)
    lines = ["| map | " + " | ".join(categories) + " | categories met |", "|---|" + "---|" * (len(categories) + 1),
             "| *the bar a network must reach* | " + " | ".join(f"*{bar[c]:.3f}*" for c in categories) + " |  |"]
    for name in [n for n in results["order"] if n in per_category]:
        verdicts = bars.get(name, {})
        cells = [f"{per_category[name][c]['mean']:.3f} ± {per_category[name][c]['se']:.3f}"
                 + (f" {'✓' if verdicts[c]['met'] else '✗'}" if verdicts else "") for c in categories]
        met = f"{sum(verdicts[c]['met'] for c in categories)} of {len(categories)}" if verdicts else ""
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {met} |")
    return "\n".join(lines)


def face_lines(run: dict, seed: int) -> list[str]:
    """What the fresh draw says of the face categories, as bullets: the best no-learning map there, and each
    network against the face bars judged on the draw."""
    draw = run["draw"]
    per_category = draw["per_category"]
    names = [n for n in per_category if evaluation.is_no_learning(n)]
    best = max(names, key=lambda n: np.mean([per_category[n][c]["mean"] for c in samples.FACE_CATEGORIES]))
    bars = bars_on_draw(draw)
    found = [n for n in names if min(per_category[n][c]["mean"] for c in samples.FACE_CATEGORIES) > 0.65]
    verdict = (f"{len(found)} of the {len(names)} no-learning maps built here find{'s' if len(found) == 1 else ''} the "
               "face" if found else f"none of the {len(names)} no-learning maps built here finds the face")
    scores = lambda n: " and ".join(f"{per_category[n][c]['mean']:.3f}" for c in samples.FACE_CATEGORIES)  # noqa: E731
    lines = [f"* On the fresh draw of seed {seed} ({draw['displays_per_category']} displays per category), {verdict}: "
             f"the best, {best[len(evaluation.NO_LEARNING) + 2:]}, scores {scores(best)} "
             f"({' and '.join(samples.FACE_CATEGORIES)})."]
    for n in (n for n in run["order"] if n in bars):
        lines.append(f"  * {n}: " + ", ".join(f"{per_category[n][c]['mean']:.3f} ± {per_category[n][c]['se']:.3f} "
                                              f"({'meets' if bars[n][c]['met'] else 'misses'} its bar "
                                              f"{bars[n][c]['bar']:.3f})" for c in samples.FACE_CATEGORIES))
    return lines


def gains_table(results: dict) -> str:
    """What each network adds over the best no-learning map, per category (singleton AUC and NSS)."""
    categories = list(samples.SALIENCY_CATEGORIES)
    lines = ["| network | " + " | ".join(categories) + " |", "|---|" + "---|" * len(categories)]
    for label, by_category in results["gains"].items():
        cells = [f"{by_category[c][metrics.SINGLETON_AUC + ' added']:+.3f} / {by_category[c]['NSS added']:+.2f}"
                 for c in categories]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def readme_block(results: dict) -> str:
    """The Part 1 page's results — tables and sentences — every number read from ``results``."""
    others = results.get("other_seeds", {})
    rows, per_category = results["rows"], results["per_category"]
    shipped, salnet = SHIPPED, RUNS[0][0]
    pop_best, pop_best_score = _best_no_learning(results, POP_OUT)
    face_best, face_best_score = _best_no_learning(results, samples.FACE_CATEGORIES)

    def network_sentence(run: dict, label: str) -> str:
        return (f"singleton AUC {_mean(run['per_category'], label, POP_OUT):.3f} on the pop-out displays and "
                f"{_mean(run['per_category'], label, samples.FACE_CATEGORIES):.3f} on the face displays, "
                f"{run['rows'][label]['bars_met']} of {run['rows'][label]['bars']} bars")

    runs = [(results["sample_seed"], results), *others.items()]
    chosen = re.split(r"; (?=[a-z])", results["no_learning"].split(" — ", 1)[-1])   # "…2007; OpenCV" stays whole
    lines = [
        f"* Scored on the **{results['test_images']} test displays** of the sample (seed {results['sample_seed']}), "
        f"which only notebook 02 reads; {results['train_images']} training displays, and {results['validation_images']} "
        "validation displays (checked every epoch; every setting below was chosen on them).",
        "* Every row is scored by notebook 02's code. *Bars met* counts the sample's bars (below) a map meets; a "
        "no-learning map is judged against the other no-learning maps.",
        "* Each no-learning map's setting, chosen by its mean AUC-Judd on the validation displays:",
        *(f"  * {one}" for one in chosen),
        "",
        "**What each category tests.**",
        "",
        "| category | what it tests |",
        "|---|---|",
        *(f"| {name} | {text} |" for name, text in samples.CATEGORY_TESTS.items()),
        "",
        f"**Every row, seed {results['sample_seed']}.**",
        "",
        reference_table(results),
        "",
        *(line for seed, run in runs for line in (
            f"**Singleton AUC per category, seed {seed}**, ± its standard error over the category's "
            f"{run['test_images'] // len(samples.SALIENCY_CATEGORIES)} test displays (the face categories: the face's "
            "pixels against the upside-down faces').", "", category_table(run), "")),
        *(line for seed, run in runs if "draw" in run for line in (
            f"**Singleton AUC per category on {run['draw']['displays_per_category']} fresh displays per category, seed "
            f"{seed}** (drawn with seed {run['draw']['seed']}: nothing was trained or chosen on them), mean ± standard "
            "error. The first row is each category's bar (the rule below, on the draw's own oracle and no-learning "
            "maps); ✓: a network meets every bar of the category.", "", draw_table(run), "")),
        *(line for seed, run in runs for line in (
            f"**What each network adds over the best no-learning map, per category, seed {seed}** (singleton AUC / "
            "NSS; positive: better).", "", gains_table(run), "")),
        f"* **The pop-out categories** are where a map with no learning does well: the best of them there, "
        f"{pop_best[len(evaluation.NO_LEARNING) + 2:]}, reaches a mean singleton AUC of {pop_best_score:.3f}.",
        f"* **The face categories**, on the test displays: the best no-learning map there "
        f"({face_best[len(evaluation.NO_LEARNING) + 2:]}) scores {face_best_score:.3f}; the oracle with its face "
        f"channel removed {_mean(per_category, BLIND_ORACLE, samples.FACE_CATEGORIES):.3f}.",
        *(f"  * The second model, seed {seed}: {network_sentence(run, shipped)}." for seed, run in runs),
        *(line for seed, run in runs if "draw" in run for line in face_lines(run, seed)),
        f"* **The halved SalNet**, smoke profile ({rows[salnet]['training']}):",
        *(f"  * seed {seed}: {network_sentence(run, salnet)}." for seed, run in runs),
        *([f"* **The assignment's own Table 2** ({rows[TABLE_2]['training']}), seed {results['sample_seed']}: "
           f"{network_sentence(results, TABLE_2)}."] if TABLE_2 in rows else []),
    ]
    return "\n".join(lines)


def write_readme_block(results: dict) -> None:
    """Replace ``docs/part1-sample.md``'s text between the part1-sample markers with :func:`readme_block`."""
    replace_marked_block(PAGE, *MARKERS, readme_block(results))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoints", default=str(paths.checkpoint_dir()),
                        help="where the networks are trained and found (default: the project's checkpoints/)")
    parser.add_argument("--sample-seed", type=int, default=0,
                        help="the sample's seed (default 0); another seed's sample is drawn into data/seed-N/ and its "
                             "measurement kept beside seed 0's, without the Table 2 run")
    parser.add_argument("--table-2-unfinished", action="store_true",
                        help="score the Table 2 run as far as it got (another process is training it) instead of "
                             "training it here")
    args = parser.parse_args()
    os.environ["SALIENCY_PROGRESS_BARS"] = "0"
    os.environ["SALIENCY_CHECKPOINT_DIR"] = str(Path(args.checkpoints).resolve())
    os.environ["SAMPLE_SEED"] = str(args.sample_seed)
    runs = RUNS
    if args.sample_seed:
        os.environ["SALIENCY_DATA_DIR"] = str(ROOT / "data" / f"seed-{args.sample_seed}")
        runs = tuple(run for run in RUNS if run[0] != TABLE_2)
    with tempfile.TemporaryDirectory(prefix="part1-") as records:
        os.environ["SALIENCY_REPORT_DIR"] = records  # the training records: your report/ is not touched
        measured = measure(runs, unfinished=(TABLE_2,) if args.table_2_unfinished else ())
    command = "python benchmarks/part1_sample.py" + (f" --sample-seed {args.sample_seed}" if args.sample_seed else "")
    measured["command"] = command
    if args.sample_seed:
        results = json.loads(RESULTS.read_text())
        results.setdefault("other_seeds", {})[str(args.sample_seed)] = measured
    else:
        previous = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
        results = {**measured, "other_seeds": previous.get("other_seeds", {})}
    write_json_atomic(RESULTS, results)
    if "per_category" in results and results.get("sample_seed") == 0 and all(
            name in results["per_category"] for name in results["order"]):
        print(readme_block(results))
        write_readme_block(results)
        print(f"\nwritten: {RESULTS}, and the part1-sample block of {PAGE.relative_to(ROOT)} (the text above)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
