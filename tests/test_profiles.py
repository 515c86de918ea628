"""PROFILE: one switch between the assignment's settings and the quick ones, in JupyterLab and headless."""
import papermill
import pytest

from helpers import paths, pipeline, profiles


def test_the_smoke_profile_sets_only_settings_left_at_their_defaults(capsys):
    namespace = {"PROFILE": "smoke", **profiles.notebook_defaults("saliency_model")}
    namespace["EPOCHS"] = 3  # set by hand: kept
    changed = profiles.apply_profile("smoke", "saliency_model", namespace)
    assert namespace["EPOCHS"] == 3 and "EPOCHS" not in changed
    assert namespace["OPTIMIZER"] == "adam" and namespace["IMAGE_SIZE"] == [96, 128]
    assert namespace["BATCH_SIZE"] == 2  # not in the profile: the notebook's own
    assert "set by hand, kept: EPOCHS" in capsys.readouterr().out


def test_the_assignment_profile_changes_nothing():
    namespace = dict(profiles.notebook_defaults("invert_layer"))
    assert profiles.apply_profile("assignment", "invert_layer", namespace) == {}
    assert namespace == profiles.notebook_defaults("invert_layer")


def test_the_assignment_defaults_are_tables_2_and_5():
    saliency = profiles.notebook_defaults("saliency_model")
    assert (saliency["EPOCHS"], saliency["BATCH_SIZE"], saliency["OPTIMIZER"], saliency["LEARNING_RATE"],
            saliency["LR_STEP"], saliency["IMAGE_SIZE"]) == (20, 2, "sgd", 1e-4, 10, [240, 320])
    inversion = profiles.notebook_defaults("invert_layer")
    assert (inversion["EPOCHS"], inversion["BATCH_SIZE"], inversion["LEARNING_RATE"], inversion["LR_STEP"],
            inversion["IMAGE_SIZE"]) == (20, 64, 1e-3, 5, 227)


def test_an_unknown_profile_is_a_clear_error():
    with pytest.raises(ValueError, match=r"PROFILE must be one of \['assignment', 'smoke'\], got 'quick'"):
        profiles.apply_profile("quick", "saliency_model", {})


def test_every_notebook_declares_profile_and_every_profile_setting():
    for notebook in pipeline.notebooks():
        declared = papermill.inspect_notebook(str(notebook))
        assert declared["PROFILE"]["default"] == '"assignment"', notebook.name
    for group, settings in profiles.SMOKE.items():
        declared = papermill.inspect_notebook(str(paths.NOTEBOOKS / f"{profiles.GROUPS[group]}.ipynb"))
        assert set(settings) <= set(declared), group


def test_every_notebook_applies_its_profile_right_after_its_parameters():
    import json

    for notebook in pipeline.notebooks():
        cells = [c for c in json.loads(notebook.read_text())["cells"] if c["cell_type"] == "code"]
        assert "apply_profile(PROFILE, " in "".join(cells[1]["source"]), notebook.name


def test_the_headless_runner_passes_only_the_profile_and_the_real_run_policy():
    assert pipeline.parameters_for("smoke", {}) == {"PROFILE": "smoke"}
    assert pipeline.parameters_for("full", {"DEVICE": "cuda"}) == {"PROFILE": "assignment", "REQUIRE_PRETRAINED": True,
                                                                   "DEVICE": "cuda"}
    with pytest.raises(SystemExit, match="profile"):
        pipeline.parameters_for("turbo", {})
