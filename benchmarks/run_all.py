"""Every benchmark in turn (`make bench`); each prints its ratios against its baseline. The whole
`make run` (``make_run.py --fresh``, about 15 minutes on 2 cores) is the last; a failing benchmark
stops the run with its exit status."""
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for script, *arguments in (("judd_auc.py",), ("loader.py",), ("training_speed.py",), ("make_run.py", "--fresh")):
    print(f"\n=== {script} {' '.join(arguments)}", flush=True)
    done = subprocess.run([sys.executable, str(HERE / script), *arguments], check=False)
    if done.returncode:
        sys.exit(f"{script} failed (exit status {done.returncode})")
