"""The quick tier stays quick: a test without the slow mark that runs too long is reported, and fails
the session where a maintainer asks (``SALIENCY_STRICT_SLOW_MARKS=1``, as CI); load from other work on
the machine cannot flag a test."""
import multiprocessing
import os
import re
import time
from pathlib import Path

import pytest

INNER_CONFTEST = '''
import importlib.util, sys
spec = importlib.util.spec_from_file_location("project_conftest", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
pytest_addoption, pytest_configure = module.pytest_addoption, module.pytest_configure
'''

TESTS = '''
import time
import pytest

def busy(seconds):
    """CPU work of about ``seconds`` on an idle core."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass

def test_quick():
    pass

@pytest.mark.slow
def test_marked_and_slow():
    busy(0.6)

def test_{name}():
    busy({seconds})
'''


def run_inner(pytester, name: str, seconds: float, strict: bool = True, limit: float = 0.2, *arguments):
    pytester.makeconftest(INNER_CONFTEST.format(path=str(Path(__file__).with_name("conftest.py"))))
    pytester.makeini(f"[pytest]\nslow_limit = {limit}\nmarkers = slow: slow\n")
    pytester.makepyfile(TESTS.format(name=name, seconds=seconds))
    if strict:
        pytester._monkeypatch.setenv("SALIENCY_STRICT_SLOW_MARKS", "1")
    else:
        pytester._monkeypatch.delenv("SALIENCY_STRICT_SLOW_MARKS", raising=False)
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *arguments)


def test_an_unmarked_test_over_the_limit_fails_a_strict_session_naming_it(pytester):
    result = run_inner(pytester, "unmarked_but_slow", 0.6)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*SLOW MARK MISSING: test_an_unmarked*::test_unmarked_but_slow ran 0.* s (limit 0.2 s;*"])
    result.assert_outcomes(passed=3)  # every test passed: it is the session that fails


def test_on_a_users_run_an_unmarked_slow_test_is_reported_and_the_run_passes(pytester):
    result = run_inner(pytester, "unmarked_but_slow", 0.6, strict=False)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*SLOW MARK MISSING: *test_unmarked_but_slow*(reported; SALIENCY_STRICT_SLOW_MARKS=1 fails the run)"])


@pytest.mark.slow
def test_under_pytest_n_a_workers_unmarked_slow_test_fails_the_session_too(pytester):
    """``make test`` runs two workers: the time a test took on a worker reaches the check."""
    result = run_inner(pytester, "unmarked_on_a_worker", 0.6, True, 0.2, "-n", "2")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*SLOW MARK MISSING: *::test_unmarked_on_a_worker ran 0.* s (limit 0.2 s;*"])


@pytest.mark.slow
def test_under_pytest_n_each_worker_and_what_it_starts_computes_on_its_share_of_the_cores(pytester):
    share = max(1, len(os.sched_getaffinity(0)) // 2)
    pytester.makeconftest(INNER_CONFTEST.format(path=str(Path(__file__).with_name("conftest.py"))))
    pytester.makepyfile(f'''
import subprocess, sys
import torch

def test_threads():
    child = subprocess.run([sys.executable, "-c", "import torch; print(torch.get_num_threads())"],
                           capture_output=True, text=True, check=True).stdout.strip()
    assert (torch.get_num_threads(), int(child)) == ({share}, {share})
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=1)


def test_marked_slow_tests_and_quick_ones_pass(pytester):
    result = run_inner(pytester, "also_quick", 0.0)
    assert result.ret == 0
    assert "SLOW MARK MISSING" not in result.stdout.str()


def _hog(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


@pytest.mark.slow
def test_load_from_other_work_cannot_fail_a_strict_session(pytester):
    """Four busy processes on the machine's cores stretch a 0.3 s test's wall time past the 0.5 s
    limit; its CPU time stays 0.3 s, so the strict session passes."""
    hogs = [multiprocessing.Process(target=_hog, args=(30.0,), daemon=True) for _ in range(4)]
    for hog in hogs:
        hog.start()
    try:
        result = run_inner(pytester, "under_load", 0.3, True, 0.5, "--durations=0", "-vv")
    finally:
        for hog in hogs:
            hog.terminate()
    wall = float(re.search(r"([0-9.]+)s call .*::test_under_load", result.stdout.str()).group(1))
    assert wall > 0.5                                     # the load did stretch it past the limit ...
    assert result.ret == 0 and "SLOW MARK MISSING" not in result.stdout.str()   # ... and it is not flagged
