"""The written report, ``python -m helpers.report``: ``report/REPORT.md`` and ``REPORT.html`` from the records in
``report/metrics/`` and the figures, every number read from a file the notebooks wrote.
"""
from __future__ import annotations

import base64
import io
import datetime as _dt
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import markdown
import numpy as np
import pandas as pd
from PIL import Image

from . import outputs, paths, run_command
from .evaluation import (NETWORK, NO_LEARNING, PER_CATEGORY_METRICS, SE, gain_over_no_learning, is_no_learning,
                         no_learning_margins, quality_bars, too_few_to_judge)
from .io import atomic_path, write_text_atomic
from .metrics import METRICS, SINGLETON_AUC
from .profiles import TOKEN_RUN, profile_of, profile_reason
from .published import published_rows, why_left_out
from .models import CONTRAST, SALNET
from .records import (InversionComparison, InversionLayer, InversionSummary, SaliencyEvaluation,
                      SaliencyTraining)
from .inversion import layer_records
from .saliency import LOSSES
from .trained_models import training_record
from .notebooks import describe as named
from .spec import ContrastSpec, SaliencySpec

#: The assignment's own numbers (Tables 2 and 5 in docs/assignment.md), shown beside ours.
ASSIGNMENT_SALIENCY_LOSS = {"train": 0.0385, "validation": 0.0384}
ASSIGNMENT_INVERSION_LOSS = {"conv2": (0.203, 0.201), "conv5": (0.490, 0.515), "fc6": (0.818, 0.771),
                             "fc8": (0.880, 0.851)}
#: The sample's reference measurements (``python benchmarks/part1_sample.py``): every Part 1 row on the
#: sample's test displays, the assignment's own Table 2 run among them.
REFERENCE_RESULTS = paths.ROOT / "docs" / "results" / "part1_sample.json"
REFERENCE_METRICS = ("AUC-Judd", SINGLETON_AUC, "NSS", "KL", "IG")
SAMPLE_NOTE = ("generated **sample** data (see `helpers/samples.py`), not the papers' data sets: the numbers "
               "show that the pipeline works, not how the methods compare with the papers")


def _figure(name: str, caption: str) -> str:
    if not (paths.figures_dir() / f"{name}.png").is_file():
        return f"*({caption}: not drawn — its notebook has not run.)*\n"
    return f"![{caption}](figures/{name}.png)\n\n*{caption}*\n"


def _table(header: list[str], rows: list[list]) -> str:
    def cell(value):
        return f"{value:.4f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def Named(role: str) -> str:  # noqa: N802 - the capitalised form of named(), to start a sentence
    text = named(role)
    return text[0].upper() + text[1:]


def _epochs(done: int, planned: int) -> str:
    return f"{done} epochs" if done >= planned else f"**unfinished: {done} of {planned} epochs**"


def _bf16(spec) -> str:
    """How a run computed, when not in float32 throughout."""
    return ", bf16 autocast" if spec.mixed_precision else ""


def _when(record) -> str:
    """When a record was written and by which run (profile, process, commit): a report mixing runs shows it."""
    return f"written {record.written.replace('T', ' ')}" + (f" by {record.run}" if getattr(record, "run", "") else "")


def _source(what: str, record, checkpoint: str, epochs: str) -> str:
    return f"*From {what}, {_when(record)}: `{Path(checkpoint).name}`, {epochs}.*\n"


def _differs_from_table_2(training: SaliencyTraining) -> str:
    """The settings of a SalNet run that are not Table 2's, as a sentence (empty when none differ)."""
    changed = SaliencySpec.differences_from_tables(training.spec)
    if not changed:
        return ""
    profile = profile_of(SaliencySpec.from_stored(training.spec), "saliency")
    if profile is None:
        return "These settings differ from Table 2, set by hand: " + ", ".join(changed) + ".\n"
    return ("These settings differ from Table 2: " + ", ".join(changed) + f". `PROFILE = '{profile}'` chooses them: "
            + profile_reason(profile, "saliency") + ".\n")


def _second_model_paragraph(second: SaliencyTraining | None, training: SaliencyTraining) -> str:
    if second is None:
        return ""
    if (second.dataset, second.WholeDataset, second.seed) != (training.dataset, training.WholeDataset, training.seed):
        return (f"\n*The second model's record (`{Path(second.checkpoint).name}`) is of another split; it is left out. "
                f"Run {named('saliency-training')} again.*\n")
    spec = ContrastSpec.from_stored(second.spec)
    salnet_loss = SaliencySpec.from_stored(training.spec).loss
    same = ("Same images and split, same loss" if spec.loss == salnet_loss else
            f"Same images and split; its loss is {LOSSES[spec.loss].words} (SalNet's: {LOSSES[salnet_loss].words})")
    return (f"\n**Second model — a pretrained front end.** The SalNet paper took its first layers from an ImageNet "
            f"network. The second model freezes torchvision's MobileNetV2 (**{second.front_end}**) and trains only a small "
            f"readout (**{second.parameters:,} parameters**) that sees each feature beside its contrast with the rest "
            f"of the image — pop-out is a comparison across the whole display, which the contrast makes one step. {same}; "
            f"input {second.image_size[0]}×{second.image_size[1]}, {spec.optimizer.upper()} "
            f"at {spec.learning_rate:g}, batch {spec.batch_size}, {_epochs(second.epochs_trained, second.epochs_planned)}"
            f"{_bf16(spec)}; "
            f"lowest validation loss {second.lowest_val_loss:.4f}.\n")


def _losses_comparable(training: SaliencyTraining, loss: str) -> str:
    """Whether this run's losses can stand beside the assignment's CAT2000 MSE, and if not, why."""
    reasons = [reason for reason, differs in (("it trains on another loss (" + LOSSES[loss].words + ")", loss != "mse"),
                                              (f"it trains on {'the generated sample' if training.dataset == 'sample' else training.dataset}",
                                               training.dataset != "cat2000"))
               if differs]
    if not reasons:
        return "\nThe assignment's losses stand beside this run's for comparison.\n"
    return ("\nThe assignment's losses are there for reference only: they are **not comparable** — "
            + " and ".join(reasons) + ", and the loss depends on both.\n")


def _diagnosis_table() -> str:
    path = paths.metrics_dir() / "saliency_diagnosis.csv"
    if not path.is_file():
        return ""
    table = pd.read_csv(path, comment="#")
    return (f"\n**What the loss rewards** ({named('saliency-training')}'s diagnosis on its validation images, each "
            "map scored in the network's own training loss):\n\n"
            + _table(["", "value"], table.values.tolist()))


def saliency_section(training: SaliencyTraining | None, evaluation: SaliencyEvaluation | None,
                     second: SaliencyTraining | None = None) -> str:
    """Sections 1 (notebook 01's training) and 2 (notebook 02's scores) of the report."""
    if training is None:
        return (f"## 1. Saliency prediction with a halved SalNet\n\n*{Named('saliency-training')} has not run.*\n\n"
                f"## 2. Judd AUC and the other saliency metrics\n\n*{Named('saliency-evaluation')} has not run.*\n")
    return training_section(training, second) + "\n" + evaluation_section(training, evaluation)


def training_section(training: SaliencyTraining, second: SaliencyTraining | None) -> str:
    spec = SaliencySpec.from_stored(training.spec)
    data_note = SAMPLE_NOTE if training.dataset == "sample" else f"**{training.dataset}**"
    loss = spec.loss
    return "\n".join([
        "## 1. Saliency prediction with a halved SalNet\n",
        _source(f"{named('saliency-training')}'s run", training, training.checkpoint,
                _epochs(training.epochs_trained, training.epochs_planned)),
        f"Data: {data_note}; {training.train_images} training, {training.validation_images} validation (checked "
        f"every epoch) and {training.held_out_images} test images (`WholeDataset = {training.WholeDataset}`; the "
        "test images are scored below and by nothing else).\n\n"
        f"The network follows Table 1: nine convolutions with half SalNet's channels, LRN and max-pooling after "
        f"conv1, max-pooling after conv2, ReLU after conv1–conv8 and a bias-free transposed convolution: "
        f"**{training.parameters:,} parameters**; input {training.image_size[0]}×{training.image_size[1]}, "
        f"output {training.output_size[0]}×{training.output_size[1]} "
        f"({'ceil' if training.ceil_mode else 'floor'} pooling).\n\n"
        f"Training: {spec.optimizer.upper()}, learning rate {spec.learning_rate:g} (×{spec.gamma:g} every "
        f"{spec.lr_step} epochs), weight decay {spec.weight_decay:g}, batch {spec.batch_size}, "
        f"{_epochs(training.epochs_trained, training.epochs_planned)}{_bf16(spec)}, "
        + ("MSE on maps scaled to [-1, 1].\n" if loss == "mse" else
           "KL divergence of the two maps as distributions (`LOSS = 'kld'`; Table 2: MSE).\n"),
        _differs_from_table_2(training),
        _table(["", "lowest train loss", "lowest validation loss"], [
            ["this run", training.lowest_train_loss, training.lowest_val_loss],
            ["the assignment (CAT2000, Table 2)", ASSIGNMENT_SALIENCY_LOSS["train"],
             ASSIGNMENT_SALIENCY_LOSS["validation"]]]),
        _losses_comparable(training, loss),
        _diagnosis_table(),
        _second_model_paragraph(second, training),
        _figure("fig1_saliency_loss", "Figure 1 — train and validation loss per epoch, one panel per network"),
        _figure("fig2_saliency_predictions", "Figure 2 — one validation image of each category: ground truth and "
                                             "predictions, the held-out fixations as dots"),
    ])


def reference_table(results: dict) -> str:
    """The Part 1 rows of ``docs/results/part1_sample.json`` as a table (the README's, and the report's on
    the sample): every map, how it was trained, its scores and how many of the sample's bars it meets."""
    rows = results["rows"]
    lines = [f"| map | training | {' | '.join(REFERENCE_METRICS)} | bars met |",
             "|---|---|" + "---|" * (len(REFERENCE_METRICS) + 1)]
    for name in results["order"]:
        row = rows[name]
        lines.append(f"| {name} | {row['training']} | " + " | ".join(f"{row[m]:.3f}" for m in REFERENCE_METRICS)
                     + f" | {row['bars_met']} of {row['bars']} |")
    return "\n".join(lines)


def _reference_section(evaluation: SaliencyEvaluation) -> str:
    """On the sample: the reference measurements beside this run's, the assignment's Table 2 run among them."""
    if evaluation.dataset != "sample" or not REFERENCE_RESULTS.is_file():
        return ""
    results = json.loads(REFERENCE_RESULTS.read_text())
    seed = "" if evaluation.sample_seed == results["sample_seed"] else (
        f" (of the sample drawn with seed {results['sample_seed']}; this run's is {evaluation.sample_seed})")
    return (f"\n**The sample's reference measurements**{seed}, from `{results['command']}` "
            f"(`docs/results/part1_sample.json`): the same {results['test_images']} test displays, every network "
            "trained as its row says — the halved SalNet with the assignment's own Table 2 among them.\n\n"
            + reference_table(results) + "\n")


def _published_section(evaluation: SaliencyEvaluation) -> str:
    """This run's rows among the benchmark's published ones for the same data set, or why there are none."""
    published = published_rows(evaluation.dataset)
    if published is None:
        return f"\n*No published benchmark rows beside these: {why_left_out(evaluation.dataset)}.*\n"
    metrics = [m for m in published.metrics if m in next(iter(evaluation.overall.values()))]
    ours = [[model, "this run"] + [scores[m] for m in metrics] for model, scores in evaluation.overall.items()]
    theirs = [[f"{model} ({published.references[model]})", "published"] + [scores[m] for m in metrics]
              for model, scores in published.rows.items()]
    return (f"\n**Among published models.** The rows marked *published* are the {published.benchmark} figures "
            f"({published.source}, read {published.read}). Caveat: {published.caveat}.\n\n"
            + _table(["model", "scored by"] + metrics, ours + theirs))


def evaluation_section(training: SaliencyTraining, evaluation: SaliencyEvaluation | None) -> str:
    out = ["## 2. Judd AUC and the other saliency metrics\n"]
    if evaluation is None:
        return "\n".join(out + [f"\n*{Named('saliency-evaluation')} has not run.*\n"])
    if (evaluation.checkpoint, evaluation.epochs_trained) != (training.checkpoint, training.epochs_trained):
        return "\n".join(out + [
            f"\n*{Named('saliency-evaluation')}'s scores ({_when(evaluation)}) are of another model — "
            f"`{Path(evaluation.checkpoint).name}` after {evaluation.epochs_trained} epochs — than the run above; "
            f"they are left out so the report does not mix runs. Run {named('saliency-evaluation')} again.*\n"])
    oracle = evaluation.oracle if evaluation.oracle in evaluation.overall else ""
    metric_names = [k for k in next(iter(evaluation.overall.values())) if k != "images"]
    out += [_source(f"{named('saliency-evaluation')}'s scores", evaluation, evaluation.checkpoint,
                    _epochs(evaluation.epochs_trained, evaluation.epochs_planned)),
            _evaluation_intro(evaluation, oracle),
            _table(["model"] + metric_names,
                   [[model] + [scores[m] for m in metric_names] for model, scores in evaluation.overall.items()]),
            *_per_category_tables(evaluation, metric_names), *_bar_lines(evaluation, oracle),
            _reference_section(evaluation), _published_section(evaluation), *_evaluation_figures(evaluation)]
    return "\n".join(out)


def _evaluation_intro(evaluation: SaliencyEvaluation, oracle: str) -> str:
    return (
        f"{evaluation.held_out_images} held-out test images (never seen in training or validation) scored at their "
        f"original resolution, as the MIT saliency benchmark does (jitter {'on' if evaluation.jitter else 'off'}); each network's own output is "
        f"scored, scaled to [0, 1], never clipped. AUC-Judd is exact to `AUC_Judd.m`; the baselines are a centre-bias "
        f"Gaussian fitted on the training fixations (σ = {evaluation.centre_bias_sigma[0]:.3f} × height, "
        f"{evaluation.centre_bias_sigma[1]:.3f} × width), chance"
        + (f", the {oracle} — the best any model can do" if oracle else "")
        + (", *all items* (every item marked equally: it finds the items, not the odd one out)"
           if "all items" in evaluation.overall else "")
        + (f", and the *{NO_LEARNING}* rows — {evaluation.no_learning}" if any(map(is_no_learning, evaluation.overall))
           else "")
        + ". " + "; ".join(f"{m.name}: lower is better" for m in METRICS if not m.higher_is_better)
        + "; " + ", ".join(m.name for m in METRICS if m.relative_to_centre) + " is measured against the centre bias."
        + (" The **singleton AUC** asks whether a map's values on the odd item's pixels outrank those on the "
           "other items' (0.5: every item alike; 1: the singleton always on top)." if SINGLETON_AUC in
           next(iter(evaluation.overall.values())) else "")
        + ("" if oracle else f" No oracle row: {evaluation.oracle}.") + "\n")


def _per_category_tables(evaluation: SaliencyEvaluation, metric_names: list[str]) -> list[str]:
    """AUC-Judd and the singleton AUC of every map in every category (a row per map), and what each
    network adds over the best no-learning map there."""
    models = list(evaluation.overall)
    categories = sorted(evaluation.per_category[models[0]])
    if len(categories) < 2:
        return []
    def cell(row: dict, metric: str):   # no-break spaces: "0.917 ± 0.005" stays on one line
        error = row.get(f"{metric}{SE}")
        return f"{row[metric]:.3f}\u00a0±\u00a0{error:.3f}" if error is not None and np.isfinite(error) else row[metric]

    count, uneven = divmod(evaluation.held_out_images, len(categories))
    tables = [f"\n**{metric} per category** (± one standard error over the category's {'about ' * bool(uneven)}"
              f"{count} test images: a difference of less than about two of them is more than this split can "
              f"tell apart):\n\n" + _table(["map"] + categories, [
                  [model] + [cell(evaluation.per_category[model][category], metric) for category in categories]
                  for model in models]) for metric in PER_CATEGORY_METRICS if metric in metric_names]
    for network in (n for n in evaluation.checkpoints if n in evaluation.per_category):
        gain = gain_over_no_learning(evaluation.per_category, network)
        if not gain.empty:
            columns = [c for c in gain.columns if c.endswith(" added")]
            tables.append(f"\n**What {network} adds over the best no-learning map, per category** (positive: better; "
                          "KL's sign turned):\n\n" + _table(["category", *columns],
                                                              [[category, *row] for category, row in gain[columns].iterrows()]))
    return tables


def _bar_lines(evaluation: SaliencyEvaluation, oracle: str) -> list[str]:
    lines = []
    for network in evaluation.checkpoints or (NETWORK,):   # the networks notebook 02 scored, by the names it gave
        if network in evaluation.overall and TOKEN_RUN in network:
            lines.append(f"\n**{network}** — not judged against the bars: trained a token epoch to check that the "
                         "notebooks run. `make run` (the smoke profile) trains it for a result.\n")
        elif network in evaluation.overall:
            met = quality_bars(evaluation.overall, network, oracle, evaluation.per_category)
            missed = [bar for bar, ok in met.items() if not ok]
            note = f" (**{evaluation.unfinished[network]}**)" if network in evaluation.unfinished else ""
            uncertain = too_few_to_judge(evaluation.per_category, network)
            lines.append(f"\n**{network}**{note} — " + (f"meets every bar ({len(met)}): " + "; ".join(met) if not missed else
                                                    f"misses {len(missed)} of {len(met)} bars: " + "; ".join(missed))
                         + "." + _margin_sentence(evaluation.overall, network)
                         + (f" {uncertain}" if uncertain else "") + "\n")
    return lines


def _margin_sentence(overall: dict, network: str) -> str:
    """What training adds over maps without any trained parameter: the network's margins over the best
    no-learning row on each metric."""
    margins = no_learning_margins(overall, network)
    if not margins:
        return ""
    said = ", ".join(f"{name} {margin:+.3f}" + (" (KL's fall)" if name == "KL" else "")
                     for name, margin in margins.items())
    return f" Over the best *{NO_LEARNING}* map on each metric (positive: better): {said}."


def _evaluation_figures(evaluation: SaliencyEvaluation) -> list[str]:
    figures = [("fig_saliency_per_category", "One test display of each category: every network's map, and the "
                                             "no-learning map, with the fixations as dots"),
               ("fig_saliency_roc", "ROC curves of one test image of each category (AUC-Judd in the legend)"),
               ("fig_saliency_auc_distribution", "Per-image AUC-Judd of the networks and the baselines"),
               ("fig_saliency_singleton_auc", "Per-image singleton AUC: does the map single out the odd item?"),
               ("fig_saliency_best_worst", f"Best and worst predictions of {NETWORK}, fixations as dots")]
    for network in (n for n in evaluation.checkpoints if n != NETWORK):
        figures.append(("fig_saliency_best_worst_second_model", f"Best and worst predictions of {network}, fixations "
                                                                "as dots"))
    return [_figure(name, caption) for name, caption in figures]


def _layers_without_summary(layers: dict[str, InversionLayer]) -> str:
    """What the layer notebooks that ran say on their own, before notebook 07 compares them."""
    rows = [[layer, record.dataset, record.weights, record.held_out_images, record.lowest_train_loss,
             record.lowest_val_loss, record.scores.get("normalised error", "–")] for layer, record in layers.items()]
    summary = named("layer-summary")
    return (f"\n*{Named('layer-summary')} has not run: each layer notebook that has run is shown from its own "
            f"record ({summary} compares them on the same test images, with the mean image beside them).*\n\n"
            + _table(["layer", "data", "encoder", "test images", "lowest train loss", "lowest validation loss",
                      "normalised error"], rows))


def inversion_section(inversion: InversionSummary | None, layers: dict[str, InversionLayer] | None = None) -> str:
    out = ["\n## 3. Inverting AlexNet\n"]
    if inversion is None:
        return out[0] + (_layers_without_summary(layers) if layers else f"\n*{Named('layer')} and {named('layer-summary')} have not run.*\n")
    data_note = SAMPLE_NOTE if inversion.dataset == "sample" else f"**{inversion.dataset}**"
    out.append(f"*From {named('layer-summary')}'s comparison, {_when(inversion)}: "
               f"`WholeDataset = {inversion.WholeDataset}`, seed {inversion.seed}.*\n")
    out.append(f"Data: {data_note}; {inversion.test_images} test images. Encoder: **{inversion.weights}**.\n\n"
               "Decoders follow Tables 3 and 4 and are trained as Table 5 (Adam, MSE in normalised pixel space). "
               "The normalised reconstruction error is the paper's: mean ‖x − x̂‖ over the mean distance "
               "between random pairs of test images; the *mean image* row predicts the training images' mean "
               "for every test image, the error any decoder that learned something must beat.\n")
    comparable = inversion.dataset == "tiny-imagenet" and "random" not in inversion.weights
    out.append("The assignment's losses (pretrained AlexNet, Tiny-ImageNet) stand beside this run's "
               + ("for comparison.\n" if comparable else
                  "for reference only: they are **not comparable** — this run "
                  + ", ".join(part for part in (
                      "uses other data" if inversion.dataset != "tiny-imagenet" else "",
                      "inverts a random AlexNet" if "random" in inversion.weights else "") if part)
                  + ", and the loss depends on both.\n"))
    rows = []
    for layer, row in inversion.layers.items():
        paper = ASSIGNMENT_INVERSION_LOSS.get(layer, ("–", "–"))
        rows.append([layer, row.get("lowest train loss", "–"), row.get("MSE", "–"), paper[0], paper[1],
                     row["normalised error"], row["PSNR"], row["SSIM"]])
    out.append(_table(["layer", "lowest train loss", "test MSE (last epoch)", "assignment train",
                       "assignment test (lowest)", "normalised error", "PSNR (dB)", "SSIM"], rows))
    out.append("The test images are scored once, after the last epoch; each epoch was checked on validation "
               "images taken from the training set, so nothing was chosen on the test images.\n")
    out.append(_figure("fig3_inversion_loss_all_layers", "Figure 3 — train and validation loss per epoch for each layer"))
    out.append(_figure("fig_inversion_error_by_layer", "Reconstruction error against depth"))
    out.append(_figure("fig4_reconstructions_all_layers", "Figure 4 — originals and their reconstructions from each layer"))
    return "\n".join(out)


def comparison_section(comparison: InversionComparison | None) -> str:
    out = ["\n## 4. What ImageNet training keeps: a pretrained network against a random one\n"]
    if comparison is None:
        return out[0] + f"\n*{Named('layer-summary')}'s part two has not run.*\n"
    out.append(f"*From {named('layer-summary')}'s part two, {_when(comparison)}: "
               f"`WholeDataset = {comparison.WholeDataset}`, seed {comparison.seed}, {comparison.image_size}² input.*\n")
    out.append(f"Decoders for {comparison.encoder} at {len(comparison.layers)} depths, trained on its ImageNet weights "
               f"(**{comparison.weights.get('pretrained', '')}**) and on random weights "
               f"(**{comparison.weights.get('random', '')}**), scored on the same {comparison.test_images} crops of "
               "photographs never used for training.\n")
    metrics = ["normalised error", "PSNR", "SSIM", "mean-colour error"]
    rows = [["mean image", ""] + [comparison.mean_image[m] for m in metrics] + ["–"]]
    for layer in comparison.layers:
        for kind in ("pretrained", "random"):
            row = comparison.rows[kind][layer]
            rows.append([layer, kind] + [row[m] for m in metrics]
                        + [f"{row['images with a better mean colour than the mean image']:.0%}"])
    out.append(_table(["layer", "weights"] + metrics + ["images whose mean colour beats the mean image's"], rows))
    mean_error = comparison.mean_image["normalised error"]
    pretrained = [comparison.rows["pretrained"][layer]["normalised error"] for layer in comparison.layers]
    beaten = [layer for layer, error in zip(comparison.layers, pretrained) if error <= 0.9 * mean_error]
    out.append(f"\nThe pretrained network's decoders are at least 10 % below the mean image's error at "
               f"{len(beaten)} of {len(comparison.layers)} depths ({', '.join(beaten) or 'none'}). Against the random "
               "network's, image by image (the normalised error's difference, ± its standard error):\n")
    out += [f"- {layer}: {_compared(comparison.differences[layer])}" for layer in comparison.differences]
    out.append(_figure("fig_inversion_trained_vs_random", "Error and structure against depth, pretrained and random"))
    out.append(_figure("fig_inversion_trained_vs_random_grid", "Reconstructions from each depth, pretrained and random"))
    return "\n".join(out)


def _compared(difference: dict) -> str:
    """Pretrained against random: "below" or "above" only where the difference exceeds its standard error."""
    mean, se, images = difference["mean"], difference["se"], difference["images"]
    if abs(mean) <= se:
        return f"no difference measured ({mean:+.3f} ± {se:.3f}, {images} images)"
    return f"{'below' if mean < 0 else 'above'} it by {abs(mean):.3f} ± {se:.3f} ({images} images)"


#: The HTML report's style: for the screen, and for A4 paper (tables and figures never split across pages).
STYLE = """
body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;line-height:1.5;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:0.85em;max-width:100%}
td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}
td:first-child,th:first-child{text-align:left}
img{max-width:100%}
@page{size:A4;margin:14mm 12mm}
@media print{
  body{max-width:none;margin:0;padding:0;font-size:9.5pt;line-height:1.35}
  table{font-size:7.5pt;width:100%;page-break-inside:avoid}
  td,th{padding:2px 3px}
  img,p:has(img){page-break-inside:avoid}
  h2{page-break-after:avoid}
}
"""


#: The widest a figure is embedded in REPORT.html, in pixels: 1,400 is 190 dpi across A4's 186 mm text
#: column (the PNGs in figures/ keep their full size, and the line plots their vector PDFs).
EMBEDDED_WIDTH = 1400
#: Anti-aliased plots have a few thousand colours (the ROC panels 19 k), figures of images 200 k and more.
PLOT_COLOURS = 50_000


def embedded_figure(path: Path) -> str:
    """``path`` as a data URL for the page, at most :data:`EMBEDDED_WIDTH` wide: a plot (lines, text and
    flat fills: under :data:`PLOT_COLOURS` colours) as a 256-colour PNG, where a palette loses nothing
    visible; a figure of images (photographs, reconstructions, maps) as a JPEG of quality 88, which a
    palette would posterise."""
    with Image.open(path) as opened:
        image = opened.convert("RGB")
    plot = image.getcolors(maxcolors=PLOT_COLOURS) is not None   # counted at full size, before resampling
    if image.width > EMBEDDED_WIDTH:
        image = image.resize((EMBEDDED_WIDTH, round(image.height * EMBEDDED_WIDTH / image.width)), Image.LANCZOS)
    buffer = io.BytesIO()
    if plot:
        image.quantize(256, dither=Image.Dither.NONE).save(buffer, "PNG", optimize=True)
    else:
        image.save(buffer, "JPEG", quality=88)
    mime = "image/png" if plot else "image/jpeg"
    return f'src="data:{mime};base64,' + base64.b64encode(buffer.getvalue()).decode("ascii") + '"'


def report_html(markdown_text: str, folder: Path) -> str:
    """The report as one self-contained HTML page: every figure embedded (it opens from an e-mail
    attachment; :func:`embedded_figure`), styled to print on A4 without cut tables, a long column name
    free to break between its words (``Face·And·Colour·Singleton``) so a table keeps within the column."""
    body = markdown.markdown(markdown_text, extensions=["tables"])
    body = re.sub(r'src="(figures/[^"]+\.png)"',
                  lambda m: embedded_figure(folder / m.group(1)) if (folder / m.group(1)).is_file() else m.group(0), body)
    body = re.sub(r"<th>([^<]*)</th>", lambda m: "<th>" + re.sub(r"(?<=[a-z])(?=[A-Z])", "<wbr>", m.group(1)) + "</th>",
                  body)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>Saliency and inversion — report</title>"
            f"<style>{STYLE}</style></head><body>{body}</body></html>\n")


def build_pdf(html_path: Path) -> Path:
    """``REPORT.pdf`` beside ``html_path``, printed by headless Chromium (A4, no header or footer)."""
    browser = next((found for name in ("chromium", "chromium-browser", "google-chrome", "chrome")
                    if (found := shutil.which(name))), None)
    if browser is None:
        raise FileNotFoundError("REPORT.pdf is printed by headless Chromium or Chrome, and neither is installed "
                                "(e.g. `apt install chromium`); or open REPORT.html in a browser and print it to PDF")
    pdf = html_path.with_suffix(".pdf")
    with atomic_path(outputs.check_may_write(pdf, paths.report_dir())) as partial:
        done = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                               f"--print-to-pdf={partial}", html_path.resolve().as_uri()],
                              capture_output=True, text=True, timeout=300, check=False)
        if done.returncode or not pdf_is_whole(Path(partial)):
            raise RuntimeError(f"{browser} could not print {html_path} whole (exit status {done.returncode}; a full "
                               f"disk leaves a cut file); {pdf.name} is left as it was: {done.stderr.strip()[-300:]}")
    return pdf


def pdf_is_whole(path: Path) -> bool:
    """Whether ``path`` is a whole PDF: it starts with ``%PDF-`` and ends with ``%%EOF`` (a printer cut
    off by a full disk leaves the start of the file and no end)."""
    data = path.read_bytes() if path.is_file() else b""
    return data.startswith(b"%PDF-") and b"%%EOF" in data[-1024:]


def build_report() -> tuple[Path, Path]:
    """Write ``REPORT.md`` and ``REPORT.html`` into the report folder; return their paths."""
    training, evaluation, inversion = training_record(SALNET), SaliencyEvaluation.read(), InversionSummary.read()
    second = training_record(CONTRAST)
    comparison = InversionComparison.read()
    layers = layer_records(None)  # what the layer notebooks wrote, before notebook 07 compares them
    datasets = sorted({record.dataset for record in (training, inversion, *layers.values()) if record})
    weights = (inversion.weights if inversion else "; ".join(sorted({r.weights for r in layers.values()}))
               or "not used (Part 2 has not run)")
    header = (f"# Saliency prediction and inverting AlexNet — report\n\n"
              f"Generated {_dt.datetime.now():%Y-%m-%d %H:%M} from `report/metrics/` by `python -m helpers.report`.\n\n"
              f"- **Data:** {', '.join(datasets) or 'none yet'}"
              f"{' — generated samples, not the papers’ data' if 'sample' in datasets else ''}\n"
              f"- **AlexNet weights:** {weights}\n")
    text = (header + "\n" + saliency_section(training, evaluation, second) + "\n" + inversion_section(inversion, layers)
            + comparison_section(comparison))
    folder = outputs.own(paths.report_dir())
    for page, contents in (("REPORT.md", text), ("REPORT.html", report_html(text, folder))):
        write_text_atomic(outputs.check_may_write(folder / page, folder), contents)
    return folder / "REPORT.md", folder / "REPORT.html"


def main() -> int:
    pages = build_report()
    if "--pdf" in sys.argv[1:]:
        pages = (*pages, build_pdf(pages[1]))
    print("\n".join(str(p) for p in pages))
    return 0


if __name__ == "__main__":
    run_command(main, "python -m helpers.report")
