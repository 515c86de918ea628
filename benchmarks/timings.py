"""The times the README quotes: one measured figure per command and machine kind, kept in
``docs/results/timings.json`` with the commit, the date and the command that measured it.

    /usr/bin/time -v make run 2> run.log
    python benchmarks/timings.py --record "make run" --log run.log          # adds (or replaces) this machine's figure
    python benchmarks/timings.py --write-readme                              # the README's block, from the file

``--log`` is the output of ``/usr/bin/time -v`` (wall clock and peak memory), and for the test tiers
also pytest's summary line (``… passed … in 1357.45s``), which is the figure quoted for them.
The machine kind is :func:`helpers.parallel.cpu_kind`: a CPU with ``avx512_bf16`` (or AMX) trains the
smoke profile under bf16 autocast, one without it in float32 — about twice as slow. An AVX-512 CPU run
with :data:`helpers.parallel.AVX2_ONLY` in the environment (PyTorch's, oneDNN's and MKL's kernels held
to AVX2, no bf16) is its own kind, "run as AVX2": a stand-in where no AVX2 machine was drawn, never
filed under the real AVX2 kind.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from helpers.io import replace_marked_block, write_json_atomic  # noqa: E402
from helpers.parallel import cpu_kind  # noqa: E402

RESULTS = ROOT / "docs" / "results" / "timings.json"
MARKERS = ("<!-- timings:begin -->\n", "\n<!-- timings:end -->")
COMMANDS = ("make run", "make test-quick", "make test")


def parse_log(text: str) -> dict:
    """Wall seconds and peak memory from ``/usr/bin/time -v``; pytest's own seconds when it ran."""
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", text)
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    pytest = re.findall(r"(\d+) passed.* in ([\d.]+)s", text)
    if wall is None or peak is None:
        raise SystemExit("the log has no /usr/bin/time -v output (Elapsed … and Maximum resident set size)")
    hours, minutes, seconds = wall.groups()
    found = {"wall_s": round(int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)),
             "peak_gb": round(int(peak.group(1)) / 2**20, 2)}
    if pytest:
        found.update(pytest_s=round(float(pytest[-1][1])), tests_passed=int(pytest[-1][0]))
    return found


def readme_block(results: dict) -> str:
    """One line per command and machine kind, every number read from ``results``."""
    lines = []
    for command in COMMANDS:
        for kind, row in results.get(command, {}).items():
            if "pytest_s" in row:
                what = f"{row['pytest_s'] / 60:.1f} min of pytest ({row['tests_passed']} tests passed), " \
                       f"{row['wall_s'] / 60:.1f} min wall"
            else:
                what = f"{row['wall_s'] / 60:.1f} min wall"
            lines.append(f"* `{command}` — **{what}**, peak {row['peak_gb']:.1f} GB: {kind}, commit `{row['commit']}`, "
                         f"{row['date']} (`{row['measured_by']}`)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--record", choices=COMMANDS, help="the command the log measured")
    parser.add_argument("--log", type=Path, help="its /usr/bin/time -v output")
    parser.add_argument("--measured-by", default="", help="how it was run (default: /usr/bin/time -v <command>)")
    parser.add_argument("--commit", default="", help="the commit measured (default: this checkout's HEAD)")
    parser.add_argument("--write-readme", action="store_true", help="rewrite the README's timings block")
    args = parser.parse_args(argv)
    import json

    results = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    if args.record:
        commit = args.commit or subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                               text=True).stdout.strip()
        row = {**parse_log(args.log.read_text()), "commit": commit, "date": dt.date.today().isoformat(),
               "measured_by": args.measured_by or f"/usr/bin/time -v {args.record}"}
        results.setdefault(args.record, {})[cpu_kind()] = row
        write_json_atomic(RESULTS, results)
        print(f"{args.record} on {cpu_kind()}: {row}")
    if args.write_readme:
        replace_marked_block(ROOT / "README.md", *MARKERS, readme_block(results))
        print(readme_block(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(os.sys.argv[1:]))
