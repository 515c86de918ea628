"""The benchmarks' own logic: the prepared GPU check's dry run on the CPU, and the account of make run."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def benchmark(name: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_the_gpu_check_runs_every_step_in_its_dry_run():
    done = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_check.sh"), "--dry-run"], capture_output=True,
                          text=True, timeout=600, env={**os.environ, "PYTHON": sys.executable})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    lines = done.stdout.splitlines()
    for number in range(1, 7):
        assert any(line.startswith(f"{number}. ") for line in lines), f"step {number} missing:\n{done.stdout[-3000:]}"
    step_6 = next(line for line in lines if line.startswith("6. "))
    assert "exit 0" in step_6 and "epoch   1/1" in step_6          # two processes trained a run of their own
    assert "largest difference" in next(line for line in lines if line.startswith("4. "))


def test_the_make_run_account_splits_each_notebooks_cpu_into_kernel_start_cells_and_the_runners_rest():
    """Each notebook's CPU-seconds (the pipeline's line) are its kernel's start, its cells (recorded by
    the kernel's startup file) and what is left, papermill's work for it — in the order the notebooks ran."""
    make_run = benchmark("make_run")
    output = ("[1/2] 01_a.ipynb ...\n[1/2] 01_a.ipynb done in 9s (12 CPU-s) → x\n"
              "[2/2] 02_b.ipynb done in 3s (5 CPU-s) → y\n")
    cells = [{"kernel": 7, "cell": "import", "cpu": 3.0, "wall": 2.0, "cpu_before": 1.0},
             {"kernel": 7, "cell": "train", "cpu": 6.0, "wall": 5.0, "cpu_before": 4.0},
             {"kernel": 9, "cell": "score", "cpu": 2.5, "wall": 2.0, "cpu_before": 0.5}]
    rows = make_run.account(output, cells)
    assert [(r["notebook"], r["phase"], r["cpu"]) for r in rows] == [
        ("01_a.ipynb", "kernel start", 1.0), ("01_a.ipynb", "import", 3.0), ("01_a.ipynb", "train", 6.0),
        ("01_a.ipynb", "runner (papermill, kernel shutdown)", 2.0),
        ("02_b.ipynb", "kernel start", 0.5), ("02_b.ipynb", "score", 2.5),
        ("02_b.ipynb", "runner (papermill, kernel shutdown)", 2.0)]


def test_a_phase_inside_another_is_taken_out_of_it_and_one_step_an_epoch_counts_the_flops_of_its_images():
    """The phases' seconds are their own (a fake clock: the front end's 2 s are not the steps'); the first
    step of each epoch is counted and stands, per image, for the epoch: a bias-free 8 → 4 linear layer
    costs 2·8·4 FLOPs an image forward and as many for its weights' gradient: 128 for each of 12 images
    in each of two epochs."""
    import torch

    account = benchmark("phase_account")
    now = [0.0]
    phases = account.Phases(clock=lambda: (now[0], 10 * now[0]))
    layer = torch.nn.Linear(8, 4, bias=False)
    batches = account.Phases.batches(phases, "data", lambda: [torch.ones(5, 8), torch.ones(5, 8), torch.ones(2, 8)],
                                     flops=True)

    def epoch():
        for inputs in batches():
            now[0] += 3
            with phases.phase("front end"):
                now[0] += 2
            layer(inputs).sum().backward()

    phases.call("steps", epoch)()
    phases.call("steps", epoch)()
    rows = {tuple(row["path"]): row for row in phases.rows()}
    assert rows[("steps",)]["cpu"] == 2 * 3 * 3 and rows[("steps",)]["wall"] == 10 * 2 * 3 * 3
    assert rows[("steps", "front end")]["cpu"] == 2 * 3 * 2 and rows[("steps", "data")]["cpu"] == 0
    per_image = 2 * 8 * 4 + 2 * 8 * 4                           # forward, and the weights' gradient
    assert rows[("steps",)]["flops"] == 2 * 12 * per_image      # two epochs of 12 images


def test_the_phases_wrap_the_recipes_functions_once_and_leave_what_they_return_unchanged():
    import types

    account = benchmark("phase_account")
    plots = types.SimpleNamespace(save_figure=lambda figure, name: f"{name}.png")
    phases = account.Phases(clock=lambda: (0.0, 0.0))
    account.wrap(phases, {"helpers.plots": plots})
    wrapped = plots.save_figure
    account.wrap(phases, {"helpers.plots": plots})
    assert plots.save_figure is wrapped and wrapped.phase == "figure files"
    assert plots.save_figure(None, "fig1") == "fig1.png" and [row["path"] for row in phases.rows()] == [["figure files"]]


def test_the_make_run_account_quoted_in_the_benchmarks_readme_is_the_committed_file():
    """benchmarks/README.md's per-phase table of the AVX2 account is what make_run.py wrote to its file."""
    import json

    account = json.loads((ROOT / "docs" / "results" / "make_run_account_avx2.json").read_text())
    text = (ROOT / "benchmarks" / "README.md").read_text()
    assert account["cpu_kind"] == "2-core AVX2 without bf16" and len(account["phases"]) >= 8
    for name, phase in account["phases"].items():
        assert f"{name[:58]:<58} {phase['cpu']:7.1f} {phase['cpu'] / account['cpu']:6.1%}" in text, name
    assert f"{account['wall'] / 60:.1f} min wall, {account['cpu']:.0f} CPU-s" in text
    assert f"everything else {account['cpu'] - account['compute_cpu']:.0f} CPU-s" in text
