"""The benchmarks' own logic: the prepared GPU check's dry run on the CPU, and the account of make run."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


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
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_run", ROOT / "benchmarks" / "make_run.py")
    make_run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_run)
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
