"""Shared fixtures, and the check that keeps the quick tier quick. Every test writes under a
temporary folder, never into the repository."""
from __future__ import annotations

import os
import resource
import time
from pathlib import Path

import pytest


def _share_the_cores_between_workers() -> None:
    """Under ``pytest -n N`` (``make test``: two workers), each worker's PyTorch — and every kernel,
    ``torchrun`` and script it starts, through the environment — computes on its share of the cores:
    N processes each using every core would fight over them. Set before anything imports torch."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        threads = str(max(1, len(os.sched_getaffinity(0)) // workers))
        for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[variable] = threads


_share_the_cores_between_workers()

from helpers.samples import write_saliency_sample  # noqa: E402

def pytest_addoption(parser):
    parser.addini("slow_limit", "seconds an unmarked test may run before the session fails (the quick tier "
                                "is every test without the slow mark)", default="5")


#: Set to 1 (``.ci/run`` does) to fail the session on a slow test without the mark; else it is reported.
STRICT_VARIABLE = "SALIENCY_STRICT_SLOW_MARKS"


def cpu_seconds() -> float:
    """CPU time of this process and of the children it has waited for (kernels, make, torchrun)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class SlowMarkCheck:
    """Reports a test without the ``slow`` mark that ran longer than ``slow_limit`` seconds: the mark
    must be honest for ``make test-quick`` to stay quick. A test's time is the lesser of its wall time
    and the CPU time it used (this process and its children): other work on the machine stretches the
    wall time but not the CPU time, and threads running at once add CPU time but not wall time — so
    load alone cannot flag a test. The session fails for it only where a maintainer asks
    (``SALIENCY_STRICT_SLOW_MARKS=1``, as CI does); elsewhere the line is a report."""

    #: The name the measured seconds travel under in the call's report (from a ``pytest -n`` worker too).
    PROPERTY = "seconds for the slow-mark check"

    def __init__(self, limit: float, strict: bool):
        self.limit, self.strict, self.offenders = limit, strict, []

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item):
        wall, cpu = time.perf_counter(), cpu_seconds()
        yield
        if item.get_closest_marker("slow") is None:
            item.user_properties.append((self.PROPERTY, min(time.perf_counter() - wall, cpu_seconds() - cpu)))

    def pytest_runtest_logreport(self, report):
        seconds = dict(report.user_properties).get(self.PROPERTY, 0.0)
        if report.when == "call" and seconds > self.limit:
            self.offenders.append((report.nodeid, seconds))

    def pytest_sessionfinish(self, session):
        if self.strict and self.offenders and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter):
        for nodeid, seconds in self.offenders:
            terminalreporter.write_line(
                f"SLOW MARK MISSING: {nodeid} ran {seconds:.1f} s (limit {self.limit:g} s; the lesser of wall and CPU "
                "time); mark it @pytest.mark.slow" + ("" if self.strict else f" (reported; {STRICT_VARIABLE}=1 fails the run)"),
                red=True)


#: The test files that execute notebooks, the longest of the suite. ``make test`` (``pytest -n 2 --dist
#: loadfile``) runs each file's tests on one worker — a notebook run a file's tests share (a module-scoped
#: fixture) runs once — and hands these files out first, one to each worker.
NOTEBOOK_FILES = ("test_claims.py", "test_notebooks.py")


def pytest_collection_modifyitems(config, items):
    """Under ``pytest -n`` (on its workers, which collect the tests): the notebook files first, then
    the other files with slow tests, so that no long file starts last and leaves the other workers idle
    while it runs."""
    if hasattr(config, "workerinput"):
        items.sort(key=lambda item: (item.path.name not in NOTEBOOK_FILES, item.get_closest_marker("slow") is None))


def pytest_configure(config):
    strict = os.environ.get(STRICT_VARIABLE, "") not in ("", "0")
    config.pluginmanager.register(SlowMarkCheck(float(config.getini("slow_limit")), strict), "slow-mark-check")


@pytest.fixture(scope="session")
def workspace(tmp_path_factory) -> Path:
    """Data, cache, checkpoint, report and executed-notebook folders for this test session."""
    root = tmp_path_factory.mktemp("workspace")
    for name in ("DATA", "CACHE", "CHECKPOINT", "REPORT", "EXECUTED"):
        os.environ[f"SALIENCY_{name}_DIR"] = str(root / name.lower())
    return root


@pytest.fixture(autouse=True)
def _isolated(workspace):
    """Each test on the session's folders, and the environment as it found it: what a test (or the
    code it calls, like ``helpers.pipeline``'s headless switch) sets there does not reach the next —
    under ``pytest -n`` the tests a worker runs after it are not the file order's."""
    environment = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(environment)


@pytest.fixture(scope="session")
def small_sample(tmp_path_factory) -> Path:
    """A small saliency sample in CAT2000's layout: every category, 20 images each (read-only in tests)."""
    return write_saliency_sample(tmp_path_factory.mktemp("sample"), images_per_category=20, seed=3)
