"""Every benchmark in turn (`make bench`); each prints its ratios against its baseline."""
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for script, *arguments in (("judd_auc.py",), ("loader.py",), ("training_speed.py",), ("make_run.py", "--fresh")):
    print(f"\n=== {script} {' '.join(arguments)}", flush=True)
    subprocess.run([sys.executable, str(HERE / script), *arguments], check=False)
