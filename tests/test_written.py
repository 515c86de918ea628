"""The project overwrites and deletes only what it wrote (the output folders' manifests, helpers.written),
and two runs never write the same outputs at once."""
import errno
import json
import os
import subprocess
import sys
import time

import matplotlib.pyplot as plt
import pandas as pd
import pytest
import torch

from helpers import checkpoints, clean, paths, pipeline, plots, report, written
from helpers.data.datasets import SaliencyDataset
from helpers.data.fingerprints import file_digests
from helpers.io import DiskFullError
from helpers.records import InversionSummary, write_table


@pytest.fixture
def folders(tmp_path, monkeypatch):
    """Every output folder moved into ``tmp_path`` (folders that may hold a user's other files)."""
    for name in ("executed", "cache", "report", "checkpoint", "data"):
        monkeypatch.setenv(f"SALIENCY_{name.upper()}_DIR", str(tmp_path / name))
    monkeypatch.delenv(written.RUN_VARIABLE, raising=False)
    return tmp_path


def make(*arguments, cwd):
    return subprocess.run(["make", "--no-print-directory", "-f", str(paths.ROOT / "Makefile"), *arguments], cwd=cwd,
                          capture_output=True, text=True, check=True, env=os.environ).stdout


def summary() -> InversionSummary:
    return InversionSummary(dataset="sample", weights="", weights_id="", WholeDataset=10, seed=0, test_images=2,
                            layers={})


def test_a_users_report_pages_in_the_report_folder_are_neither_overwritten_nor_removed(folders):
    (folders / "report").mkdir()
    (folders / "report" / "REPORT.md").write_text("my own notes")
    with pytest.raises(written.NotWrittenHere, match="REPORT.md: this file was not written by the project"):
        report.build_report()
    assert (folders / "report" / "REPORT.md").read_text() == "my own notes"
    (folders / "report" / "REPORT.md").rename(folders / "report" / "REPORT.html")   # now the other page is theirs
    with pytest.raises(written.NotWrittenHere, match="REPORT.html"):
        report.build_report()
    out = clean.clean()
    assert (folders / "report" / "REPORT.html").read_text() == "my own notes"
    assert not (folders / "report" / "REPORT.md").exists() and "REPORT.md" in out   # the one the project wrote


def test_clean_and_clean_models_remove_what_the_project_wrote_and_keep_same_named_files_of_the_user(folders):
    ours = [*plots.save_figure(plt.figure(), "fig_loss", vector=True), write_table("scores", pd.DataFrame({"a": [1]})),
            summary().write(), *report.build_report()]
    changed = plots.save_figure(plt.figure(), "fig_changed")[0]
    changed.write_bytes(b"the user edited this figure")
    plots.save_figure(plt.figure(), "elsewhere", folder=folders / "mine")    # a folder of the user's choosing
    (folders / "report" / "my-notes.txt").write_text("mine")
    model = folders / "checkpoint" / "saliency_sample_0123abcd_456789.pt"
    checkpoints.save(model, {"model": {"w": torch.zeros(2)}})
    backup = folders / "checkpoint" / "saliency_backup_20240101.pt"       # the user's copy of a trained model
    backup.write_bytes(model.read_bytes())
    (folders / "executed").mkdir()
    (folders / "executed" / "01_saliency_model.ipynb").write_text("{} the user's own notebook")
    (folders / "cache" / "items").mkdir(parents=True)                    # the user's folder, named like a cache entry
    (folders / "cache" / "items" / "theirs.txt").write_text("theirs")
    project_cache = SaliencyDataset([]).cache_dir                         # the project's: made and recorded
    (project_cache / "ab.npz").parent.mkdir(parents=True, exist_ok=True)
    (project_cache / "ab.npz").write_bytes(b"decoded")
    (folders / "data").mkdir()
    (folders / "data" / "image.jpg").write_bytes(b"jpeg")
    file_digests([folders / "data" / "image.jpg"])                       # the digest cache: the project's

    out = make("clean", cwd=folders)
    assert not any(path.exists() for path in ours) and not project_cache.exists()
    assert not (folders / "cache" / "file-digests.json").exists()
    assert f"kept, changed since the project wrote them: {changed}" in out and changed.exists()
    for kept in ("report/my-notes.txt", "mine/elsewhere.png", "executed/01_saliency_model.ipynb",
                 "cache/items/theirs.txt", "data/image.jpg"):
        assert (folders / kept).exists(), kept
    asked = make("clean-models", cwd=folders)
    assert model.name in asked and backup.name not in asked and model.exists()
    make("clean-models", "FORCE=1", cwd=folders)
    assert not model.exists() and backup.read_bytes()[:2] == b"PK"       # the same bytes, not the project's file


def test_a_run_stops_with_one_line_before_overwriting_a_users_executed_copy(folders, tmp_path):
    notebook = tmp_path / "01_mine.ipynb"
    notebook.write_text("{}")
    (folders / "executed").mkdir()
    (folders / "executed" / notebook.name).write_text("the user's")
    with pytest.raises(written.NotWrittenHere, match="01_mine.ipynb"):
        pipeline.run_notebook(notebook, {}, timeout=None)              # refused before any kernel starts
    assert (folders / "executed" / notebook.name).read_text() == "the user's"


def test_a_cache_folder_of_the_users_turns_the_decode_cache_off_and_is_left_alone(folders, capsys):
    (folders / "cache" / "saliency").mkdir(parents=True)
    assert SaliencyDataset([]).cache_dir is None
    assert "is not a folder this project made: the decode cache is off" in capsys.readouterr().out
    assert list((folders / "cache" / "saliency").iterdir()) == []


def test_a_manifest_entry_leading_through_a_link_never_names_a_file_outside_the_folder(folders):
    report_dir, elsewhere = folders / "report", folders / "users-folder"
    report_dir.mkdir(), elsewhere.mkdir()
    (elsewhere / "x.txt").write_text("the user's")
    (report_dir / "linkdir").symlink_to(elsewhere, target_is_directory=True)
    digest = written.file_digest(elsewhere / "x.txt")
    (report_dir / written.MANIFEST).write_text(json.dumps({"linkdir/x.txt": digest, "../users-folder/x.txt": digest}))
    clean.clean()
    assert (elsewhere / "x.txt").read_text() == "the user's"


def test_the_manifest_is_replaced_whole_so_a_full_disk_leaves_it_as_it_was(folders, monkeypatch):
    first = write_table("scores", pd.DataFrame({"a": [1]}))
    manifest = (folders / "report" / written.MANIFEST).read_text()

    def full_disk(source, target):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(DiskFullError):
        write_table("other", pd.DataFrame({"a": [2]}))
    assert (folders / "report" / written.MANIFEST).read_text() == manifest and written.is_ours(first, first.parents[1])


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
    env = {k: v for k, v in os.environ.items() if k != written.RUN_VARIABLE}
    logs = {name: tmp_path / f"{name}.err" for name in ("second", "lab")}
    with written.one_run_at_a_time([paths.executed_dir(), paths.report_dir()], "the first run (process 1)") as doing:
        doing("running 03_invert_conv2.ipynb")
        commands = {"second": [sys.executable, "-m", "helpers.pipeline", "--notebooks", str(tmp_path / "nbs")],
                    "lab": [sys.executable, "-c", WRITE_A_TABLE.format(name="late")]}
        running = {name: subprocess.Popen(command, cwd=paths.ROOT, env=env, stdout=subprocess.PIPE, text=True,
                                          stderr=logs[name].open("w")) for name, command in commands.items()}
        said = {name: started_waiting(process, logs[name]) for name, process in running.items()}
        assert all(process.poll() is None for process in running.values()), said   # both wait
        assert not list((folders / "report").rglob("*.csv"))
    outputs = {name: process.communicate(timeout=300)[0] for name, process in running.items()}
    assert [process.returncode for process in running.values()] == [0, 0], (said, outputs)
    assert said["second"].strip().splitlines()[0] == (
        f"{paths.executed_dir()} is being written by the first run (process 1), running 03_invert_conv2.ipynb: this "
        "run waits until it ends (Ctrl-C or interrupting the kernel stops waiting)")
    assert "being written by the first run (process 1), running 03_invert_conv2.ipynb: this notebook's writes " \
           "wait for it until it ends" in said["lab"]
    metrics = folders / "report" / "metrics"
    second_run = f"(process {running['second'].pid}, "
    assert second_run in pd.read_csv(metrics / "second.csv")["by"][0]                 # its own run wrote it
    assert pd.read_csv(metrics / "late.csv")["by"][0] == running["lab"].pid
    assert written.is_ours(paths.executed_dir() / "01_any.ipynb", paths.executed_dir())


def test_the_report_says_which_run_wrote_each_section(folders, monkeypatch):
    monkeypatch.setenv(written.RUN_VARIABLE, "'make run' (process 42)")
    summary().write()
    monkeypatch.delenv(written.RUN_VARIABLE)
    text = report.build_report()[0].read_text()
    assert f"by 'make run' (process 42), commit {paths.commit()}" in text


def test_an_executed_copy_from_before_the_manifests_is_replaced_and_a_users_notebook_of_that_name_is_not(
        folders, monkeypatch):
    """A clone updated from a version without manifests: its executed copies carry papermill's record of
    the run (this notebook, into this path, on the project's kernel), so the next run replaces them; a
    user's notebook saved under the same name says nothing of the kind and stops the run with one line."""
    import nbformat

    notebook = paths.ROOT / "notebooks" / "03_invert_conv2.ipynb"
    output = paths.ensure(paths.executed_dir()) / notebook.name
    earlier = nbformat.v4.new_notebook(metadata={
        "kernelspec": {"name": pipeline.KERNEL_NAME, "display_name": "x", "language": "python"},
        "papermill": {"input_path": str(notebook), "output_path": str(output)}})
    nbformat.write(earlier, output)
    monkeypatch.setattr(pipeline.papermill, "execute_notebook",
                        lambda source, target, **_: nbformat.write(nbformat.v4.new_notebook(), target))
    assert pipeline.run_notebook(notebook, {}, None) == output
    assert written.is_ours(output, paths.executed_dir()) and nbformat.read(output, 4).metadata == {}

    mine = paths.executed_dir() / "04_invert_conv5.ipynb"
    nbformat.write(nbformat.v4.new_notebook(metadata={"kernelspec": earlier.metadata.kernelspec}), mine)
    with pytest.raises(written.NotWrittenHere, match="04_invert_conv5.ipynb: this file was not written by the project"):
        pipeline.run_notebook(paths.ROOT / "notebooks" / mine.name, {}, None)
    assert nbformat.read(mine, 4).metadata.kernelspec.name == pipeline.KERNEL_NAME   # left as it was


def test_a_decode_cache_from_before_the_manifests_is_kept_in_use_and_a_folder_with_anything_else_is_not(folders):
    """The decode cache's own layout (``ab/ab…38 hex….npz`` only) is what an earlier version left: it is
    recorded as the project's and used; one file of another name and it stays the user's, the cache off."""
    earlier = folders / "cache" / "saliency" / "ab"
    earlier.mkdir(parents=True)
    (earlier / f"ab{'0' * 38}.npz").write_bytes(b"decoded")
    assert SaliencyDataset([]).cache_dir == folders / "cache" / "saliency"
    assert written.is_ours(folders / "cache" / "saliency", folders / "cache")
    (folders / "cache" / "items" / "cd").mkdir(parents=True)
    (folders / "cache" / "items" / "cd" / f"cd{'1' * 38}.npz").write_bytes(b"decoded")
    (folders / "cache" / "items" / "notes.txt").write_text("mine")
    from helpers.data.datasets import DecodeOnceDataset
    assert DecodeOnceDataset([]).cache_dir is None and not written.is_ours(folders / "cache" / "items", folders / "cache")


def test_a_report_folder_from_before_the_manifests_is_taken_over_from_its_list_of_names(folders):
    """An earlier version listed the report files it wrote by name in ``.written-by-the-project``: those
    are the project's, so the next run replaces them and ``make clean`` removes them; the list is taken
    into the manifest and goes; a name leading out of the folder and a user's unlisted file stay."""
    report_folder = paths.ensure(paths.report_dir())
    (report_folder / "metrics").mkdir()
    (report_folder / "metrics" / "old.csv").write_text("a\n1\n")
    (report_folder / "REPORT.md").write_text("# an earlier report")
    (report_folder / "my-notes.txt").write_text("mine")
    (folders / "outside.txt").write_text("not the report's")
    (report_folder / written.EARLIER_LIST).write_text("metrics/old.csv\nREPORT.md\n../outside.txt\n")
    write_table("old", pd.DataFrame({"a": [2]}))                         # replaced, not refused
    assert not (report_folder / written.EARLIER_LIST).exists()
    assert written.is_ours(report_folder / "REPORT.md", report_folder)
    assert not written.is_ours(report_folder / "my-notes.txt", report_folder)
    make("clean", cwd=folders)
    assert not (report_folder / "REPORT.md").exists() and not (report_folder / "metrics" / "old.csv").exists()
    assert (report_folder / "my-notes.txt").exists() and (folders / "outside.txt").exists()


def test_make_clean_while_a_run_writes_stops_with_one_line_before_removing_anything(folders):
    figure = plots.save_figure(plt.figure(), "fig_clean_waits")[0]
    env = {k: v for k, v in os.environ.items() if k != written.RUN_VARIABLE}
    with written.one_run_at_a_time([paths.executed_dir(), paths.report_dir()], "the first run (process 1)"):
        done = subprocess.run([sys.executable, "-m", "helpers.clean"], cwd=paths.ROOT, capture_output=True,
                              text=True, env=env, timeout=120)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.splitlines() == [f"{paths.executed_dir()} is being written by the first run (process 1), "
                                        "starting; nothing was removed. Wait for it to finish, then run 'make clean' "
                                        "again"]
    assert figure.exists()
