"""Output folders are the project's or the user's (helpers.outputs): the project writes only into an empty folder
or one carrying its marker, writes and removes only the names it makes there, never through a link, and two runs
never write the same outputs at once."""
import json
import os
import subprocess
import sys
import time

import matplotlib.pyplot as plt
import nbformat
import pandas as pd
import pytest
import torch

from helpers import checkpoints, outputs, paths, pipeline, plots, report
from helpers.data.datasets import SaliencyDataset
from helpers.data.fingerprints import file_digests
from helpers.records import InversionSummary, write_table


@pytest.fixture
def folders(tmp_path, monkeypatch):
    """Every output folder moved into ``tmp_path`` (folders that may hold a user's other files)."""
    for name in ("executed", "cache", "report", "checkpoint", "data"):
        monkeypatch.setenv(f"SALIENCY_{name.upper()}_DIR", str(tmp_path / name))
    monkeypatch.delenv(outputs.RUN_VARIABLE, raising=False)
    return tmp_path


def make(*arguments, cwd, check=True):
    return subprocess.run(["make", "--no-print-directory", "-f", str(paths.ROOT / "Makefile"), *arguments], cwd=cwd,
                          capture_output=True, text=True, check=check, env=os.environ)


def summary() -> InversionSummary:
    return InversionSummary(dataset="sample", weights="", weights_id="", WholeDataset=10, seed=0, test_images=2,
                            layers={})


def everything(folder) -> dict:
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_users_folder_set_as_the_report_folder_stops_the_run_with_one_line_and_nothing_in_it_changes(folders):
    (folders / "report").mkdir()
    (folders / "report" / "REPORT.md").write_text("my own notes")
    (folders / "report" / "thesis.tex").write_text("chapter 1")
    before = everything(folders / "report")
    for write in (report.build_report, summary().write, lambda: plots.save_figure(plt.figure(), "fig1_saliency_loss")):
        with pytest.raises(outputs.NotOurFolder, match=f"^{folders / 'report'}: holds files and no "
                                                       r"\.saliency-inversion-output.*Set SALIENCY_REPORT_DIR"):
            write()
    done = make("clean", cwd=folders, check=False)
    assert done.returncode != 0 and "SALIENCY_REPORT_DIR" in done.stderr and everything(folders / "report") == before


def test_clean_and_clean_models_remove_only_the_names_the_project_makes_in_its_own_folders(folders):
    ours = [*plots.save_figure(plt.figure(), "fig_loss", vector=True), write_table("saliency_scores", pd.DataFrame({"a": [1]})),
            summary().write(), *report.build_report()]
    plots.save_figure(plt.figure(), "elsewhere", folder=folders / "mine")    # a folder of the user's choosing
    (folders / "report" / "my-notes.txt").write_text("mine")
    (folders / "report" / "figures" / "my_plot.png").write_bytes(b"mine")  # not a name the project makes (fig*)
    model = folders / "checkpoint" / "saliency_sample_0123abcd_456789.pt"
    checkpoints.save(model, {"model": {"w": torch.zeros(2)}})
    backup = folders / "checkpoint" / "saliency_backup.pt"                # the user's copy of a trained model
    backup.write_bytes(model.read_bytes())
    project_cache = SaliencyDataset([]).cache_dir
    (project_cache / "ab").mkdir(parents=True)
    (project_cache / "ab" / f"ab{'0' * 38}.npz").write_bytes(b"decoded")
    (project_cache / "MY_NOTES.txt").write_text("mine")                  # a user's file in the project's cache folder
    (folders / "data").mkdir()
    (folders / "data" / "image.jpg").write_bytes(b"jpeg")
    file_digests([folders / "data" / "image.jpg"])                       # the digest cache: the project's

    out = make("clean", cwd=folders).stdout
    assert not any(path.exists() for path in ours) and not (project_cache / "ab").exists()
    assert not (folders / "cache" / "file-digests.json").exists() and str(ours[0]) in out
    for kept in ("report/my-notes.txt", "report/figures/my_plot.png", "mine/elsewhere.png", "cache/saliency/MY_NOTES.txt",
                 "data/image.jpg"):
        assert (folders / kept).exists(), kept
    asked = make("clean-models", cwd=folders).stdout
    assert model.name in asked and backup.name not in asked and model.exists()
    make("clean-models", "FORCE=1", cwd=folders)
    assert not model.exists() and backup.read_bytes()[:2] == b"PK"       # the same bytes, not one of the project's names


def test_nothing_is_written_or_removed_through_a_link_out_of_the_projects_folder(folders):
    """report/figures and report/metrics made links to a thesis's own folders: refused, one line each, and
    make clean removes nothing there."""
    thesis = folders / "thesis"
    (thesis / "figures").mkdir(parents=True)
    (thesis / "figures" / "fig1_saliency_loss.png").write_bytes(b"the thesis's figure")
    (thesis / "metrics").mkdir()
    (thesis / "metrics" / "saliency_training.json").write_text("{}")
    outputs.own(paths.report_dir())
    for name in ("figures", "metrics"):
        (paths.report_dir() / name).symlink_to(thesis / name, target_is_directory=True)
    before = everything(thesis)
    with pytest.raises(outputs.NotOurFolder, match=f"^{paths.figures_dir()}: a link \\(to {thesis / 'figures'}\\)"):
        plots.save_figure(plt.figure(), "fig1_saliency_loss", vector=True)
    with pytest.raises(outputs.NotOurFolder, match=f"^{paths.metrics_dir()}: a link"):
        summary().write()
    make("clean", cwd=folders)
    assert everything(thesis) == before


@pytest.mark.parametrize("damage", [b"", b"This folder is wri", b"[1, 2]"])
def test_a_damaged_marker_stops_writes_and_make_clean_with_one_line_that_says_what_to_do(folders, damage):
    figure = plots.save_figure(plt.figure(), "fig_kept")[0]
    (paths.report_dir() / outputs.MARKER).write_bytes(damage)
    with pytest.raises(outputs.NotOurFolder, match="damaged or edited.*write back the line 'This folder is written"):
        summary().write()
    done = subprocess.run([sys.executable, "-m", "helpers.outputs"], cwd=paths.ROOT, capture_output=True, text=True)
    assert done.returncode == 1 and len(done.stderr.splitlines()) == 1 and "damaged or edited" in done.stderr
    assert figure.exists() and (paths.report_dir() / outputs.MARKER).read_bytes() == damage


def test_an_executed_folder_of_an_earlier_version_is_not_adopted_and_the_users_notebook_in_it_stays(folders):
    """An executed copy the user annotated, with papermill's record of the project's run in it: no marker, so the
    folder is the user's and the run stops with one line before any kernel starts."""
    notebook = paths.ROOT / "notebooks" / "03_invert_conv2.ipynb"
    output = paths.ensure(paths.executed_dir()) / notebook.name
    earlier = nbformat.v4.new_notebook(metadata={
        "kernelspec": {"name": pipeline.KERNEL_NAME, "display_name": "x", "language": "python"},
        "papermill": {"input_path": str(notebook), "output_path": str(output)}})
    earlier.cells.append(nbformat.v4.new_markdown_cell("my annotation"))
    nbformat.write(earlier, output)
    before = output.read_bytes()
    with pytest.raises(outputs.NotOurFolder, match="SALIENCY_EXECUTED_DIR"):
        pipeline.run_notebook(notebook, {}, None)
    assert output.read_bytes() == before


def test_a_cache_folder_of_the_users_turns_the_decode_cache_off_and_is_left_alone(folders, capsys):
    (folders / "cache").mkdir()
    (folders / "cache" / "notes.txt").write_text("mine")
    assert SaliencyDataset([]).cache_dir is None
    said = capsys.readouterr().out
    assert "SALIENCY_CACHE_DIR" in said and "the decode cache is off" in said
    assert everything(folders / "cache") == {folders / "cache" / "notes.txt": b"mine"}


WRITE_A_TABLE = ("import os, pandas as pd; from helpers.records import write_table; "
                 "write_table('{name}', pd.DataFrame({{'by': [os.environ.get('SALIENCY_RUN', str(os.getpid()))]}}))")


def started_waiting(process: subprocess.Popen, stderr_file, seconds: float = 120) -> str:
    """What ``process`` printed to ``stderr_file`` once it says it is waiting (or has ended)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        if "until it ends" in stderr_file.read_text():
            break
        time.sleep(0.2)
    return stderr_file.read_text()


@pytest.mark.slow
def test_a_second_run_and_a_notebook_writing_the_same_report_wait_for_the_first_then_finish_with_their_own(
        folders, tmp_path):
    """While one headless run holds the executed and report folders, another run waits before its first
    notebook and a notebook run from elsewhere (JupyterLab) at its first write, each saying for which run;
    when the first ends both go on and finish, each record naming the run that wrote it."""
    notebook = {"cells": [{"cell_type": "code", "execution_count": None, "id": "w", "metadata": {}, "outputs": [],
                           "source": WRITE_A_TABLE.format(name="second")}],
                "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
                "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "nbs").mkdir()
    (tmp_path / "nbs" / "01_any.ipynb").write_text(json.dumps(notebook))
    env = {k: v for k, v in os.environ.items() if k != outputs.RUN_VARIABLE}
    logs = {name: tmp_path / f"{name}.err" for name in ("second", "lab")}
    with outputs.one_run_at_a_time([paths.executed_dir(), paths.report_dir()], "the first run (process 1)") as doing:
        doing("running 03_invert_conv2.ipynb")
        commands = {"second": [sys.executable, "-m", "helpers.pipeline", "--notebooks", str(tmp_path / "nbs")],
                    "lab": [sys.executable, "-c", WRITE_A_TABLE.format(name="late")]}
        running = {name: subprocess.Popen(command, cwd=paths.ROOT, env=env, stdout=subprocess.PIPE, text=True,
                                          stderr=logs[name].open("w")) for name, command in commands.items()}
        said = {name: started_waiting(process, logs[name]) for name, process in running.items()}
        assert all(process.poll() is None for process in running.values()), said   # both wait
        assert not list((folders / "report").rglob("*.csv"))
    printed = {name: process.communicate(timeout=300)[0] for name, process in running.items()}
    assert [process.returncode for process in running.values()] == [0, 0], (said, printed)
    assert said["second"].strip().splitlines()[0] == (
        f"{paths.executed_dir()} is being written by the first run (process 1), running 03_invert_conv2.ipynb: this "
        "run waits until it ends (Ctrl-C or interrupting the kernel stops waiting)")
    assert "being written by the first run (process 1), running 03_invert_conv2.ipynb: this notebook's writes " \
           "wait for it until it ends" in said["lab"]
    metrics = folders / "report" / "metrics"
    second_run = f"(process {running['second'].pid}, "
    assert second_run in pd.read_csv(metrics / "second.csv")["by"][0]                 # its own run wrote it
    assert pd.read_csv(metrics / "late.csv")["by"][0] == running["lab"].pid
    assert (paths.executed_dir() / "01_any.ipynb").is_file()


def test_the_report_says_which_run_wrote_each_section(folders, monkeypatch):
    monkeypatch.setenv(outputs.RUN_VARIABLE, "'make run' (process 42)")
    summary().write()
    monkeypatch.delenv(outputs.RUN_VARIABLE)
    text = report.build_report()[0].read_text()
    assert f"by 'make run' (process 42), commit {paths.commit()}" in text


def test_make_clean_while_a_run_writes_stops_with_one_line_before_removing_anything(folders):
    figure = plots.save_figure(plt.figure(), "fig_clean_waits")[0]
    env = {k: v for k, v in os.environ.items() if k != outputs.RUN_VARIABLE}
    with outputs.one_run_at_a_time([paths.executed_dir(), paths.report_dir()], "the first run (process 1)"):
        done = subprocess.run([sys.executable, "-m", "helpers.outputs"], cwd=paths.ROOT, capture_output=True,
                              text=True, env=env, timeout=120)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.splitlines() == [f"{paths.executed_dir()} is being written by the first run (process 1), "
                                        "starting; nothing was removed. Wait for it to finish, then run 'make clean' "
                                        "again"]
    assert figure.exists()
