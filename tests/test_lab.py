"""`make lab`: JupyterLab starts with the project's folder, as root too."""
import os
import socket
import subprocess
import sys
import time

import pytest

from helpers import lab, paths


def test_allow_root_is_added_only_for_root():
    assert "--allow-root" in lab.lab_arguments([], as_root=True)
    assert "--allow-root" not in lab.lab_arguments([], as_root=False)
    assert f"--notebook-dir={paths.ROOT}" in lab.lab_arguments(["--no-browser"], as_root=False)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_jupyterlab_starts_and_serves_as_whoever_runs_it(tmp_path):
    port = free_port()
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTER_CONFIG_DIR": str(tmp_path / "config")}
    process = subprocess.Popen([sys.executable, "-m", "helpers.lab", "--no-browser", f"--port={port}",
                                "--ServerApp.token=", "--ServerApp.ip=127.0.0.1"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    output = []
    try:
        deadline = time.time() + 90
        while time.time() < deadline:
            line = process.stdout.readline()
            output.append(line)
            if f"127.0.0.1:{port}" in line or process.poll() is not None:
                break
    finally:
        process.terminate()
        process.wait(timeout=30)
    text = "".join(output)
    assert f"127.0.0.1:{port}" in text, text[-2000:]
    assert "Running as root is not recommended" not in text
    if os.geteuid() == 0:
        assert "passing --allow-root" in text


def test_progress_bars_are_text_where_no_front_end_draws_a_widget(monkeypatch):
    """Under papermill (the kernel's parent process) a widget would never update: text bars instead;
    in a kernel JupyterLab started, the widget; outside any kernel, text."""
    import sys
    import types

    from tqdm import std
    from tqdm.notebook import tqdm_notebook

    from helpers import progress

    monkeypatch.delenv("SALIENCY_PROGRESS", raising=False)
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    monkeypatch.setattr(progress, "auto_tqdm", tqdm_notebook)
    monkeypatch.setattr(progress, "parent_command", lambda: "/usr/bin/python3 /usr/local/bin/papermill a.ipynb b.ipynb")
    assert not progress.widgets_shown() and type(progress.tqdm(range(3), disable=True)) is std.tqdm
    assert progress.tqdm(range(3)).disable   # captured line by line there: no bar ("checking the data" twice)
    monkeypatch.setattr(progress, "parent_command", lambda: "/usr/bin/python3 -m jupyter lab --no-browser")
    assert progress.widgets_shown()
    monkeypatch.setenv("SALIENCY_PROGRESS", "text")
    assert not progress.widgets_shown()
    monkeypatch.delenv("SALIENCY_PROGRESS")
    monkeypatch.delitem(sys.modules, "ipykernel")
    assert not progress.widgets_shown() and progress.bars_drawn()   # a terminal: text bars
    monkeypatch.setenv("SALIENCY_PROGRESS_BARS", "0")               # helpers.pipeline's headless run
    assert progress.tqdm(range(3)).disable
