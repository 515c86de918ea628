"""Wall time and peak memory of the main job on the embedded sample (`make run`).

    python benchmarks/make_run.py [--fresh]

Runs `python -m helpers.pipeline` (what `make run` runs once the environment exists) and samples the
resident memory of the whole process tree (the runner and every Jupyter kernel) every half second.
Targets on a 2-core CPU of either kind (``helpers.parallel.cpu_kind``, printed): at most 10 minutes, peak under 4 GB. `--fresh` runs with empty checkpoint,
cache and executed-notebook folders of its own (a temporary folder, removed afterwards), so everything
is trained and decoded again — and no trained model of yours is touched.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fresh", action="store_true")
    args, rest = parser.parse_known_args()
    env = dict(os.environ)
    scratch = tempfile.mkdtemp(prefix="make-run-") if args.fresh else None
    if scratch:
        for name in ("CHECKPOINT", "CACHE", "EXECUTED"):
            env[f"SALIENCY_{name}_DIR"] = str(Path(scratch) / name.lower())
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "helpers.pipeline", "--quiet", *rest], cwd=ROOT, env=env)
    peak = 0
    while process.poll() is None:
        peak = max(peak, tree_rss(process.pid))
        time.sleep(0.5)
    elapsed = time.perf_counter() - started
    if scratch:
        shutil.rmtree(scratch, ignore_errors=True)
    sys.path.insert(0, str(ROOT))
    from helpers.parallel import cpu_kind

    print(f"make run (smoke profile): exit {process.returncode}, {elapsed / 60:.1f} min wall "
          f"(target ≤ 10), peak memory {peak / 2**30:.2f} GB (target < 4) on a {cpu_kind()}")
    sys.exit(process.returncode)


if __name__ == "__main__":
    main()
