"""Shared fixtures, and the check that keeps the quick tier quick. Every test writes under a
temporary folder, never into the repository."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers.samples import write_saliency_sample

def pytest_addoption(parser):
    parser.addini("slow_limit", "seconds an unmarked test may run before the session fails (the quick tier "
                                "is every test without the slow mark)", default="5")


class SlowMarkCheck:
    """Fails the session when a test without the ``slow`` mark ran longer than ``slow_limit``
    seconds (its call, as pytest times it): the mark must be honest for ``make test-quick`` to stay quick."""

    def __init__(self, limit: float):
        self.limit, self.unmarked, self.offenders = limit, set(), []

    def pytest_collection_modifyitems(self, items):
        self.unmarked = {item.nodeid for item in items if item.get_closest_marker("slow") is None}

    def pytest_runtest_logreport(self, report):
        if report.when == "call" and report.nodeid in self.unmarked and report.duration > self.limit:
            self.offenders.append((report.nodeid, report.duration))

    def pytest_sessionfinish(self, session):
        if self.offenders and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter):
        for nodeid, seconds in self.offenders:
            terminalreporter.write_line(f"SLOW MARK MISSING: {nodeid} ran {seconds:.1f} s (limit {self.limit:g} s); "
                                        "mark it @pytest.mark.slow", red=True)


def pytest_configure(config):
    config.pluginmanager.register(SlowMarkCheck(float(config.getini("slow_limit"))), "slow-mark-check")


@pytest.fixture(scope="session")
def workspace(tmp_path_factory) -> Path:
    """Data, cache, checkpoint, report and executed-notebook folders for this test session."""
    root = tmp_path_factory.mktemp("workspace")
    for name in ("DATA", "CACHE", "CHECKPOINT", "REPORT", "EXECUTED"):
        os.environ[f"SALIENCY_{name}_DIR"] = str(root / name.lower())
    return root


@pytest.fixture(autouse=True)
def _isolated(workspace):
    yield


@pytest.fixture(scope="session")
def small_sample(tmp_path_factory) -> Path:
    """A small saliency sample in CAT2000's layout: 4 categories × 20 images (read-only in tests)."""
    return write_saliency_sample(tmp_path_factory.mktemp("sample"), images_per_category=20, seed=3)
