"""What `make run` costs, accounted for: wall time, CPU-seconds and peak memory, per step, per cell and per phase.

    python benchmarks/make_run.py [--fresh] [--account FILE.json] [pipeline arguments]

Runs what `make run` runs — the samples (`make sample`), then `python -m helpers.pipeline` — and samples
the resident memory of the whole process tree every half second. Every notebook's kernel starts with an
IPython startup file of this script's (through ``IPYTHONDIR``; nothing in ``helpers/`` is changed) that
loads ``phase_account.py``: it notes each cell's CPU-seconds (the kernel's and its DataLoader workers')
and wall seconds, and inside a cell each phase of the recipe, so the account says where the CPU goes:
per notebook, the kernel's start, then each cell by its first line (imports, data, training, scoring,
figures) with its phases (training steps, their data, the frozen front end, validation, checkpoint
writes, no-learning maps, metrics, figure files), and the runner itself (papermill, the report). Last,
the phases summed over the run, the training steps' and validation's FLOPs per CPU-second beside this
CPU's own matrix-multiply rate, and what is not training or validation compute as a share of what is.
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


#: Run at every kernel's start (IPython's profile startup folder): phase_account.py's cell and phase account.
STARTUP = f"""
import importlib.util as _util, os as _os
_spec = _util.spec_from_file_location("phase_account", {str(Path(__file__).with_name("phase_account.py"))!r})
_account = _util.module_from_spec(_spec)
_spec.loader.exec_module(_account)
_account.install(get_ipython(), _os.environ["SALIENCY_ACCOUNT_FILE"])
del _util, _os, _spec, _account
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
    """Rows (notebook, phase, CPU-s, wall s, FLOPs): each notebook's kernel start, its cells — each followed
    by its phases, "›"-indented, and the rest of the cell — and what is left, the runner's papermill work
    for it; the kernels matched to the notebooks in the order they ran."""
    done = DONE_LINE.findall(pipeline_output)
    kernels = list(dict.fromkeys(cell["kernel"] for cell in cells))
    rows = []
    for (notebook, wall, cpu), kernel in zip(done, kernels):
        mine = [cell for cell in cells if cell["kernel"] == kernel]
        rows.append({"notebook": notebook, "phase": "kernel start", "cpu": mine[0]["cpu_before"], "wall": None})
        for cell in mine:
            rows.append({"notebook": notebook, "phase": cell["cell"], "cpu": cell["cpu"], "wall": cell["wall"]})
            phases = cell.get("phases", [])
            for phase in phases:
                rows.append({"notebook": notebook, "phase": " › ".join(["", *phase["path"]]).strip(),
                             "path": phase["path"], "cpu": phase["cpu"], "wall": phase["wall"],
                             "flops": phase["flops"], "inside": True})
            if phases:
                rows.append({"notebook": notebook, "phase": "› the rest of the cell", "inside": True,
                             "cpu": cell["cpu"] - sum(p["cpu"] for p in phases),
                             "wall": cell["wall"] - sum(p["wall"] for p in phases)})
        rest = float(cpu) - sum(row["cpu"] for row in rows if row["notebook"] == notebook and not row.get("inside"))
        rows.append({"notebook": notebook, "phase": "runner (papermill, kernel shutdown)", "cpu": rest, "wall": None})
    return rows


#: The phases that are training or validation compute (with what they call: the frozen front end).
COMPUTE = ("training steps", "validation loss pass", "held-out scores each epoch (fp32 pass, AUC-Judd)")


def by_phase(rows: list[dict]) -> dict[str, dict]:
    """The run's CPU-seconds, wall seconds and FLOPs per phase (its last name), over every notebook."""
    totals: dict[str, dict] = {}
    for row in rows:
        if row.get("path"):
            names = row["path"]
            entry = totals.setdefault(names[-1], {"cpu": 0.0, "wall": 0.0, "flops": 0.0, "compute": False})
            entry["cpu"] += row["cpu"]
            entry["wall"] += row["wall"]
            entry["flops"] += row["flops"]
            entry["compute"] |= names[-1] in COMPUTE or (names[-1].startswith("frozen front end")
                                                          and any(name in COMPUTE for name in names))
    return totals


def matmul_rate(dtype, size: int = 1024, seconds: float = 1.0) -> float:
    """This CPU's matrix-multiply rate in GFLOP per CPU-second (torch's threads, ``dtype``), over about
    ``seconds`` of CPU after a warm-up product."""
    import torch

    a, b = torch.randn(size, size).to(dtype), torch.randn(size, size).to(dtype)
    a @ b
    started, repeats = time.process_time(), 0
    while repeats < 2 or time.process_time() - started < seconds:
        a @ b
        repeats += 1
    return 2 * size ** 3 * repeats / (time.process_time() - started) / 1e9


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
    notebooks_cpu = sum(row["cpu"] for row in rows if not row.get("inside"))
    rows.append({"notebook": "runner", "phase": "the report, and what no notebook took", "cpu": total_cpu - notebooks_cpu,
                 "wall": None})
    print(f"{'notebook':<24} {'cell, › its phases':<64} {'CPU-s':>7} {'wall s':>7} {'share':>6} {'GFLOP':>7}")
    for row in rows:
        wall = f"{row['wall']:.1f}" if row["wall"] is not None else ""
        flops = f"{row['flops'] / 1e9:.0f}" if row.get("flops") else ""
        print(f"{row['notebook'][:24]:<24} {row['phase'][:64]:<64} {row['cpu']:7.1f} {wall:>7} "
              f"{row['cpu'] / total_cpu:6.1%} {flops:>7}")
    import torch

    from helpers.profiles import FAST_BF16

    rates = {"fp32": matmul_rate(torch.float32), "bf16": matmul_rate(torch.bfloat16)}
    trained_in = "bf16" if FAST_BF16 else "fp32"   # the smoke profile trains in bf16 where the CPU computes it
    phases = by_phase(rows)
    print(f"\nper phase, over every notebook (this CPU multiplies matrices at {rates['fp32']:.0f} GFLOP per CPU-s in "
          f"fp32, {rates['bf16']:.0f} in bf16 — torch's {torch.get_num_threads()} threads, 1024² operands; the smoke "
          f"profile trains in {trained_in} here)")
    print(f"{'phase':<58} {'CPU-s':>7} {'share':>6} {'GFLOP':>7} {'GFLOP/CPU-s':>12} {'of ' + trained_in + ' mm':>10}")
    for name, entry in sorted(phases.items(), key=lambda item: -item[1]["cpu"]):
        rate = entry["flops"] / 1e9 / entry["cpu"] if entry["flops"] and entry["cpu"] > 0 else None
        rate_text = "" if rate is None else f"{rate:12.1f} {rate / rates[trained_in]:10.0%}"
        print(f"{name[:58]:<58} {entry['cpu']:7.1f} {entry['cpu'] / total_cpu:6.1%} {entry['flops'] / 1e9:7.0f} "
              f"{rate_text}")
    compute = sum(entry["cpu"] for entry in phases.values() if entry["compute"])
    print(f"training and validation compute (the phases above marked by {', '.join(COMPUTE)} and the frozen front "
          f"end inside them): {compute:.0f} CPU-s; everything else {total_cpu - compute:.0f} CPU-s = "
          f"{(total_cpu - compute) / max(compute, 1e-9):.0%} of it")
    print(f"make run (smoke profile{', from empty folders' if args.fresh else ''}): exit {pipeline[0]}, "
          f"{total_wall / 60:.1f} min wall, {total_cpu:.0f} CPU-s, peak memory {max(sample[3], pipeline[3]) / 2**30:.2f} "
          f"GB on a {cpu_kind()}")
    if args.account:
        Path(args.account).write_text(json.dumps({"cpu_kind": cpu_kind(), "fresh": args.fresh, "cpu": total_cpu,
                                                  "wall": total_wall, "matmul_gflop_per_cpu_s": rates, "trained_in": trained_in,
                                                  "compute_cpu": compute, "phases": phases, "rows": rows},
                                                 indent=1) + "\n")
    if pipeline[0]:
        print(pipeline[4][-3000:])
    sys.exit(pipeline[0])


if __name__ == "__main__":
    main()
