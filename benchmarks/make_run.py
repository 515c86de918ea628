"""What `make run` costs, accounted for: wall time, CPU-seconds and peak memory, per step and per cell.

    python benchmarks/make_run.py [--fresh] [--account FILE.json] [pipeline arguments]

Runs what `make run` runs — the samples (`make sample`), then `python -m helpers.pipeline` — and samples
the resident memory of the whole process tree every half second. Every notebook's kernel starts with an
IPython startup file of this script's (through ``IPYTHONDIR``; nothing in ``helpers/`` is changed) that
notes each cell's CPU-seconds (the kernel's and its DataLoader workers') and wall seconds, so the
account says where the CPU goes: per notebook, the kernel's start, then each cell by its first line
(imports, data, training, scoring, figures), and the runner itself (papermill, the report).
`--fresh` runs with empty data, checkpoint, cache, executed-notebook and report folders of its own
(a temporary folder, removed afterwards), so everything is generated, trained and decoded again, as
from a clean clone — and nothing of yours is touched. `--account` writes the account as JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry.name))
            rss[int(entry.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        total += rss.get(current, 0)
        stack.extend(children.get(current, []))
    return total


#: Run at every kernel's start (IPython's profile startup folder): one JSON line per cell to SALIENCY_ACCOUNT_FILE.
STARTUP = """
import json, os, resource, time

def _cpu():
    return sum(u.ru_utime + u.ru_stime for u in (resource.getrusage(resource.RUSAGE_SELF),
                                                 resource.getrusage(resource.RUSAGE_CHILDREN)))

_cell = {}

def _before(info):
    _cell.update(cpu=_cpu(), wall=time.perf_counter(), line=(info.raw_cell.strip().splitlines() or [""])[0][:80])

def _after(result):
    with open(os.environ["SALIENCY_ACCOUNT_FILE"], "a") as out:
        out.write(json.dumps({"kernel": os.getpid(), "cell": _cell["line"], "cpu": _cpu() - _cell["cpu"],
                              "wall": time.perf_counter() - _cell["wall"], "cpu_before": _cell["cpu"]}) + "\\n")

get_ipython().events.register("pre_run_cell", _before)
get_ipython().events.register("post_run_cell", _after)
"""
DONE_LINE = re.compile(r"\[\d+/\d+\] (\S+\.ipynb) done in (\d+)s \((\d+) CPU-s\)")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(command: list[str], env: dict) -> tuple[int, float, float, int, str]:
    """Run ``command``; its exit status, wall seconds, CPU-seconds (with its children), peak tree memory, output."""
    started, cpu = time.perf_counter(), children_cpu()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines, peak = [], 0
    reader = threading.Thread(target=lambda: lines.extend(process.stdout))
    reader.start()
    while process.poll() is None:
        peak = max(peak, tree_rss(process.pid))
        time.sleep(0.5)
    reader.join()
    return process.returncode, time.perf_counter() - started, children_cpu() - cpu, peak, "".join(lines)


def account(pipeline_output: str, cells: list[dict]) -> list[dict]:
    """Rows (notebook, phase, CPU-s, wall s): each notebook's kernel start, its cells, and the rest (the
    runner's papermill work for it), the kernels matched to the notebooks in the order they ran."""
    done = DONE_LINE.findall(pipeline_output)
    kernels = list(dict.fromkeys(cell["kernel"] for cell in cells))
    rows = []
    for (notebook, wall, cpu), kernel in zip(done, kernels):
        mine = [cell for cell in cells if cell["kernel"] == kernel]
        rows.append({"notebook": notebook, "phase": "kernel start", "cpu": mine[0]["cpu_before"], "wall": None})
        rows += [{"notebook": notebook, "phase": cell["cell"], "cpu": cell["cpu"], "wall": cell["wall"]} for cell in mine]
        rest = float(cpu) - sum(row["cpu"] for row in rows if row["notebook"] == notebook)
        rows.append({"notebook": notebook, "phase": "runner (papermill, kernel shutdown)", "cpu": rest, "wall": None})
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--account", default="", help="write the account here as JSON")
    args, rest = parser.parse_known_args()
    env = dict(os.environ)
    scratch = Path(tempfile.mkdtemp(prefix="make-run-"))
    if args.fresh:
        for name in ("DATA", "CHECKPOINT", "CACHE", "EXECUTED", "REPORT"):
            env[f"SALIENCY_{name}_DIR"] = str(scratch / name.lower())
    (scratch / "ipython" / "profile_default" / "startup").mkdir(parents=True)
    (scratch / "ipython" / "profile_default" / "startup" / "00-account.py").write_text(STARTUP)
    env.update(IPYTHONDIR=str(scratch / "ipython"), SALIENCY_ACCOUNT_FILE=str(scratch / "cells.jsonl"))
    sample = run([sys.executable, "-c", "from helpers import samples; samples.ensure_saliency_sample(); "
                                        "samples.ensure_inversion_sample()"], env)
    pipeline = run([sys.executable, "-m", "helpers.pipeline", *rest], env)
    cells = [json.loads(line) for line in (scratch / "cells.jsonl").read_text().splitlines()] \
        if (scratch / "cells.jsonl").exists() else []
    shutil.rmtree(scratch, ignore_errors=True)
    sys.path.insert(0, str(ROOT))
    from helpers.parallel import cpu_kind

    total_cpu, total_wall = sample[2] + pipeline[2], sample[1] + pipeline[1]
    rows = [{"notebook": "make sample", "phase": "the samples generated", "cpu": sample[2], "wall": sample[1]},
            *account(pipeline[4], cells)]
    notebooks_cpu = sum(row["cpu"] for row in rows)
    rows.append({"notebook": "runner", "phase": "the report, and what no notebook took", "cpu": total_cpu - notebooks_cpu,
                 "wall": None})
    print(f"{'notebook':<30} {'phase':<62} {'CPU-s':>7} {'wall s':>7} {'share':>6}")
    for row in rows:
        wall = f"{row['wall']:.1f}" if row["wall"] is not None else ""
        print(f"{row['notebook']:<30} {row['phase'][:62]:<62} {row['cpu']:7.1f} {wall:>7} {row['cpu'] / total_cpu:6.1%}")
    print(f"make run (smoke profile{', from empty folders' if args.fresh else ''}): exit {pipeline[0]}, "
          f"{total_wall / 60:.1f} min wall, {total_cpu:.0f} CPU-s, peak memory {max(sample[3], pipeline[3]) / 2**30:.2f} "
          f"GB on a {cpu_kind()}")
    if args.account:
        Path(args.account).write_text(json.dumps({"cpu_kind": cpu_kind(), "fresh": args.fresh, "cpu": total_cpu,
                                                  "wall": total_wall, "rows": rows}, indent=1) + "\n")
    if pipeline[0]:
        print(pipeline[4][-3000:])
    sys.exit(pipeline[0])


if __name__ == "__main__":
    main()
