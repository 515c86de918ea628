"""Every benchmark in turn (`make bench`); each prints its ratios against its baseline."""
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for script in ("judd_auc.py", "loader.py", "training_speed.py", "notebooks_time.py"):
    print(f"\n=== {script}", flush=True)
    subprocess.run([sys.executable, str(HERE / script)], check=False)
