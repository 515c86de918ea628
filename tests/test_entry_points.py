"""Every ``python -m helpers.…`` ends the project's own refusals with their one line, never a traceback."""
import os
import subprocess
import sys

import pytest

from helpers import paths


def refusals(tmp_path):
    """Each entry point, with what makes it refuse: (arguments, environment, what the line names)."""
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "REPORT.md").write_text("my own report")
    (tmp_path / "a-file").write_text("not a folder")
    return {
        "report, a user's folder": (["helpers.report"], {"SALIENCY_REPORT_DIR": tmp_path / "mine"}, "SALIENCY_REPORT_DIR"),
        "pdf, no Chromium": (["helpers.report", "--pdf"], {"SALIENCY_REPORT_DIR": tmp_path / "report", "PATH": tmp_path},
                             "headless Chromium"),
        "pipeline, executed dir a file": (["helpers.pipeline", "--only", "02", "--profile", "ci"],
                                          {"SALIENCY_EXECUTED_DIR": tmp_path / "a-file"}, "SALIENCY_EXECUTED_DIR"),
        "train, data set missing": (["helpers.train", "saliency", "--dataset", "cat2000"],
                                    {"SALIENCY_DATA_DIR": tmp_path / "no-data"}, "cat2000 is not there"),
        "predict, no such image": (["helpers.predict", str(tmp_path / "missing.jpg"), "--out", str(tmp_path / "maps")],
                                   {}, "missing.jpg"),
        "clean, a user's folder": (["helpers.outputs"], {"SALIENCY_REPORT_DIR": tmp_path / "mine"}, "SALIENCY_REPORT_DIR"),
    }


@pytest.mark.slow
@pytest.mark.parametrize("case", [
    "report, a user's folder", "pdf, no Chromium", "pipeline, executed dir a file", "train, data set missing",
    "predict, no such image", "clean, a user's folder"])
def test_an_entry_points_own_refusal_is_one_line_and_a_failing_status(case, tmp_path):
    arguments, environment, named = refusals(tmp_path)[case]
    env = {**os.environ, **{name: str(value) for name, value in environment.items()}}
    done = subprocess.run([sys.executable, "-m", *arguments], cwd=paths.ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    said = done.stderr.strip().splitlines()
    assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr
    assert len(said) == 1 and named in said[0], done.stderr
