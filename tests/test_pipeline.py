"""The headless runner: order, parameters, and a failing notebook stopping the run."""
import json

import nbformat
import pytest

from helpers import notebooks as project_notebooks
from helpers import paths, pipeline


def write_notebook(path, *sources, parameters=None):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": pipeline.KERNEL_NAME, "language": "python", "display_name": "Python"}
    cells = []
    if parameters is not None:
        cell = nbformat.v4.new_code_cell(parameters)
        cell.metadata["tags"] = ["parameters"]
        cells.append(cell)
    cells += [nbformat.v4.new_code_cell(s) for s in sources]
    nb.cells = cells
    nbformat.write(nb, path)


@pytest.fixture
def three_notebooks(tmp_path):
    folder = tmp_path / "nbs"
    folder.mkdir()
    log = tmp_path / "log.txt"
    write_notebook(folder / "01_first.ipynb",
                   f"open({str(log)!r}, 'a').write(f'first {{WholeDataset}}\\n')",
                   parameters="WholeDataset = True  # doc")
    write_notebook(folder / "02_breaks.ipynb", "x = 1", "raise RuntimeError('boom in cell two')")
    write_notebook(folder / "03_never.ipynb", f"open({str(log)!r}, 'a').write('third\\n')")
    return folder, log


@pytest.mark.slow
def test_a_failing_notebook_stops_the_run_and_names_notebook_cell_and_copy(three_notebooks, capsys):
    folder, log = three_notebooks
    code = pipeline.main(["--notebooks", str(folder), "-p", "WholeDataset", "7"])
    err = capsys.readouterr().err
    assert code == 1
    assert "02_breaks.ipynb" in err and "cell [2]" in err and "boom in cell two" in err
    assert str(paths.executed_dir() / "02_breaks.ipynb") in err
    assert log.read_text() == "first 7\n"  # 01 ran with the passed WholeDataset; 03 never ran
    executed = json.loads((paths.executed_dir() / "02_breaks.ipynb").read_text())
    assert any(o.get("ename") == "RuntimeError" for c in executed["cells"] for o in c.get("outputs", []))


def test_parameters_reach_only_notebooks_that_declare_them(three_notebooks):
    folder, _ = three_notebooks
    declared = pipeline._accepted(folder / "01_first.ipynb", {"WholeDataset": 5, "EPOCHS": 2})
    undeclared = pipeline._accepted(folder / "03_never.ipynb", {"WholeDataset": 5})
    assert declared == {"WholeDataset": 5} and undeclared == {}


@pytest.mark.slow
def test_in_a_notebook_the_projects_own_refusal_is_its_one_line_and_other_errors_keep_their_traceback(tmp_path,
                                                                                                     monkeypatch):
    """JupyterLab and papermill show a refusal of the project's (here a misspelt parameter) as the line that
    says what to do, not 30 lines of frames around it; an error of the user's own code keeps its traceback."""
    monkeypatch.setenv("SALIENCY_EXECUTED_DIR", str(tmp_path / "executed"))
    write_notebook(tmp_path / "01_typo.ipynb", "from helpers.spec import SaliencySpec\nSaliencySpec.from_parameters(globals())",
                   parameters="EPOHCS = 3")
    write_notebook(tmp_path / "02_own.ipynb", "import helpers\ndef mine():\n    return 1 / 0\nmine()")
    errors = []
    for name in ("01_typo.ipynb", "02_own.ipynb"):
        with pytest.raises(Exception):
            pipeline.run_notebook(tmp_path / name, {}, timeout=None)
        cells = nbformat.read(tmp_path / "executed" / name, as_version=4).cells
        errors += [out for cell in cells if cell.cell_type == "code" for out in cell.outputs
                   if out.output_type == "error"]
    assert errors[0].traceback == ["SpecError: EPOHCS = 3: no such parameter here (papermill passes any name, and "
                                   "nothing reads this one); did you mean EPOCHS?"]
    assert errors[1].ename == "ZeroDivisionError" and any("mine()" in line for line in errors[1].traceback)


@pytest.mark.slow
def test_a_misspelt_parameter_on_the_command_line_is_one_line_and_exit_status_2():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "helpers.pipeline", "--only", "01", "-p", "EPOHCS", "3"],
                          cwd=paths.ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [f"-p EPOHCS: no selected notebook (01_saliency_model) declares a parameter "
                                        f"'EPOHCS'; did you mean 'EPOCHS'?"]


def test_a_misspelt_parameter_is_refused_with_the_closest_name(three_notebooks):
    folder, log = three_notebooks
    with pytest.raises(SystemExit, match=r"-p WholeDatset: .* declares a parameter 'WholeDatset'; did you mean 'WholeDataset'"):
        pipeline.main(["--notebooks", str(folder), "-p", "WholeDatset", "7"])
    assert not log.exists()  # nothing ran


@pytest.mark.slow
def test_a_dead_kernel_names_the_cell_that_was_running(tmp_path, capsys):
    folder = tmp_path / "nbs"
    folder.mkdir()
    write_notebook(folder / "01_dies.ipynb", "x = 1", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)",
                   "y = 2")
    assert pipeline.main(["--notebooks", str(folder)]) == 1
    err = capsys.readouterr().err
    assert "01_dies.ipynb: code cell 2 of 3 ('import os, signal')" in err and "kernel died" in err


@pytest.mark.slow
def test_the_kernel_runs_without_the_tcp_warning(tmp_path, capfd):
    folder = tmp_path / "nbs"
    folder.mkdir()
    write_notebook(folder / "01_quiet.ipynb", "print('hello')")
    pipeline.ensure_kernel()
    output = pipeline.run_notebook(folder / "01_quiet.ipynb", {}, timeout=120)
    captured = capfd.readouterr()
    assert "without encryption" not in captured.err + captured.out
    assert "hello" in output.read_text()


@pytest.mark.slow
def test_what_a_notebook_prints_reaches_the_terminal_as_it_runs(tmp_path, capfd, monkeypatch):
    """Epoch lines as they come, and when AlexNet's weights cannot be fetched, why and what to do, once."""
    folder = tmp_path / "nbs"
    folder.mkdir()
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))              # no cached weights
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:9")                # and no way to download them
    monkeypatch.setenv("SALIENCY_REPORT_DIR", str(tmp_path / "report"))
    monkeypatch.setenv("SALIENCY_EXECUTED_DIR", str(tmp_path / "executed"))
    write_notebook(folder / "01_talks.ipynb", "for epoch in (1, 2):\n    print(f'epoch {epoch} of 2', flush=True)",
                   "from helpers import weights\nweights.resolve('alexnet')")
    assert pipeline.main(["--notebooks", str(folder)]) == 0
    out, err = capfd.readouterr()
    assert "epoch 1 of 2" in out and "epoch 2 of 2" in out
    assert "1 notebook ran" in out
    import re

    (cpu,) = re.findall(r"\[1/1\] 01_talks.ipynb done in \d+s \((\d+) CPU-s\)", out)
    assert int(cpu) >= 1   # the kernel's own CPU time (it imported torch), not only the runner's
    reason = (f"UserWarning: AlexNet: random weights — not the paper's setting. No WEIGHTS path; AlexNet's ImageNet "
              f"weights could not be fetched (torchvision's download: URLError")
    assert (out + err).count(reason) == 1   # in the terminal, once (not once more by papermill's log)
    assert f"Put alexnet-owt-7be5be79.pth into {tmp_path / 'torch' / 'hub' / 'checkpoints'} by hand" in out + err


def test_the_pipeline_checks_p_values_against_the_specs_a_notebook_builds_in_its_own_code(tmp_path):
    """A notebook of the user's own (no role) that builds a spec under a prefix takes every field of it;
    a value that does not fit is refused before anything runs, naming the parameter."""
    notebook = tmp_path / "mine.ipynb"
    write_notebook(notebook, 'spec = SaliencySpec.from_parameters(globals(), prefix="MINE_")',
                   parameters='PROFILE = "smoke"\nMINE_EPOCHS = None')
    assert {"MINE_EPOCHS", "MINE_LOSS", "WholeDataset"} <= pipeline.declared_parameters(notebook)
    assert "LOSS" not in pipeline.declared_parameters(notebook)
    pipeline.check_parameter_values([notebook], {"MINE_LOSS": "kld"}, "smoke")
    with pytest.raises(SystemExit, match=r"mine: LOSS must be one of \('mse', 'kld'\), got 'l1'"):
        pipeline.check_parameter_values([notebook], {"MINE_LOSS": "l1"}, "smoke")


def test_notebook_07s_comparison_is_filled_from_the_comparison_profile_group():
    summary = project_notebooks.with_role("layer-summary")[0]
    assert [(spec.__name__, group) for spec, _, group in pipeline.notebook_specs(summary)] == [
        ("InversionSpec", "inversion"), ("InversionSpec", "comparison")]


def make(*arguments, cwd, env=None):
    import subprocess

    return subprocess.run(["make", "--no-print-directory", "-f", str(paths.ROOT / "Makefile"), *arguments], cwd=cwd, capture_output=True,
                          text=True, check=True, env=env).stdout


def test_active_env_makes_every_target_use_the_active_python():
    out = make("-n", "run", "ACTIVE_ENV=1", cwd=paths.ROOT)
    assert "python -m helpers.pipeline --profile smoke" in out and ".venv/bin/python" not in out


def test_make_help_lines_up_every_target():
    import re

    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in make("help", cwd=paths.ROOT).splitlines()]
    descriptions = {len(line) - len(line[2:].split(None, 1)[1]) for line in lines}
    assert len(descriptions) == 1, lines


def test_a_value_that_fits_only_some_notebooks_stops_the_run_naming_each_and_its_form(tmp_path, monkeypatch):
    """Part 1's IMAGE_SIZE is [height, width], Part 2's one side: ``-p IMAGE_SIZE [48,64]`` over every
    notebook stops before any runs, naming notebooks 03-07 and what they take."""
    monkeypatch.setenv("SALIENCY_EXECUTED_DIR", str(tmp_path / "executed"))
    with pytest.raises(SystemExit) as stopped:
        pipeline.main(["-p", "IMAGE_SIZE", "[48,64]", "--notebooks", str(paths.NOTEBOOKS)])
    message = str(stopped.value)
    assert "nothing has run" in message and "01_saliency_model" not in message
    for notebook in ("03_invert_conv2", "04_invert_conv5", "05_invert_fc6", "06_invert_fc8", "07_inversion_summary"):
        assert f"{notebook}: IMAGE_SIZE must be one whole number" in message
    assert not (tmp_path / "executed").exists()   # no notebook ran


def test_notebooks_run_in_the_order_of_their_declared_roles_not_their_numbers(tmp_path):
    """A layer notebook numbered after the summary still runs before it; a notebook of one's own
    (no role) runs first; a role the project does not know is refused, naming the notebook."""
    from helpers import notebooks

    def with_role(name, role):
        nb = nbformat.v4.new_notebook()
        if role:
            nb.metadata["project"] = {"role": role}
        nbformat.write(nb, tmp_path / name)
        return tmp_path / name

    summary, layer = with_role("07_summary.ipynb", "layer-summary"), with_role("10_invert_conv3.ipynb", "layer")
    training, own = with_role("05_train.ipynb", "saliency-training"), with_role("99_mine.ipynb", None)
    assert pipeline.notebooks(tmp_path) == [own, training, layer, summary]
    assert notebooks.describe("layer", tmp_path) == "notebook 10_invert_conv3"
    with_role("11_other.ipynb", "layer")
    assert notebooks.describe("layer", tmp_path) == "the layer notebooks (10_invert_conv3, 11_other)"
    with_role("12_typo.ipynb", "layr")
    with pytest.raises(notebooks.NotebookRoleError, match="12_typo.ipynb: its role 'layr' is not one of"):
        pipeline.notebooks(tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("under_make", [False, True])
def test_ctrl_c_prints_one_line_where_what_is_kept_and_how_to_resume(tmp_path, under_make):
    """Ctrl-C (SIGINT to the terminal's process group) interrupts the kernel's cell; the run says so in
    one line and exits 130 — 0 under make, which reports the interrupt itself (no second message)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    folder = tmp_path / "nbs"
    folder.mkdir()
    write_notebook(folder / "01_sleeps.ipynb", "import time\nfor _ in range(120):\n    time.sleep(0.5)")
    pipeline.ensure_kernel()
    env = {**os.environ, "SALIENCY_EXECUTED_DIR": str(tmp_path / "executed"), "SALIENCY_REPORT_DIR": str(tmp_path / "r")}
    env.pop("MAKELEVEL", None)
    if under_make:
        env["MAKELEVEL"] = "1"
    run = subprocess.Popen([sys.executable, "-m", "helpers.pipeline", "--notebooks", str(folder)], cwd=paths.ROOT,
                           env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    executed, deadline = tmp_path / "executed" / ".01_sleeps.running.ipynb", time.monotonic() + 120
    while time.monotonic() < deadline and not (executed.is_file() and '"status": "running"' in executed.read_text()):
        time.sleep(0.5)   # papermill marks the cell running once the kernel has started it
    time.sleep(1)
    os.killpg(run.pid, signal.SIGINT)
    out = run.communicate(timeout=60)[0]
    lines = [line for line in out.splitlines() if line.strip() and not line.startswith("[1/1]")]
    assert len(lines) == 1 and lines[0].startswith("interrupted in 01_sleeps.ipynb. Kept: ") and "Traceback" not in out
    assert "run the same command again" in lines[0]
    assert run.returncode == (0 if under_make else 130)
    assert '"status": "failed"' in (tmp_path / "executed" / "01_sleeps.ipynb").read_text()   # the copy, in its place


def test_make_venv_says_what_it_installs_and_how_to_take_the_cpu_only_wheels(tmp_path):
    """Dry run (make -n): the lines it prints before the silent pip, and TORCH_INDEX taken only when given."""
    import subprocess

    def dry(*extra):
        return subprocess.run(["make", "-n", "-f", str(paths.ROOT / "Makefile"), f"VENV={tmp_path}/v", *extra,
                               f"{tmp_path}/v/.installed"], capture_output=True, text=True, check=True).stdout

    said = dry()
    assert "make venv: installing PyTorch" in said and "about 6 GB" in said and "TORCH_INDEX=" in said
    assert "--index-url" not in said                                # the default reaches only pip's own index
    assert "--index-url https://download.pytorch.org/whl/cpu" in dry("TORCH_INDEX=https://download.pytorch.org/whl/cpu")


def fake_pair(folder, torch_version="2.13.0+cpu", vision_version="0.28.0"):
    """A torch and a torchvision that import, but whose compiled operator is missing: PyPI's torchvision beside
    a CPU torch of another release."""
    for name, version in (("torch", torch_version), ("torchvision", vision_version)):
        (folder / f"{name}-{version}.dist-info").mkdir(parents=True)
        (folder / f"{name}-{version}.dist-info" / "METADATA").write_text(f"Name: {name}\nVersion: {version}\n")
        (folder / name).mkdir()
    (folder / "torch" / "__init__.py").write_text("def zeros(*shape):\n    return shape\n")
    (folder / "torchvision" / "__init__.py").write_text("from . import ops\n")
    (folder / "torchvision" / "ops.py").write_text(
        "def nms(*args):\n    raise RuntimeError('operator torchvision::nms does not exist')\n")


def test_make_venv_stops_with_one_line_naming_both_versions_when_torch_and_torchvision_do_not_work_together(tmp_path):
    import os
    import subprocess
    import sys

    fake_pair(tmp_path / "site")
    done = subprocess.run([sys.executable, "-m", "helpers.install_check"], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": f"{tmp_path / 'site'}{os.pathsep}{paths.ROOT}"})
    assert done.returncode == 1 and done.stdout == ""
    said = done.stderr.strip().splitlines()
    assert len(said) == 1 and "torch 2.13.0+cpu and torchvision 0.28.0 do not work together" in said[0]
    assert "(operator torchvision::nms does not exist)" in said[0] and "not marked built" in said[0]
    recipe = (paths.ROOT / "Makefile").read_text().split("$(VENV)/.installed: pyproject.toml")[1].split("\n\n")[0]
    assert recipe.index("helpers.install_check") < recipe.index("touch $@")   # the stamp only after the check
