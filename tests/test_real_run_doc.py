"""docs/real-run.md, the real run on one page: every command it lists is one of those checked here,
offline (every connection refused by a proxy on a closed port), up to the point where it needs the
network — and what each says there is what the page quotes."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import paths

PAGE = paths.ROOT / "docs" / "real-run.md"
#: Every command the page's shell blocks hold, and how it is checked.
CHECKED = {
    "make venv": "dry run", "make venv ACTIVE_ENV=1": "dry run", "make run PROFILE=assignment DEVICE=cuda": "dry run",
    "pip install -e .": "the project's own install (make venv runs it)",
    "python -m helpers.downloads cat2000": "offline", "python -m helpers.downloads tiny-imagenet": "offline",
    "python -m helpers.weights fetch alexnet": "offline",
}


def commands_on_the_page() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", PAGE.read_text(), re.S)
    lines = [line.split("#")[0].strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith("git clone")]


def offline_env(tmp_path) -> dict:
    closed = "http://127.0.0.1:9"   # nothing listens there: every connection is refused at once
    return {**os.environ, "http_proxy": closed, "https_proxy": closed, "HTTP_PROXY": closed, "HTTPS_PROXY": closed,
            "no_proxy": "", "NO_PROXY": "", "SALIENCY_DATA_DIR": str(tmp_path / "data"), "TORCH_HOME": str(tmp_path / "torch"),
            "PIP_NO_INDEX": "1"}


def test_every_command_on_the_page_is_one_this_file_checks():
    assert set(commands_on_the_page()) == set(CHECKED)


@pytest.mark.parametrize("command, said_there, quoted_on_the_page", [
    ("python -m helpers.downloads cat2000", "cannot reach https://saliency.mit.edu/trainSet.zip", True),
    ("python -m helpers.downloads tiny-imagenet", "cannot reach https://cs231n.stanford.edu/tiny-imagenet-200.zip", False),
    pytest.param("python -m helpers.weights fetch alexnet", "AlexNet's ImageNet weights could not be fetched", True,
                 marks=pytest.mark.slow),   # imports torch: seconds of CPU
])
def test_offline_each_download_stops_with_what_to_do_instead(command, said_there, quoted_on_the_page, tmp_path):
    run = subprocess.run([sys.executable, *command.split()[1:]], cwd=paths.ROOT, env=offline_env(tmp_path),
                         capture_output=True, text=True, timeout=120)
    said = run.stdout + run.stderr
    assert run.returncode != 0 and "Traceback" not in said
    assert said_there in said and "by hand" in said
    assert not quoted_on_the_page or said_there in " ".join(PAGE.read_text().split())   # the page wraps its lines


def make_dry_run(*arguments: str) -> str:
    return subprocess.run(["make", "--no-print-directory", "-n", *arguments], cwd=paths.ROOT, capture_output=True,
                          text=True, check=True).stdout


def test_the_make_commands_do_what_the_page_says():
    real = make_dry_run("run", "PROFILE=assignment", "DEVICE=cuda")
    assert "-m helpers.pipeline --profile assignment" in real and "-p DEVICE cuda" in real
    active = make_dry_run("venv", "ACTIVE_ENV=1", "-B")
    assert "python -m pip install --quiet -e '.[dev]'" in active and ".venv/bin/python" not in active
    assert "-m pip install --quiet -e '.[dev]'" in make_dry_run("venv", "-B")   # what "pip install -e ." is part of
    assert "WholeDataset" in make_dry_run("run", "PROFILE=assignment", "DEVICE=cuda", "WholeDataset=200")


@pytest.mark.slow
def test_the_real_run_without_its_data_or_gpu_stops_before_training_saying_why(tmp_path):
    env = {**offline_env(tmp_path), "SALIENCY_EXECUTED_DIR": str(tmp_path / "executed"),
           "SALIENCY_REPORT_DIR": str(tmp_path / "report"), "SALIENCY_CHECKPOINT_DIR": str(tmp_path / "checkpoints")}
    run = subprocess.run([sys.executable, "-m", "helpers.pipeline", "--profile", "assignment", "-p", "DEVICE", "cuda",
                          "--only", "01", "--quiet"], cwd=paths.ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 1
    assert "no CUDA GPU is visible" in run.stderr or "no real saliency data set is there" in run.stderr
    assert not (tmp_path / "checkpoints").exists() or not list((tmp_path / "checkpoints").iterdir())


def colab_lines(tmp_path) -> str:
    """The page's Colab block, Drive and the session's disk moved to temporary folders, Drive not mounted."""
    block = re.search(r"```python\n(from google\.colab.*?)```", PAGE.read_text(), re.S).group(1)
    block = block.replace("/content/drive/MyDrive", str(tmp_path / "drive")).replace("/content", str(tmp_path / "content"))
    return "\n".join(line for line in block.splitlines() if "google.colab" not in line)


@pytest.mark.slow   # the report's imports: seconds of CPU
def test_the_colab_lines_keep_every_folder_the_project_writes_outside_the_clone(tmp_path):
    """Run the page's Colab lines, then what the project writes — the folders it resolves, and the report
    it builds — and check that nothing of it lands inside the clone."""
    script = colab_lines(tmp_path) + (
        "\nfrom helpers import paths, report"
        "\nprint('\\n'.join(str(f) for f in (paths.data_dir(), paths.checkpoint_dir(), paths.executed_dir(),"
        " paths.report_dir(), paths.cache_dir())))"
        "\nreport.build_report()")
    before = {p: p.stat().st_mtime_ns for p in _clone_files()}
    run = subprocess.run([sys.executable, "-c", script], cwd=paths.ROOT, capture_output=True, text=True, timeout=300,
                         env={k: v for k, v in os.environ.items() if not k.startswith("SALIENCY_")})
    assert run.returncode == 0, run.stderr[-2000:]
    folders = [Path(line) for line in run.stdout.split()]
    assert len(folders) == 5 and not any(f.resolve().is_relative_to(paths.ROOT.resolve()) for f in folders)
    assert folders[:4] == [tmp_path / "drive" / "saliency" / name for name in ("data", "checkpoint", "executed", "report")]
    assert (tmp_path / "drive" / "saliency" / "report" / "REPORT.md").is_file()   # the report went to "Drive"
    changed = [p for p in _clone_files() if before.get(p) != p.stat().st_mtime_ns]
    assert changed == []


def _clone_files() -> list:
    """The clone's files, but the virtual environment's, git's and Python's bytecode caches."""
    skipped = {".git", ".venv", "__pycache__", ".pytest_cache"}
    return [p for p in paths.ROOT.rglob("*") if p.is_file() and not skipped & set(p.relative_to(paths.ROOT).parts)]


def test_the_pages_gpu_times_are_the_committed_estimate_and_say_they_are_one():
    import json

    from helpers.io import marked_block

    sys.path.insert(0, str(paths.ROOT / "benchmarks"))
    from real_run_estimate import MARKERS, PAGE, RESULTS, page_block

    results = json.loads(RESULTS.read_text())
    assert marked_block(PAGE.read_text(), *MARKERS, str(PAGE)) == page_block(results)
    assert [row["notebook"][:2] for row in results["rows"]] == ["01", "03", "04", "05", "06", "07"]
    assert "**estimate**" in page_block(results) and "COMPARE False" in PAGE.read_text()
