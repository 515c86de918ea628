"""One spec and one recipe per part: a run's identity (settings, data, architecture), the CLI made
from the fields, and the LOSS field."""
import shutil
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest
import torch
from torch import nn

from helpers import diagnosis, profiles, saliency, train, trained_models
from helpers.identity import architecture
from helpers.models import SaliencyNet
from helpers.models import SALNET
from helpers.identity import ArchitectureMismatchError
from helpers.saliency import DistributionKL
from helpers.trained_models import load_saliency_model
from helpers.data import DataError, choose_dataset
from helpers.spec import ContrastSpec, InversionSpec, SaliencySpec, SpecError, setting
from helpers.checkpoints import CheckpointError, checkpoint_path
from helpers.training import fit

TINY = dict(dataset="cat2000", whole_dataset=16, epochs=1, optimizer="adam", learning_rate=1e-3,
            image_size=(32, 48), batch_size=4)

MSE = nn.MSELoss()


@pytest.fixture
def cat2000(small_sample, tmp_path):
    """A copy of the small CAT2000-layout sample that a test may change."""
    return shutil.copytree(small_sample, tmp_path / "cat2000")


def tiny_run(spec_class=SaliencySpec, **changes):
    return saliency.train(spec_class(**{**TINY, **changes}), device="cpu", progress=False)


# -- the rule for values and the checks ---------------------------------------------------------

@pytest.mark.parametrize("bad, message", [
    ({"epochs": 0}, "EPOCHS must be at least 1, got 0"),
    ({"learning_rate": -1e-3}, "LEARNING_RATE must be above 0"),
    ({"optimizer": "rmsprop"}, "OPTIMIZER must be one of"),
    ({"loss": "l1"}, r"LOSS must be one of \('mse', 'kld'\)"),
    ({"image_size": (16, 16)}, "IMAGE_SIZE must be"),
    ({"whole_dataset": 0}, "WholeDataset must be True or a positive number"),
    ({"batch_size": 2.5}, "BATCH_SIZE must be a whole number"),
    ({"dataset": "coco"}, "DATASET must be one of"),
])
def test_a_bad_setting_is_refused_naming_the_notebook_parameter(bad, message):
    with pytest.raises(ValueError, match=message):
        SaliencySpec(**bad)


@pytest.mark.parametrize("side", [0, 16, -5])
def test_part_2_refuses_an_image_size_below_the_smallest_input(side):
    with pytest.raises(SpecError, match=f"IMAGE_SIZE must be one whole number of at least 32.*got {side}"):
        InversionSpec(image_size=side)


def test_an_unknown_setting_is_refused_with_the_list_of_settings():
    with pytest.raises(SpecError, match="has no setting \\['epoch'\\]"):
        SaliencySpec.from_values({"epoch": 3})


def test_a_spec_survives_its_json_round_trip():
    spec = SaliencySpec(image_size=[96, 128], loss="kld", whole_dataset=40)
    assert SaliencySpec.from_json(spec.to_json()) == spec


# -- the run's identity -------------------------------------------------------------------------

@dataclass(frozen=True)
class WithANewSetting(SaliencySpec):
    """SaliencySpec after a developer added a field, with the value that does what the code did."""

    dropout: float = setting(0.0, "dropout before the last layer")


@dataclass(frozen=True)
class WithAnotherDefault(SaliencySpec):
    """SaliencySpec after a developer changed the default of a setting finished runs used."""

    ceil_mode: bool = setting(True, "Caffe's pooling")
    MODEL: ClassVar[str] = SALNET


def test_adding_a_setting_is_a_new_identity_trained_anew_beside_the_earlier_file(cat2000):
    first = tiny_run(data_dir=str(cat2000))
    again = tiny_run(WithANewSetting, data_dir=str(cat2000))
    assert not again.run.loaded_finished and again.run.checkpoint != first.run.checkpoint
    assert first.run.checkpoint.is_file()                                  # left where it is


def test_changing_a_default_a_finished_run_used_is_refused_naming_it(cat2000):
    first = tiny_run(data_dir=str(cat2000))
    changed = WithAnotherDefault(**TINY, data_dir=str(cat2000))
    model = saliency.build_model(changed)
    identity = saliency.run_metadata(changed, saliency.load_data(changed), model)
    assert checkpoint_path("saliency", "cat2000", changed, identity) != first.run.checkpoint
    loader = torch.utils.data.DataLoader(first.train_set, batch_size=4)
    with pytest.raises(CheckpointError, match="CEIL_MODE: False in the file, True now"):
        fit(model, loader, None, changed, first.run.checkpoint, device="cpu", progress=False,
            metadata=identity, loss_fn=MSE)


def test_a_moved_data_folder_is_the_same_data_and_changed_data_gets_its_own_file(cat2000, tmp_path, capsys):
    first = tiny_run(data_dir=str(cat2000))
    moved = cat2000.rename(tmp_path / "elsewhere")
    assert tiny_run(data_dir=str(moved)).run.loaded_finished
    image = moved / first.data.train_items[0].stimulus.relative_to(cat2000)
    image.write_bytes(image.read_bytes() + b"\0")     # one training image replaced by another file
    capsys.readouterr()
    changed = tiny_run(data_dir=str(moved))
    assert not changed.run.loaded_finished and changed.run.checkpoint != first.run.checkpoint
    assert first.run.checkpoint.is_file()              # nothing overwritten
    line = capsys.readouterr().out
    assert f"{first.run.checkpoint.name} has the same settings but was trained on other data" in line
    assert changed.run.metadata["data"]["digest"] != first.run.metadata["data"]["digest"]


class TanhSalNet(SaliencyNet):
    """The network after a student changed its activations."""

    def __init__(self, ceil_mode=False):
        super().__init__(ceil_mode)
        for name, module in list(self.features.named_children()):
            if isinstance(module, nn.ReLU):
                setattr(self.features, name, nn.Tanh())


def test_another_architecture_is_never_loaded_as_this_run_and_says_what_differs(cat2000, monkeypatch):
    first = tiny_run(data_dir=str(cat2000))
    monkeypatch.setattr(saliency, "SaliencyNet", TanhSalNet)
    edited = tiny_run(data_dir=str(cat2000))
    assert not edited.run.loaded_finished and edited.run.checkpoint != first.run.checkpoint
    with pytest.raises(ArchitectureMismatchError, match=r"features\.1: ReLU\(inplace=True\) in the checkpoint, "
                                                        r"Tanh\(\) in the code"):
        load_saliency_model(first.run.checkpoint)


def test_the_checkpoint_and_the_record_store_the_whole_spec_and_the_identity(cat2000):
    run = tiny_run(data_dir=str(cat2000), loss="kld")
    model, info = load_saliency_model(run.run.checkpoint)
    assert info["spec"] == run.spec and info["loss"] == "kld"
    assert "test images are checked for readability here, and scored in notebook 02_judd_auc_evaluation only" in run.summary()
    record = saliency.SaliencyTraining.read()
    assert record.spec == run.spec.as_dict() and record.metadata["data"]["images"] == {"train": 6, "validation": 4, "held_out": 6}
    assert (record.train_images, record.validation_images, record.held_out_images) == (6, 4, 6)
    assert record.metadata["architecture"] and architecture(model) != []


# -- one flag per field -------------------------------------------------------------------------

@pytest.mark.parametrize("part, shown", [
    ("saliency", ["--learning-rate LEARNING_RATE", "(default: 0.0001; Table 2: 1e-4)", "--loss {mse,kld}",
                  "(default: 'mse'; Table 2: mse)", "--lr-step LR_STEP", "(default: 10; Table 2: 10)"]),
    ("contrast", ["--learning-rate LEARNING_RATE", "(default: 0.001)", "--batch-size BATCH_SIZE", "(default: 8)"]),
    ("inversion", ["--learning-rate LEARNING_RATE", "(default: 0.001; Table 5: 1e-3)", "--batch-size BATCH_SIZE",
                   "(default: 64; Table 5: 64)", "--layer LAYER"]),
])
def test_the_command_lines_help_shows_each_setting_with_the_default_and_table_of_the_assignment(part, shown, capsys):
    with pytest.raises(SystemExit):
        train.main([part, "--help"])
    text = " ".join(capsys.readouterr().out.split())   # argparse wraps lines to the terminal's width
    assert [line for line in shown if line not in text] == []


def test_the_command_line_builds_the_spec_the_notebook_would():
    args = train.parser().parse_args(["saliency", "--profile", "smoke", "--epochs", "20", "--loss", "kld",
                                      "--image-size", "64", "96"])
    spec = train.spec_from_arguments(args)
    notebook = SaliencySpec.from_parameters({"PROFILE": "smoke", "EPOCHS": 20, "LOSS": "kld", "IMAGE_SIZE": [64, 96]},
                                            report=None)
    assert spec == notebook and spec.epochs == 20 and spec.optimizer == "adam"


# -- LOSS ---------------------------------------------------------------------------------------

def test_the_kld_loss_compares_distributions_not_values():
    target = torch.rand(2, 1, 8, 8) * 2 - 1
    rescaled = 3 * target + 0.5                       # the same map, scaled and shifted: the same distribution
    assert DistributionKL()(rescaled, target) < 1e-5 < nn.MSELoss()(rescaled, target)
    flat = torch.zeros(2, 1, 8, 8) + torch.rand(2, 1, 8, 8) * 1e-3
    assert DistributionKL()(flat, target) > 0.1      # a map that spreads its mass everywhere is far off
    assert isinstance(saliency.loss_function(SaliencySpec(loss="kld")), DistributionKL)
    assert isinstance(saliency.loss_function(SaliencySpec()), nn.MSELoss)


# -- parameters checked where they are declared -------------------------------------------------

@pytest.mark.parametrize("encoder", ["raft_small", "fasterrcnn_resnet50_fpn", "r3d_18", "resnet"])
def test_an_encoder_that_is_not_a_torchvision_classifier_is_refused_by_name(encoder):
    with pytest.raises(SpecError, match=f"ENCODER must be one of torchvision's classification models.*{encoder!r}"):
        InversionSpec(encoder=encoder)


def test_an_image_too_small_for_the_encoder_names_the_smallest_input(capsys):
    from helpers.inversion import build_inverter

    with pytest.raises(ValueError, match="IMAGE_SIZE 40 is too small for alexnet up to conv5: the smallest input "
                                         "side it takes is 63"):
        build_inverter("alexnet", "conv5", "random", image_size=40)


# -- the real run never quietly runs on the sample ---------------------------------------------

def test_the_assignment_settings_stop_when_no_real_data_is_there_instead_of_using_the_sample(tmp_path, monkeypatch,
                                                                                              capsys):
    from helpers import inversion

    monkeypatch.setenv("SALIENCY_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.delenv("REQUIRE_REAL_DATA", raising=False)
    with pytest.raises(DataError, match=r"no real saliency data set is there \(looked in .*empty/cat2000, .*empty/salicon, "
                                        r".*empty/mit1003\).*python -m helpers.downloads cat2000.*PROFILE = 'smoke'"):
        saliency.load_data(SaliencySpec())
    with pytest.raises(DataError, match="no real inversion data set.*python -m helpers.downloads tiny-imagenet"):
        inversion.load_data(InversionSpec())
    smoke = SaliencySpec.from_values({}, "smoke", report=None)
    assert not smoke.require_real_data
    assert choose_dataset("saliency", smoke.dataset, smoke.data_dir, smoke.require_real_data) == "sample"
    assert "using the generated sample" in capsys.readouterr().out
    assert choose_dataset("saliency", "sample", "", True) == "sample"          # asked for by name: fine
    monkeypatch.setenv("REQUIRE_REAL_DATA", "1")
    with pytest.raises(DataError, match="no real saliency data set"):
        choose_dataset("saliency", smoke.dataset, smoke.data_dir, smoke.require_real_data)


# -- bad data is found before the first epoch ---------------------------------------------------

def test_a_corrupt_held_out_fixation_file_stops_the_run_before_any_training(cat2000, workspace):
    spec = SaliencySpec(**TINY, data_dir=str(cat2000))
    held_out = saliency.load_data(spec).held_out_items[-1]
    held_out.fixations.write_bytes(b"MATLAB 5.0 MAT-file, but cut short")
    checkpoints = sorted((workspace / "checkpoint").glob("*"))
    with pytest.raises(DataError, match=f"1 of 16 saliency items cannot be used, found before training: "
                                        f"{held_out.fixations}: not a readable MATLAB file"):
        saliency.train(spec, device="cpu", progress=False)
    assert sorted((workspace / "checkpoint").glob("*")) == checkpoints   # no epoch was spent


def test_a_training_fixation_file_of_another_frame_is_refused_from_its_header(cat2000):
    from scipy.io import savemat

    spec = SaliencySpec(**TINY, data_dir=str(cat2000))
    item = saliency.load_data(spec).train_items[0]
    savemat(item.fixations, {"fixLocs": np.zeros((640, 360), np.uint8)}, do_compression=True)  # transposed
    with pytest.raises(DataError, match=f"{item.fixations}: fixation locations of 360×640.*transposed"):
        saliency.load_data(spec)


@pytest.mark.parametrize("whole_dataset", [1, 3])
def test_a_split_without_held_out_images_is_refused_naming_the_folder_and_whole_dataset(cat2000, whole_dataset):
    with pytest.raises(DataError, match=f"{cat2000}.*no held-out images with WholeDataset = {whole_dataset}"):
        saliency.load_data(SaliencySpec(**{**TINY, "whole_dataset": whole_dataset}, data_dir=str(cat2000)))


def test_a_held_out_fixation_file_without_fixations_warns_naming_it(cat2000):
    from scipy.io import loadmat, savemat

    spec = SaliencySpec(**TINY, data_dir=str(cat2000))
    item = saliency.load_data(spec).held_out_items[0]
    savemat(item.fixations, {"fixLocs": np.zeros_like(loadmat(item.fixations)["fixLocs"])})
    with pytest.warns(UserWarning, match=f"{item.fixations}: no fixation at all"):
        saliency.load_data(spec)


def test_a_file_that_is_not_an_image_stops_part_2_before_training(tmp_path):
    from helpers.data import ImageItem, check_image_items
    from PIL import Image

    good, bad = tmp_path / "a.JPEG", tmp_path / "b.JPEG"
    Image.new("RGB", (8, 8)).save(good, "JPEG")
    bad.write_text("<html>a download error page</html>")
    with pytest.raises(DataError, match=f"1 of 2 images cannot be used.*{bad}: not a readable image"):
        check_image_items([ImageItem("n0", good), ImageItem("n0", bad)])


# -- a CPU run of heavy settings points at the smoke profile ----------------------------------------

def test_a_saliency_run_on_the_cpu_on_larger_images_than_smoke_names_the_smoke_profile_and_others_say_nothing():
    epochs, (height, width) = profiles.SMOKE["saliency"]["epochs"], profiles.SMOKE["saliency"]["image_size"]
    assert saliency.smoke_is_lighter(SaliencySpec()) == (
        f"this is a CPU: 20 epochs at 240×320 take hours here; PROFILE = 'smoke' ({epochs} epochs at {height}×{width} "
        "on the sample) trains in minutes")
    assert saliency.smoke_is_lighter(SaliencySpec(image_size=(height, width + 1))).startswith("this is a CPU")
    assert saliency.smoke_is_lighter(SaliencySpec(image_size=(height, width))) == ""   # epochs are the user's to choose


# -- a checkpoint carries its own record ----------------------------------------------------------

def test_notebook_02_finds_both_finished_models_from_the_checkpoints_when_the_records_are_gone(cat2000, workspace):
    from helpers.records import SaliencyTraining
    from helpers.spec import ContrastSpec

    salnet = tiny_run(data_dir=str(cat2000), seed=11)
    second = saliency.train(ContrastSpec(**{**TINY, "seed": 11}, data_dir=str(cat2000), weights="random"),
                            device="cpu", progress=False)
    for record in (workspace / "report" / "metrics").glob("saliency_training*.json"):   # what make clean removes
        record.unlink()
    assert trained_models.trained_checkpoint() == salnet.run.checkpoint
    model, trained = trained_models.load_saliency_model(salnet.run.checkpoint)
    found = trained_models.second_model_for(trained)
    assert found is not None and found.checkpoint == second.run.checkpoint and found.name.endswith("(random front end)")
    rebuilt = SaliencyTraining.read()
    assert rebuilt.checkpoint == str(salnet.run.checkpoint) and rebuilt.history == salnet.run.history
    assert (rebuilt.train_images, rebuilt.validation_images, rebuilt.held_out_images) == (6, 4, 6) and rebuilt.spec == salnet.spec.as_dict()


def test_the_second_models_record_and_report_name_the_front_end_weights_it_had(cat2000):
    from helpers import report
    from helpers.records import SaliencyTraining
    from helpers.spec import ContrastSpec

    spec = ContrastSpec(**{**TINY, "seed": 12}, data_dir=str(cat2000), weights="random")
    second = saliency.train(spec, device="cpu", progress=False)
    record = SaliencyTraining.read(SaliencyTraining.file_for("contrast"))
    assert record.front_end == "MobileNetV2: random weights — not the paper's setting"
    assert second.run.metadata["front_end_weights"] == "mobilenet_v2: random (seed 0)"
    assert second.name == "MobileNetV2 + contrast readout (random front end)"   # notebook 01's figures' label
    salnet = tiny_run(data_dir=str(cat2000), seed=12)
    assert salnet.name == "SalNet (half)"
    text = report.saliency_section(SaliencyTraining.read(), None, record)
    assert "MobileNetV2 (**MobileNetV2: random weights — not the paper's setting**)" in text
    assert salnet.run.checkpoint.is_file()


def test_a_second_model_with_a_random_front_end_is_named_so_in_tables_and_figures():
    assert saliency.network_name({"model": "salnet"}) == "SalNet (half)"
    pretrained = {"model": "contrast", "front_end_weights": "mobilenet_v2: torchvision IMAGENET1K_V1 (sha256 b035)"}
    assert saliency.network_name(pretrained) == "MobileNetV2 + contrast readout"
    random = {"model": "contrast", "front_end_weights": "mobilenet_v2: random (seed 0)"}
    assert saliency.network_name(random) == "MobileNetV2 + contrast readout (random front end)"


# -- one name per setting ---------------------------------------------------------------------

def test_learning_rate_goes_from_the_notebook_to_the_optimiser_checkpoint_and_record_under_one_name(cat2000):
    run = tiny_run(data_dir=str(cat2000), learning_rate=7e-4)
    state = torch.load(run.run.checkpoint, weights_only=True)
    assert state["spec"]["learning_rate"] == 7e-4 and "config" not in state
    assert state["scheduler"]["base_lrs"] == [7e-4]
    from helpers.records import SaliencyTraining

    written = SaliencyTraining.read()
    assert written.spec["learning_rate"] == 7e-4 and not hasattr(written, "config")


@pytest.mark.slow
def test_notebook_02s_calls_score_both_networks_by_name_on_their_own_split_and_record_them(cat2000, workspace):
    from helpers import baselines, scoring
    from helpers.records import SaliencyEvaluation

    tiny_run(data_dir=str(cat2000), seed=12)
    saliency.train(ContrastSpec(**{**TINY, "seed": 12}, data_dir=str(cat2000), weights="random"), device="cpu",
                   progress=False)
    networks = trained_models.trained_networks(device="cpu")
    assert [n.name for n in networks] == ["SalNet (half)", "MobileNetV2 + contrast readout (random front end)"]
    assert all(n.unfinished == "" for n in networks)
    test = scoring.TestImages.of(networks[0], str(cat2000))
    scored = scoring.score(networks, test, device="auto")   # notebook 02's default DEVICE
    no_learning = {baselines.row_name(c.name) for c in baselines.CANDIDATES}   # with the second model's front end
    assert set(scored.predictions) == {n.name for n in networks} | no_learning
    record = scored.write_record()
    assert record == SaliencyEvaluation.read() and set(record.checkpoints) == {n.name for n in networks}
    assert all(f"{n.name}: AUC-Judd" in scored.bars() for n in networks)


def test_the_diagnosis_of_a_kl_network_speaks_its_training_loss(cat2000, workspace):
    """A network trained on the maps' KL divergence is diagnosed in KL, not in the MSE of its raw
    output (which printed 46682 beside an empty map's 0.03)."""
    trained = tiny_run(data_dir=str(cat2000), loss="kld", seed=13)
    table = diagnosis.diagnose(trained, "cpu")
    kl = {name.split(": ", 1)[1]: value for name, value in table.items() if name.startswith("validation KL: ")}
    assert set(kl) == {"all background", "mean training map", "centre bias", "the trained network"}
    assert not any(name.startswith("validation MSE") for name in table.index)
    assert all(np.isfinite(value) and value >= 0 for value in kl.values())
    assert kl["all background"] == max(kl.values())   # under KL an empty map is the worst there is
    written = (workspace / "report" / "metrics" / "saliency_diagnosis.csv").read_text()
    assert "in its training loss (KL)" in written and "validation KL: the trained network" in written


def test_a_misspelt_papermill_parameter_is_refused_with_the_name_meant():
    namespace = {"PROFILE": "smoke", "EPOHCS": 3, "SECOND_MODEL": True, "__annotations__": {"PROFILE": str, "SECOND_MODEL": bool}}
    with pytest.raises(SpecError, match="EPOHCS = 3: no such parameter here .*did you mean EPOCHS"):
        SaliencySpec.from_parameters(namespace, report=None)
    del namespace["EPOHCS"]
    assert SaliencySpec.from_parameters(namespace, report=None).epochs == profiles.SMOKE["saliency"]["epochs"]  # no typo


def parameters_cell_of(notebook: str) -> dict:
    """A notebook's namespace after its parameters cell ran, as papermill leaves it before the injected cell."""
    import json

    from helpers import paths

    cells = json.loads((paths.NOTEBOOKS / notebook).read_text())["cells"]
    source = "".join(next(c for c in cells if "parameters" in c["metadata"].get("tags", []))["source"])
    namespace: dict = {}
    exec(compile(source, notebook, "exec"), namespace)
    return namespace


@pytest.mark.parametrize("given, refusal", [
    ({"LOSS": "kld"}, r"LOSS = 'kld': no such parameter here .*the parameters here are .*LAYER.*WEIGHTS"),
    ({"epochs": 3}, "epochs = 3: no such parameter here .*did you mean EPOCHS"),
    ({"LR": 0.1}, "LR = 0.1: no such parameter here"),
])
def test_a_setting_notebook_03s_spec_does_not_have_is_refused_before_anything_is_read(given, refusal):
    namespace = {**parameters_cell_of("03_invert_conv2.ipynb"), "PROFILE": "smoke", **given}
    with pytest.raises(SpecError, match=refusal):
        InversionSpec.from_parameters(namespace, report=None)


def test_notebook_01_takes_the_second_models_settings_under_its_prefix_and_nothing_else():
    namespace = {**parameters_cell_of("01_saliency_model.ipynb"), "PROFILE": "smoke", "SECOND_MODEL_LOSS": "mse"}
    assert SaliencySpec.from_parameters(namespace, report=None).loss == "kld"   # the first spec ignores it ...
    second = ContrastSpec.from_parameters(namespace, prefix="SECOND_MODEL_", report=None)
    assert second.loss == "mse"                                                  # ... the second reads it
    namespace["SECOND_MODEL_LR"] = 0.1
    with pytest.raises(SpecError, match="SECOND_MODEL_LR = 0.1: no such parameter here .*did you mean SECOND_MODEL_GAMMA"
                                        "|SECOND_MODEL_LR = 0.1: no such parameter here"):
        SaliencySpec.from_parameters(namespace, report=None)


def test_a_spec_keyword_it_does_not_have_is_refused_naming_it_and_listing_its_settings():
    with pytest.raises(SpecError, match=r"SaliencySpec has no setting \['LR'\]; its settings are \[.*'learning_rate'"):
        SaliencySpec.from_values({"LR": 0.1}, report=None)
    with pytest.raises(SpecError, match=r"InversionSpec has no setting \['loss'\]"):
        InversionSpec().replace(loss="kld")


@pytest.mark.slow
@pytest.mark.parametrize("given, refusal", [({"EPOHCS": 3}, "did you mean EPOCHS"),
                                            ({"LOSS": "kld"}, "LOSS = 'kld': no such parameter here")])
def test_plain_papermill_with_a_parameter_notebook_03_lacks_stops_before_training(tmp_path, given, refusal):
    import papermill
    from helpers import paths, pipeline

    pipeline.ensure_kernel()
    before = set(paths.checkpoint_dir().glob("*.pt"))
    with pytest.raises(papermill.PapermillExecutionError, match=refusal):
        papermill.execute_notebook(str(paths.NOTEBOOKS / "03_invert_conv2.ipynb"), str(tmp_path / "out.ipynb"),
                                   parameters={"PROFILE": "smoke", **given}, kernel_name=pipeline.KERNEL_NAME,
                                   cwd=str(paths.ROOT), progress_bar=False)
    assert set(paths.checkpoint_dir().glob("*.pt")) == before   # stopped before training anything
