"""PROFILE: one switch between the assignment's settings and the quick ones, in JupyterLab and headless."""
import json

import pytest

from helpers import pipeline, profiles
from helpers.spec import ContrastSpec, InversionSpec, SaliencySpec


def test_the_smoke_profile_sets_only_settings_left_unset(capsys):
    spec = SaliencySpec.from_parameters({"PROFILE": "smoke", "EPOCHS": 3, "BATCH_SIZE": None})
    assert spec.epochs == 3                                 # set by hand: kept
    assert spec.optimizer == "adam" and spec.image_size == (96, 128)
    assert spec.batch_size == 2                             # not in the profile: the spec's own (Table 2)
    assert "set by you, kept: EPOCHS" in capsys.readouterr().out


def test_a_value_set_equal_to_the_default_still_wins_over_the_profile(capsys):
    typed = SaliencySpec.from_parameters({"PROFILE": "smoke", "EPOCHS": 20, "OPTIMIZER": "sgd"})
    assert (typed.epochs, typed.optimizer) == (20, "sgd")   # Table 2's values, typed in: not replaced by 4 / adam
    untouched = SaliencySpec.from_parameters({"PROFILE": "smoke", "EPOCHS": None, "OPTIMIZER": None})
    assert (untouched.epochs, untouched.optimizer) == (profiles.SMOKE["saliency"]["epochs"], "adam")


def test_a_notebook_under_the_assignment_profile_trains_with_tables_2_and_5():
    saliency = SaliencySpec.from_parameters({"PROFILE": "assignment", "EPOCHS": None}, report=None)
    assert (saliency.epochs, saliency.batch_size, saliency.optimizer, saliency.learning_rate, saliency.lr_step,
            saliency.image_size, saliency.loss) == (20, 2, "sgd", 1e-4, 10, (240, 320), "mse")
    inversion = InversionSpec.from_parameters({"PROFILE": "assignment", "LAYER": None}, report=None)
    assert (inversion.epochs, inversion.batch_size, inversion.optimizer, inversion.learning_rate, inversion.lr_step,
            inversion.image_size) == (20, 64, "adam", 1e-3, 5, 227)


def test_an_unknown_profile_is_a_clear_error():
    with pytest.raises(ValueError, match=r"PROFILE must be one of \['assignment', 'ci', 'smoke'\], got 'quick'"):
        SaliencySpec.from_parameters({"PROFILE": "quick"})


def test_every_profile_setting_is_a_field_of_its_spec():
    specs = {"saliency": SaliencySpec, "contrast": ContrastSpec, "inversion": InversionSpec, "comparison": InversionSpec}
    for group, settings in profiles.SMOKE.items():
        assert set(settings) <= set(specs[group].field_names()), group
        specs[group](**settings)  # and takes the values


def test_every_training_notebook_declares_profile_and_builds_its_spec_right_after_its_parameters():
    for notebook in pipeline.notebooks():
        cells = [c for c in json.loads(notebook.read_text())["cells"] if c["cell_type"] == "code"]
        if "Spec.from_parameters(globals()" not in "".join("".join(c["source"]) for c in cells):
            continue  # notebook 02 trains nothing
        assert 'PROFILE: str = "assignment"' in "".join(cells[0]["source"]), notebook.name
        assert "Spec.from_parameters(globals()" in "".join(cells[1]["source"]), notebook.name


def test_a_notebook_takes_every_field_of_its_spec_listed_or_not():
    declared = pipeline.declared_parameters(pipeline.notebooks()[0])           # 01: SalNet and the second model
    assert {"LOSS", "EPOCHS", "WholeDataset", "SECOND_MODEL_EPOCHS", "SECOND_MODEL_LOSS"} <= declared
    summary = pipeline.declared_parameters(pipeline.notebooks()[-1])          # 07: COMPARE_ prefix, own subset
    assert {"COMPARE_EPOCHS", "COMPARE_WholeDataset", "DATASET"} <= summary and "COMPARE_DATASET" not in summary


def test_the_headless_runner_passes_only_the_profile_and_the_real_run_policy():
    assert pipeline.parameters_for("smoke", {}) == {"PROFILE": "smoke"}
    assert pipeline.parameters_for("assignment", {"DEVICE": "cuda"}) == {"PROFILE": "assignment", "REQUIRE_PRETRAINED": True,
                                                                   "DEVICE": "cuda"}
    with pytest.raises(SystemExit, match="profile"):
        pipeline.parameters_for("turbo", {})


def test_bf16_only_where_the_cpu_has_bf16_instructions_of_its_own(tmp_path):
    from helpers.parallel import AVX2_ONLY, cpu_computes_bf16, cpu_kind

    with_bf16, without = tmp_path / "a", tmp_path / "b"
    with_bf16.write_text("processor : 0\nflags : fpu sse avx512f avx512bw avx512_bf16 avx512vl\n")
    without.write_text("processor : 0\nflags : fpu sse avx512f avx512bw avx512vl avx512_bf16x\n")
    assert cpu_computes_bf16(with_bf16, environ={}) and not cpu_computes_bf16(without, environ={})
    assert not cpu_computes_bf16(tmp_path / "missing", environ={})
    # told to compute as an AVX2 CPU, oneDNN has no bf16 kernels: float32, and the kind says so
    assert not cpu_computes_bf16(with_bf16, environ=AVX2_ONLY)
    assert not cpu_computes_bf16(with_bf16, environ={"ONEDNN_MAX_CPU_ISA": "avx512_core"})
    assert cpu_computes_bf16(with_bf16, environ={"ONEDNN_MAX_CPU_ISA": "AVX512_CORE_BF16"})
    two = "processor : 0\nflags : fpu avx2 avx512f avx512_bf16\nprocessor : 1\nflags : fpu avx2 avx512f avx512_bf16\n"
    (tmp_path / "two").write_text(two)
    (tmp_path / "avx2").write_text(two.replace(" avx512f avx512_bf16", ""))
    assert cpu_kind(tmp_path / "two", environ={}) == "2-core AVX-512 with bf16"
    assert cpu_kind(tmp_path / "two", environ=AVX2_ONLY) == "2-core AVX-512 run as AVX2 without bf16"
    assert cpu_kind(tmp_path / "avx2", environ={}) == cpu_kind(tmp_path / "avx2", environ=AVX2_ONLY) \
        == "2-core AVX2 without bf16"
    # the smoke profile asks for bf16 in every group exactly where this machine computes it
    for group in profiles.SMOKE:
        assert profiles.profile_overrides("smoke", group).get("mixed_precision", False) == cpu_computes_bf16()
    assert "mixed_precision" not in profiles.profile_overrides("assignment", "saliency")


def _smoke_choices():
    import importlib.util

    from helpers import paths

    spec = importlib.util.spec_from_file_location("smoke_choices", paths.ROOT / "benchmarks" / "smoke_choices.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_choice_is_the_best_validation_score_and_fewer_epochs_on_a_tie():
    choose = _smoke_choices().choose
    tried = [{"setting": {"loss": "mse"}, "validation": {"AUC-Judd": [0.60, 0.70, 0.71]}},
             {"setting": {"loss": "kld"}, "validation": {"AUC-Judd": [0.65, 0.80, 0.80, 0.79]}}]
    assert choose(tried) == {"setting": {"loss": "kld"}, "epochs": 2, "AUC-Judd": 0.80}
    tried[0]["validation"]["AUC-Judd"][2] = 0.81
    assert choose(tried) == {"setting": {"loss": "mse"}, "epochs": 3, "AUC-Judd": 0.81}


def test_the_smoke_profile_holds_what_the_validation_displays_chose():
    """docs/results/smoke_choices.json (benchmarks/smoke_choices.py) chose every Part 1 smoke setting it
    tried on the validation displays; the profile must hold exactly those values, and the file's
    choice must be its own best score."""
    module = _smoke_choices()
    results = json.loads(module.RESULTS.read_text())
    assert "validation displays" in results["criterion"] and set(results["groups"]) == set(module.GRID)
    for group, measured in results["groups"].items():
        assert measured["choice"] == module.choose(measured["candidates"])
        chosen = {**measured["choice"]["setting"], "epochs": measured["choice"]["epochs"]}
        assert {field: profiles.SMOKE[group][field] for field in chosen} == chosen, group
        assert len(measured["candidates"]) == len(module.candidates(group))


def test_a_run_is_called_by_the_profile_whose_settings_it_has_or_by_none():
    from helpers.profiles import profile_of
    from helpers.spec import ContrastSpec, InversionSpec

    for spec_type, group in ((SaliencySpec, "saliency"), (ContrastSpec, "contrast"), (InversionSpec, "inversion")):
        for profile in profiles.PROFILES:
            spec = spec_type.from_values({}, profile, group=group, report=None)
            # the second model's ci settings are its smoke settings: either name is the truth, the first is given
            expected = "smoke" if (group, profile) == ("contrast", "ci") else profile
            assert profile_of(spec, group) == expected
    assert profile_of(SaliencySpec.from_values({"epochs": 2}, "smoke", report=None), "saliency") is None  # by hand
    # bf16 follows the machine, not the profile: a smoke run trained with it is still a smoke run where it is off
    assert profile_of(SaliencySpec.from_values({"mixed_precision": True}, "smoke", report=None), "saliency") == "smoke"
