"""The test suite's time, by test file: what each part of ``make test`` costs.

    python benchmarks/test_durations.py                 # runs the whole suite (15-35 minutes on 2 cores, by CPU)
    python benchmarks/test_durations.py --log run.log   # reads the output of `pytest --durations=0` instead
    python benchmarks/test_durations.py --write          # and writes the table into benchmarks/README.md

Sums pytest's own timing of every test's setup, call and teardown per file, and splits it into the
quick tier (tests without the ``slow`` mark: ``make test-quick``) and the slow one.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from helpers.io import replace_marked_block  # noqa: E402

README = ROOT / "benchmarks" / "README.md"
BEGIN, END = "<!-- test durations: begin -->", "<!-- test durations: end -->"
LINE = re.compile(r"^\s*([\d.]+)s (setup|call|teardown)\s+(tests/[\w/]+\.py)::(\S+)")


def slow_tests() -> set[str]:
    """Node ids of the tests with the slow mark (collected, not run)."""
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "--collect-only", "-m", "slow", "-p", "no:cacheprovider"],
                          capture_output=True, text=True, cwd=ROOT)
    return {line.strip() for line in done.stdout.splitlines() if "::" in line}


def table(log: str, slow: set[str]) -> str:
    seconds = defaultdict(lambda: [0.0, 0.0])   # file → [quick tier, slow tier]
    for match in map(LINE.match, log.splitlines()):
        if match:
            duration, _, path, test = match.groups()
            seconds[path][f"{path}::{test}" in slow] += float(duration)
    total = [sum(v[0] for v in seconds.values()), sum(v[1] for v in seconds.values())]
    lines = ["| test file | quick tier (s) | slow tier (s) |", "|---|---|---|"]
    for path, (quick, heavy) in sorted(seconds.items(), key=lambda item: -sum(item[1])):
        lines.append(f"| `{path}` | {quick:.1f} | {heavy:.1f} |")
    lines.append(f"| **all** | **{total[0]:.0f}** | **{total[1]:.0f}** |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--log", type=Path, help="the output of `pytest --durations=0` (default: run the suite)")
    parser.add_argument("--write", action="store_true", help=f"replace the table in {README.relative_to(ROOT)}")
    args = parser.parse_args()
    if args.log:
        log = args.log.read_text()
    else:
        log = subprocess.run([sys.executable, "-m", "pytest", "-q", "--durations=0", "-p", "no:cacheprovider"],
                             capture_output=True, text=True, cwd=ROOT).stdout
    result = table(log, slow_tests())
    print(result)
    if args.write:
        replace_marked_block(README, BEGIN, END, "\n" + result + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
