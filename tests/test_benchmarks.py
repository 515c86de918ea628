"""The prepared GPU check works before a GPU is ever lent: its dry run on the CPU."""
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
