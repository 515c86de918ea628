"""The notebooks, executed headless by papermill on the generated sample.

Every notebook runs at the ``ci`` profile (:data:`helpers.profiles.CI`): it executes, writes every figure
and record and labels them truly, while SalNet and the AlexNet decoders train only a token epoch. The
second saliency model keeps its smoke settings there, so its bars — a claim of the README's — are
asserted on this run; the other quality claims keep their tests at their own settings in
``tests/test_claims.py``."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from helpers import baselines, metrics, paths, pipeline, profiles
from helpers.evaluation import (ALL_ITEMS, CENTRE_BIAS, CHANCE, NETWORK, ORACLE_SAMPLE, SECOND_NETWORK,
                                quality_bars)
from helpers.models import CONTRAST
from helpers.samples import FACE_CATEGORIES, SALIENCY_CATEGORIES
from helpers.records import InversionSummary, SaliencyEvaluation, SaliencyTraining
from helpers.checkpoints import read_checkpoint
from notebook_runs import execute, notebook_default

pytestmark = pytest.mark.slow
#: SalNet as the ci profile's token run names it everywhere (its figures, tables, bar list and report).
TOKEN_NETWORK = f"{NETWORK} — {profiles.TOKEN_RUN}"


@pytest.fixture(scope="module")
def saliency_run(workspace):
    execute("01_saliency_model")
    execute("02_judd_auc_evaluation")
    return workspace


def test_notebook_01_trains_and_draws_the_assignment_figures(saliency_run):
    record = SaliencyTraining.read()
    state = read_checkpoint(record.checkpoint)
    smoke = profiles.CI["saliency"]
    assert Path(record.checkpoint).parent == paths.checkpoint_dir() and Path(record.checkpoint).name.startswith("saliency_sample_")
    assert state["epoch"] == record.epochs_trained == smoke["epochs"]
    assert state["spec"]["whole_dataset"] == record.WholeDataset == smoke["whole_dataset"]
    assert state["metadata"]["sample_seed"] == 0
    assert (record.train_images, record.validation_images, record.held_out_images) == (224, 48, 48)  # 70/15/15 of 320
    assert all("AUC-Judd" in row and "singleton AUC" in row for row in state["history"])  # scored every epoch
    second = SaliencyTraining.read(SaliencyTraining.file_for(CONTRAST))
    assert second.epochs_trained == profiles.SMOKE["contrast"]["epochs"] and second.parameters < 100_000
    assert profiles.CI["contrast"] == profiles.SMOKE["contrast"]   # the bars below are the smoke run's claim
    diagnosis = pd.read_csv(paths.metrics_dir() / "saliency_diagnosis.csv", comment="#", index_col=0)["value"]
    # the diagnosis speaks the loss SalNet trained with (the smoke profile's KL): an empty map is the worst
    assert diagnosis["validation KL: the trained network"] < diagnosis["validation KL: all background"]
    for name in ("fig1_saliency_loss.png", "fig1_saliency_loss.pdf", "fig2_saliency_predictions.png"):
        assert (paths.figures_dir() / name).stat().st_size > 10_000
    grid = Image.open(paths.figures_dir() / "fig2_saliency_predictions.png")
    assert grid.width > grid.height  # four columns: image, ground truth, both networks; a row per category


def assert_the_second_model_finds_the_singleton(summary: SaliencyEvaluation):
    """Every bar of the sample (the README's): singleton AUC overall and in each of the six categories,
    AUC-Judd towards the oracle, NSS, better than the centre bias on every metric, better than the best
    no-learning map on singleton AUC, NSS and KL, and on both face categories by the margin — judged on
    the network's own output."""
    assert summary.oracle == ORACLE_SAMPLE
    met = quality_bars(summary.overall, SECOND_NETWORK, summary.oracle, summary.per_category)
    centre_bars = sum(metric.bar_against_centre for metric in metrics.METRICS)
    assert len(met) == 1 + len(SALIENCY_CATEGORIES) + 1 + 1 + centre_bars + 3 + len(FACE_CATEGORIES)
    assert sum("from the best no-learning map's" in bar for bar in met) == len(FACE_CATEGORIES)
    missed = [bar for bar, ok in met.items() if not ok]
    print({name: {m: round(v, 4) for m, v in scores.items()} for name, scores in summary.overall.items()})
    assert not missed, f"{SECOND_NETWORK} misses: {missed}"


def test_notebook_02_scores_both_networks_and_the_second_finds_the_singleton(saliency_run):
    summary = SaliencyEvaluation.read()
    overall = summary.overall
    no_learning = {baselines.row_name(candidate.name) for candidate in baselines.CANDIDATES}
    assert {TOKEN_NETWORK, SECOND_NETWORK, CENTRE_BIAS, CHANCE, ORACLE_SAMPLE, ALL_ITEMS} | no_learning == set(overall)
    assert overall[CHANCE]["AUC-Judd"] == pytest.approx(0.5, abs=0.05)
    assert overall[ALL_ITEMS]["singleton AUC"] == pytest.approx(0.5, abs=0.02)
    assert summary.checkpoint == SaliencyTraining.read().checkpoint  # the model notebook 01 trained
    assert summary.sample_seed == 0
    held_out = summary.held_out_images
    assert held_out == 6 * 8  # WholeDataset 320 over six categories: 53 or 54 each, 15 % (8) of each held out
    assert "chosen by its mean AUC-Judd on the validation images" in summary.no_learning
    per_image = pd.read_csv(paths.metrics_dir() / "saliency_scores_per_image.csv")
    assert len(per_image) == len(overall) * held_out
    assert np.isfinite(per_image[["AUC-Judd", "NSS", "CC", "SIM", "KL", "singleton AUC"]].to_numpy()).all()
    assert_the_second_model_finds_the_singleton(summary)
    for name in ("fig_saliency_roc.png", "fig_saliency_auc_distribution.png", "fig_saliency_best_worst.png",
                 "fig_saliency_singleton_auc.png", "fig_saliency_per_category.png",
                 "fig_saliency_best_worst_second_model.png"):
        assert (paths.figures_dir() / name).stat().st_size > 10_000


def test_notebook_02_without_a_checkpoint_names_notebook_01(tmp_path):
    from helpers.trained_models import load_saliency_model

    with pytest.raises(FileNotFoundError, match="01_saliency_model"):
        load_saliency_model(tmp_path / "saliency_sample.pt")


@pytest.fixture(scope="module")
def inversion_run(workspace):
    for stem in ("03_invert_conv2", "04_invert_conv5", "05_invert_fc6", "06_invert_fc8", "07_inversion_summary"):
        execute(stem)
    return workspace


def test_notebooks_03_to_07_train_every_layer_and_compare_them(inversion_run):
    from helpers.inversion import layer_records

    summary = InversionSummary.read()
    assert list(summary.layers) == ["mean image", "conv2", "conv5", "fc6", "fc8"]
    # no pretrained AlexNet here: the fallback must be announced in the metrics files
    assert summary.weights == "AlexNet: random weights — not the paper's setting"
    assert (paths.metrics_dir() / "inversion_metrics.csv").read_text().startswith("# AlexNet: random weights")
    ci = profiles.CI["inversion"]
    assert summary.WholeDataset == ci["whole_dataset"] and summary.test_images == 9  # round(0.15 × 60)
    layers = summary.layers
    own_records = layer_records("sample", "alexnet", "random")  # each layer notebook's own record
    # the normaliser is the mean distance between two test images, so predicting their mean scores about
    # 1/√2 of it (‖x − μ‖ against ‖x − y‖ = √2 ‖x − μ‖ for independent images): a check of the scale
    assert 0.62 < layers["mean image"]["normalised error"] < 0.8
    for layer in ("conv2", "conv5", "fc6", "fc8"):
        row, own = layers[layer], own_records[layer]
        assert own.held_out_images == row["images"] == 9 and row["epochs"] == ci["epochs"]
        assert row["MSE"] == pytest.approx(own.scores["MSE"], rel=1e-6)   # the test images scored once, after training
        assert own.validation_images > 0 and own.history[-1]["val_loss"] > 0   # each epoch checked on validation
    for name in ["fig3_inversion_loss_all_layers.png", "fig_inversion_error_by_layer.png",
                 "fig4_reconstructions_all_layers.png"] + [f"fig4_reconstructions_alexnet_{l}_random.png"
                                                            for l in own_records]:
        assert (paths.figures_dir() / name).stat().st_size > 10_000


def test_notebook_07_compares_a_pretrained_network_with_a_random_one_on_unseen_photographs(inversion_run):
    from helpers.records import InversionComparison

    comparison = InversionComparison.read()
    ci = profiles.CI["comparison"]
    assert (comparison.WholeDataset, comparison.image_size) == (ci["whole_dataset"], ci["image_size"])
    token = f" — {profiles.TOKEN_RUN}"   # every label of the ci profile's token decoders says so
    assert comparison.weights["pretrained"] == "MobileNetV2: torchvision's ImageNet weights (IMAGENET1K_V1)" + token
    assert comparison.weights["random"] == "MobileNetV2: random weights — not the paper's setting" + token
    assert set(comparison.differences) == set(comparison.layers) and all(
        d["images"] == comparison.test_images and d["se"] > 0 for d in comparison.differences.values())
    assert comparison.layers == notebook_default("07_inversion_summary", "COMPARE_LAYERS")
    for kind in ("pretrained", "random"):
        assert set(comparison.rows[kind]) == set(comparison.layers)
        assert all(row["images"] == comparison.test_images and np.isfinite(row["normalised error"])
                   for row in comparison.rows[kind].values())
    for name in ("fig_inversion_trained_vs_random.png", "fig_inversion_trained_vs_random_grid.png"):
        assert (paths.figures_dir() / name).stat().st_size > 10_000


def test_the_report_fills_in_the_numbers_from_the_metrics_files(saliency_run, inversion_run):
    from helpers.report import build_report

    markdown_path, html_path = build_report()
    report = markdown_path.read_text()
    saliency, inversion = SaliencyEvaluation.read(), InversionSummary.read()
    assert "**AlexNet weights:** AlexNet: random weights — not the paper's setting" in report
    assert "generated samples, not the papers’ data" in report
    assert "`PROFILE = 'ci'` chooses them" in report   # SalNet's token epoch is called what it is
    assert f"{saliency.overall[TOKEN_NETWORK]['AUC-Judd']:.4f}" in report
    assert f"**{TOKEN_NETWORK}** — not judged against the bars: trained a token epoch" in report   # no ✗ verdicts
    assert f"{inversion.layers['fc8']['normalised error']:.4f}" in report
    assert "has not run" not in report
    for figure in ("fig1_saliency_loss", "fig_saliency_roc", "fig4_reconstructions_all_layers"):
        assert f"figures/{figure}.png" in report
    assert "<table>" in html_path.read_text()


def conv3_notebook(folder: Path) -> Path:
    """The notebook a student adds for conv3: the first layer notebook with its title and ``LAYER``
    default changed, numbered after the summary — nothing else in the project is touched."""
    source = json.loads((paths.NOTEBOOKS / "03_invert_conv2.ipynb").read_text())
    title, parameters = source["cells"][0], source["cells"][1]
    title["source"] = ["".join(title["source"]).replace("conv2", "conv3")]
    parameters["source"] = ["".join(parameters["source"]).replace('LAYER: str = "conv2"', 'LAYER: str = "conv3"')]
    path = folder / "08_invert_conv3.ipynb"
    path.write_text(json.dumps(source, indent=1))
    return path


def test_a_new_layer_notebook_runs_before_the_summary_and_the_summary_lists_its_layer(tmp_path, monkeypatch, capfd):
    import shutil

    folder = tmp_path / "notebooks"
    folder.mkdir()
    added = conv3_notebook(folder)
    summary_notebook = Path(shutil.copy(paths.NOTEBOOKS / "07_inversion_summary.ipynb", folder))
    assert pipeline.notebooks(folder) == [added, summary_notebook]        # by role, not by number
    monkeypatch.setenv("SALIENCY_REPORT_DIR", str(tmp_path / "report"))   # this run's records only
    monkeypatch.setenv("SALIENCY_EXECUTED_DIR", str(tmp_path / "executed"))
    assert pipeline.main(["--notebooks", str(folder), "--quiet", "-p", "WholeDataset", "40", "-p", "EPOCHS", "1",
                          "-p", "IMAGE_SIZE", "64", "-p", "COMPARE", "False"]) == 0
    out = capfd.readouterr().out
    assert out.index("08_invert_conv3.ipynb done") < out.index("07_inversion_summary.ipynb done")
    assert list(InversionSummary.read().layers) == ["mean image", "conv3"]
    assert (tmp_path / "report" / "figures" / "fig4_reconstructions_alexnet_conv3_random.png").is_file()
