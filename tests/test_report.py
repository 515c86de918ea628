"""The generated report: one run's records, marked when unfinished, every network judged against every bar."""
import pytest

from helpers import profiles, report
from helpers.evaluation import CENTRE_BIAS, CHANCE, NETWORK
from helpers.records import SaliencyEvaluation, SaliencyTraining
from helpers.trained_models import UnfinishedModelError, check_finished
from helpers.spec import InversionSpec, SaliencySpec

METRICS = {"AUC-Judd": 0.7, "NSS": 1.2, "KL": 1.5, "IG": 0.3}


def training_record(epochs_trained=15, epochs_planned=15, checkpoint="checkpoints/saliency_sample_aaaa.pt"):
    return SaliencyTraining(dataset="sample", data_root="data/x", metadata={}, checkpoint=checkpoint,
                            train_images=68, held_out_images=12,
                            history=[{"epoch": 1, "train_loss": 0.5, "val_loss": 0.4, "lr": 3e-4}],
                            epochs_trained=epochs_trained, epochs_planned=epochs_planned, parameters=6_457_057,
                            output_size=[92, 124],
                            spec=SaliencySpec(whole_dataset=80, epochs=epochs_planned, optimizer="adam",
                                              learning_rate=3e-4, image_size=(96, 128)).as_dict())


def evaluation_record(epochs_trained=15, checkpoint="checkpoints/saliency_sample_aaaa.pt", network=METRICS):
    return SaliencyEvaluation(dataset="sample", checkpoint=checkpoint, held_out_images=12, jitter=True, seed=0,
                              centre_bias_sigma=[0.25, 0.25], epochs_trained=epochs_trained, epochs_planned=15,
                              overall={NETWORK: network, CENTRE_BIAS: {"AUC-Judd": 0.6, "NSS": 0.5, "KL": 2.0, "IG": 0.0},
                                       CHANCE: {"AUC-Judd": 0.5, "NSS": 0.0, "KL": 2.5, "IG": -0.1}},
                              per_category={m: {"all-in-one": METRICS} for m in (NETWORK, CENTRE_BIAS, CHANCE)})


def test_each_network_is_judged_against_every_bar_and_the_missed_ones_named():
    training = training_record()
    text = report.saliency_section(training, evaluation_record())
    assert "**SalNet (half)** — meets every bar (5): NSS ≥ 1.0; AUC-Judd above the centre bias" in text
    mixed = {**METRICS, "KL": 3.0, "IG": -0.2}  # KL: lower is better
    text = report.saliency_section(training, evaluation_record(network=mixed))
    assert "misses 2 of 5 bars: KL below the centre bias; IG above 0 (over the centre bias)." in text
    assert "Too few test displays" not in text
    wide = evaluation_record()   # a category's singleton AUC too uncertain to judge its bars on: named
    wide.per_category = {m: {"A": METRICS, "B": METRICS} for m in wide.overall}
    wide.per_category[NETWORK] = {"A": {**METRICS, "singleton AUC": 0.9, "singleton AUC SE": 0.06},
                                  "B": {**METRICS, "singleton AUC": 0.9, "singleton AUC SE": 0.01}}
    text = report.saliency_section(training, wide)
    assert "Too few test displays for a sure verdict on the bars of A (± 0.060): a standard error above 0.03" in text
    assert "B (±" not in text


def test_settings_other_than_table_2_are_named_with_the_profile_that_chose_them():
    text = report.saliency_section(training_record(), None)
    assert ("differ from Table 2, set by hand: EPOCHS 15 (Table 2: 20), OPTIMIZER 'adam' (Table 2: sgd), "
            "LEARNING_RATE 0.0003 (Table 2: 1e-4), IMAGE_SIZE [96, 128] (Table 2: 240×320)") in text
    assert "BATCH_SIZE" not in text and "PROFILE =" not in text   # no profile has these settings
    for profile in ("smoke", "ci"):
        record = training_record(epochs_planned=profiles.PROFILES[profile]["saliency"]["epochs"])
        record.spec = SaliencySpec.from_values({}, profile, group="saliency", report=None).as_dict()
        text = report.saliency_section(record, None)
        assert f"`PROFILE = '{profile}'` chooses them: {profiles.profile_reason(profile, 'saliency')}" in text


def test_scores_of_another_run_are_left_out_not_mixed_in():
    text = report.saliency_section(training_record(epochs_trained=1, epochs_planned=20),
                                   evaluation_record(epochs_trained=15))
    assert "**unfinished: 1 of 20 epochs**" in text
    assert "are of another model" in text and "0.7000" not in text


def test_each_section_says_which_run_it_comes_from():
    training, evaluation = training_record(), evaluation_record()
    training.written = evaluation.written = "2026-11-28T10:00:00"
    text = report.saliency_section(training, evaluation)
    assert text.count("written 2026-11-28 10:00:00: `saliency_sample_aaaa.pt`, 15 epochs") == 2
    assert "0.7000" in text and "meets every bar" in text


def test_an_unfinished_network_is_refused_unless_allowed(capsys):
    trained = {"epochs_trained": 2, "epochs_planned": 20}
    with pytest.raises(UnfinishedModelError, match=r"x.pt: the network is unfinished: 2 of 20 epochs.*ALLOW_UNFINISHED"):
        check_finished(trained, "x.pt")
    assert check_finished(trained, "x.pt", allow_unfinished=True) == "unfinished: 2 of 20 epochs"
    assert "NOTE: scoring a network that is unfinished" in capsys.readouterr().out
    assert check_finished({"epochs_trained": 20, "epochs_planned": 20}, "x.pt") == ""


def test_the_assignments_losses_are_marked_not_comparable_when_they_are_not():
    from helpers.records import InversionSummary

    row = {"lowest train loss": 0.6, "lowest validation loss": 0.7, "MSE": 0.72, "normalised error": 0.5, "PSNR": 15.0,
           "SSIM": 0.4}
    summary = InversionSummary(dataset="sample", weights="AlexNet: random weights — not the paper's setting",
                               weights_id="alexnet: random (seed 0)", WholeDataset=144, seed=0, test_images=22,
                               layers={"mean image": {"normalised error": 0.73, "PSNR": 12.0, "SSIM": 0.37},
                                       "conv2": row})
    text = report.inversion_section(summary)
    assert "**not comparable** — this run uses other data, inverts a random AlexNet" in text
    assert "| mean image | – | – | – | – | 0.7300 |" in text and "| conv2 | 0.6000 | 0.7200 | 0.2030 | 0.2010 |" in text   # the test MSE after the last epoch


def test_on_the_sample_the_report_shows_the_reference_rows_and_the_table_2_run_elsewhere_not(tmp_path, monkeypatch):
    import json

    row = {"training": "SGD 0.0001, batch 2, 240×320, 20 epochs", "AUC-Judd": 0.512, "singleton AUC": 0.49,
           "NSS": 0.1, "KL": 1.9, "IG": 0.05, "bars_met": 3, "bars": 18}
    results = {"command": "python benchmarks/part1_sample.py", "sample_seed": 0, "test_images": 48,
               "order": ["SalNet (half), Table 2"], "rows": {"SalNet (half), Table 2": row}}
    monkeypatch.setattr(report, "REFERENCE_RESULTS", tmp_path / "part1.json")
    (tmp_path / "part1.json").write_text(json.dumps(results))
    evaluation = evaluation_record()
    evaluation.sample_seed = 0
    text = report.saliency_section(training_record(), evaluation)
    assert "| SalNet (half), Table 2 | SGD 0.0001, batch 2, 240×320, 20 epochs | 0.512 | 0.490 | 0.100 | 1.900 | " \
           "0.050 | 3 of 18 |" in text
    evaluation.sample_seed = 7
    assert "drawn with seed 0; this run's is 7" in report.saliency_section(training_record(), evaluation)
    evaluation.dataset = "cat2000"
    assert "reference measurements" not in report.saliency_section(training_record(), evaluation)


def test_after_notebook_03_alone_the_report_shows_what_ran_and_numbers_every_section(tmp_path, monkeypatch):
    from helpers.records import InversionLayer

    monkeypatch.setenv("SALIENCY_REPORT_DIR", str(tmp_path))
    InversionLayer(dataset="sample", data_root="data/x", spec=InversionSpec(whole_dataset=144).as_dict(), metadata={},
                   checkpoint="c.pt", train_images=122,
                   held_out_images=22, history=[{"epoch": 1, "train_loss": 0.61, "val_loss": 0.52}],
                   epochs_trained=4, epochs_planned=4, layer="conv2", weights="AlexNet: random weights — not the "
                   "paper's setting", scores={"normalised error": 0.588}).write()
    markdown_path, _ = report.build_report()
    text = markdown_path.read_text()
    assert "**AlexNet weights:** AlexNet: random weights — not the paper's setting" in text
    assert "Notebook 07_inversion_summary has not run" in text and "| conv2 | sample |" in text and "0.5880" in text
    assert "The layer notebooks (03_invert_conv2" not in text   # one of them ran
    assert [line[:5] for line in text.splitlines() if line.startswith("## ")] == ["## 1.", "## 2.", "## 3.", "## 4."]


def test_the_html_report_is_self_contained_and_prints_to_a4(tmp_path, monkeypatch):
    import base64

    from PIL import Image

    monkeypatch.setenv("SALIENCY_REPORT_DIR", str(tmp_path))
    (tmp_path / "figures").mkdir()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(tmp_path / "figures" / "fig1_saliency_loss.png")
    text = "![Figure 1](figures/fig1_saliency_loss.png)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    html = report.report_html(text, tmp_path)
    import io
    import re

    (payload,) = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    embedded = Image.open(io.BytesIO(base64.b64decode(payload))).convert("RGB")
    assert embedded.size == (8, 8) and set(embedded.getdata()) == {(200, 30, 30)}   # a plot's colours, exact
    assert 'src="figures/' not in html
    assert "@page{size:A4" in html and "page-break-inside:avoid" in html and "<table>" in html


def test_a_large_photographic_figure_is_embedded_at_most_1400_pixels_wide_as_a_jpeg_and_smaller(tmp_path):
    """What made REPORT.html 10.8 MB: reconstruction grids embedded as full-size PNGs."""
    import base64
    import io
    import re

    import numpy as np
    from PIL import Image

    from skimage.data import astronaut

    photo = np.concatenate([astronaut()] * 6, axis=1)   # a grid of photographs, 3072 × 512
    Image.fromarray(photo).save(tmp_path / "grid.png")
    mime, payload = re.fullmatch(r'src="data:(image/\w+);base64,([^"]+)"', report.embedded_figure(tmp_path / "grid.png")).groups()
    embedded = Image.open(io.BytesIO(base64.b64decode(payload)))
    assert mime == "image/jpeg" and embedded.size == (1400, 233)
    assert len(base64.b64decode(payload)) < (tmp_path / "grid.png").stat().st_size / 4


def test_a_long_column_name_may_break_between_its_words_so_a_table_keeps_within_the_column(tmp_path):
    html = report.report_html("| map | FaceAndColourSingleton |\n|---|---|\n| a | 1 |\n", tmp_path)
    assert "<th>Face<wbr>And<wbr>Colour<wbr>Singleton</th>" in html


@pytest.mark.slow
def test_the_pdf_is_printed_by_headless_chromium(tmp_path):
    import shutil

    if not any(shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome", "chrome")):
        pytest.skip("no Chromium or Chrome on this machine (make pdf says how to get one)")
    html = tmp_path / "REPORT.html"
    html.write_text(report.report_html("# Report\n\n| a | b |\n|---|---|\n| 1 | 2 |\n", tmp_path))
    pdf = report.build_pdf(html)
    import re

    content = pdf.read_bytes()
    width, height = map(float, re.search(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", content).groups())
    assert content.startswith(b"%PDF") and abs(width - 595.3) < 1.5 and abs(height - 841.9) < 1.5  # A4 in points


def test_every_table_of_the_saliency_section_renders_as_a_table(tmp_path):
    evaluation = evaluation_record()
    evaluation.per_category = {m: {"A": METRICS, "B": METRICS} for m in evaluation.overall}
    text = report.saliency_section(training_record(), evaluation)
    html = report.report_html(text, tmp_path)
    pipes = [line for line in text.splitlines() if line.startswith("|")]
    tables = sum(1 for line in pipes if line.startswith("|---"))
    assert html.count("<table>") == tables and "**AUC-Judd per category** (± one standard error" in text
    assert "| category |" not in html   # no table left as text


def test_on_cat2000_the_published_benchmark_rows_stand_beside_this_runs_with_source_and_caveat_once():
    import json

    from helpers.published import PUBLISHED

    entry = json.loads(PUBLISHED.read_text())["datasets"]["cat2000"]
    evaluation = evaluation_record()
    evaluation.dataset = "cat2000"
    text = report.saliency_section(training_record(), evaluation)
    assert text.count(entry["source"]) == 1 and text.count("Caveat:") == 1
    assert "hidden test set" in text and "held out" in text
    # this run's rows and every published row, marked as such, on the metrics both have (AUC-Judd, NSS, KL here)
    assert f"| {NETWORK} | this run | 0.7000 | 1.2000 | 1.5000 |" in text
    for row in entry["rows"]:
        assert (f"| {row['model']} ({row['reference']}) | published | {row['AUC']:.4f} | {row['NSS']:.4f} | "
                f"{row['KLDiv']:.4f} |") in text


def test_on_the_sample_and_other_data_sets_the_published_rows_are_left_out_with_the_reason():
    text = report.saliency_section(training_record(), evaluation_record())
    assert "| published |" not in text
    assert "No published benchmark rows beside these: the sample is generated data" in text
    evaluation = evaluation_record()
    evaluation.dataset = "salicon"
    assert "No published benchmark rows beside these: no published SALICON" in report.saliency_section(
        training_record(), evaluation)


def test_the_published_file_keeps_whole_rows_with_their_source_and_no_number_of_ours():
    import json

    from helpers.published import PUBLISHED, published_rows

    everything = json.loads(PUBLISHED.read_text())
    for dataset, entry in everything["datasets"].items():
        assert entry["source"].startswith("https://") and entry["read"] and entry["caveat"]
        published = published_rows(dataset)
        assert set(published.metrics) == set(entry["columns"].values())
        for row in entry["rows"]:
            assert row["reference"] and all(isinstance(row[c], float) for c in entry["columns"])
            assert published.rows[row["model"]] == {ours: row[theirs] for theirs, ours in entry["columns"].items()}
    assert {"sample", "mit1003", "salicon"} <= set(everything["left_out"])


def test_a_run_trained_under_bf16_autocast_says_so_and_a_float32_run_says_nothing():
    """(read from the spec the record stores: the only place a run's settings are kept)"""
    training = training_record()
    assert "epochs, bf16 autocast" not in report.saliency_section(training, None)
    training.spec = {**training.spec, "mixed_precision": True}
    assert "15 epochs, bf16 autocast," in report.saliency_section(training, None)


def test_the_report_says_which_loss_each_network_trained_on_and_that_the_assignments_losses_do_not_compare():
    """Under the smoke profile SalNet trains on the maps' KL divergence and the second model on MSE:
    the report must not say "same loss", and a KL run's loss is not Table 2's CAT2000 MSE."""
    from helpers.spec import ContrastSpec

    salnet = training_record()
    salnet.spec = {**salnet.spec, "loss": "kld"}
    second = training_record(checkpoint="checkpoints/saliency_contrast_sample_bbbb.pt")
    second.model, second.front_end = "contrast", "MobileNetV2: random weights"
    second.spec = ContrastSpec(whole_dataset=80, image_size=(192, 256)).as_dict()
    text = report.saliency_section(salnet, None, second)
    assert "Same images, same loss" not in text and "same loss;" not in text
    assert "its loss is MSE (SalNet's: the KL divergence of the maps)" in text
    assert "**not comparable** — it trains on another loss (the KL divergence of the maps) and it trains on the generated sample" in text
    salnet.spec = {**salnet.spec, "loss": "mse"}
    assert "Same images and split, same loss" in report.saliency_section(salnet, None, second)


def test_a_network_scored_unfinished_is_marked_so_in_the_report():
    record = evaluation_record()
    record.checkpoints = {NETWORK: "checkpoints/saliency_sample_aaaa.pt"}
    record.unfinished = {NETWORK: "unfinished: 2 of 20 epochs"}
    assert f"**{NETWORK}** (**unfinished: 2 of 20 epochs**) — " in report.saliency_section(training_record(), record)


def test_a_token_run_is_named_so_and_not_judged_against_the_bars():
    from helpers import saliency
    from helpers.profiles import TOKEN_RUN
    from helpers.spec import ContrastSpec, SaliencySpec

    ci, smoke = (SaliencySpec.from_values({"dataset": "sample"}, name, report=None) for name in ("ci", "smoke"))
    token = saliency.network_name({"spec": ci, "model": ci.MODEL})
    assert token == f"{NETWORK} — {TOKEN_RUN}" and saliency.network_name({"spec": smoke, "model": smoke.MODEL}) == NETWORK
    second = ContrastSpec.from_values({"dataset": "sample"}, "ci", report=None)   # ci keeps its smoke settings
    assert TOKEN_RUN not in saliency.network_name({"spec": second, "model": second.MODEL})
    record = evaluation_record()
    record.overall[token] = record.overall.pop(NETWORK)
    record.checkpoints = {token: "checkpoints/saliency_sample_aaaa.pt"}
    section = report.saliency_section(training_record(), record)
    assert f"**{token}** — not judged against the bars" in section and "misses" not in section



def test_pretrained_against_random_is_worded_below_or_above_only_beyond_its_standard_error():
    assert report._compared({"mean": -0.05, "se": 0.01, "images": 9}) == "below it by 0.050 ± 0.010 (9 images)"
    assert report._compared({"mean": 0.03, "se": 0.01, "images": 9}) == "above it by 0.030 ± 0.010 (9 images)"
    assert report._compared({"mean": -0.005, "se": 0.006, "images": 9}) == \
        "no difference measured (-0.005 ± 0.006, 9 images)"
