"""The quick tier stays quick: a test without the slow mark that runs too long fails the session."""

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

def test_quick():
    pass

@pytest.mark.slow
def test_marked_and_slow():
    time.sleep(0.4)

def test_{name}():
    time.sleep({seconds})
'''


def run_inner(pytester, name: str, seconds: float):
    from pathlib import Path

    pytester.makeconftest(INNER_CONFTEST.format(path=str(Path(__file__).with_name("conftest.py"))))
    pytester.makeini("[pytest]\nslow_limit = 0.2\nmarkers = slow: slow\n")
    pytester.makepyfile(TESTS.format(name=name, seconds=seconds))
    return pytester.runpytest_subprocess("-p", "no:cacheprovider")


def test_an_unmarked_test_over_the_limit_fails_the_session_naming_it(pytester):
    result = run_inner(pytester, "unmarked_but_slow", 0.5)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*SLOW MARK MISSING: test_an_unmarked*::test_unmarked_but_slow ran 0.* s (limit 0.2 s)*"])
    result.assert_outcomes(passed=3)  # every test passed: it is the session that fails


def test_marked_slow_tests_and_quick_ones_pass(pytester):
    result = run_inner(pytester, "also_quick", 0.0)
    assert result.ret == 0
    assert "SLOW MARK MISSING" not in result.stdout.str()
