"""The headless runner: order, parameters, and a failing notebook stopping the run."""
import json

import nbformat
import pytest

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


def test_unknown_profile_is_refused():
    with pytest.raises(SystemExit, match="profile"):
        pipeline.parameters_for(paths.NOTEBOOKS / "01_saliency_model.ipynb", "turbo", {})


def test_smoke_profile_names_only_declared_parameters():
    import papermill

    for notebook in pipeline.notebooks():
        declared = papermill.inspect_notebook(str(notebook))
        assert set(pipeline.SMOKE.get(notebook.stem, {})) <= set(declared), notebook.name


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
