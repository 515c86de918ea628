#!/usr/bin/env bash
# The prepared GPU check, one script, under 8 minutes on one GPU:
#   bash benchmarks/gpu_check.sh            on a GPU machine (a lent one: copy the tree, run, read the figures)
#   bash benchmarks/gpu_check.sh --dry-run  on any CPU, at tiny sizes (tests/test_benchmarks.py runs it)
# 1. the CUDA-marked tests; 2.-6. benchmarks/gpu_check.py: notebook 01's and 03's recipes with the
# assignment's settings (images/s, peak GPU memory), the batched AUC-Judd engine against the CPU one,
# fp32 against bf16 autocast + channels-last, and two-process DDP when two GPUs are visible.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
DRY_RUN=()
if [ "${1:-}" = "--dry-run" ]; then DRY_RUN=(--dry-run); fi
echo "1. CUDA-marked tests"
"$PYTHON" -m pytest -m cuda -q -p no:cacheprovider -o slow_limit=600 tests/test_cuda.py
"$PYTHON" benchmarks/gpu_check.py "${DRY_RUN[@]}"
