# Entry point: `make help` lists the targets.
PYTHON_BOOTSTRAP ?= python3
VENV ?= .venv
PROJECT_ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
PROFILE ?= smoke
PYTEST_ARGS ?=
# Processes `make test` and `make test-quick` spread the test files over, each computing on its share of
# the cores (tests/conftest.py); 0 runs them in this one process.
TEST_WORKERS ?= 2
SPREAD_TESTS = -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder
# TORCH_INDEX=https://download.pytorch.org/whl/cpu installs PyTorch's CPU wheels first (no CUDA libraries)
TORCH_INDEX ?=
TORCH_INDEX_FAILED = make venv: $(TORCH_INDEX) could not be reached, or has no torch and torchvision for this Python (pip's output: $(VENV)/torch-index.log); nothing else was installed
# Seconds a notebook cell may run before `make run` fails (a day fits notebook 01 on real CAT2000 on a CPU).
CELL_TIMEOUT ?= 86400
# Passed to every notebook that declares them, when set: make run PROFILE=assignment WholeDataset=200 DEVICE=cuda
NOTEBOOK_PARAMETERS := $(if $(WholeDataset),-p WholeDataset $(WholeDataset)) $(if $(DEVICE),-p DEVICE $(DEVICE))
# DATA_DIR=/path moves the whole data folder (the one holding cat2000/, tiny-imagenet-200/, ...).
ifdef DATA_DIR
export SALIENCY_DATA_DIR := $(abspath $(DATA_DIR))
endif

# ACTIVE_ENV=1 uses the Python environment that is active (conda: `conda activate saliency-inversion`)
# instead of building .venv: the project is installed into it editable and the kernel registered there.
ifdef ACTIVE_ENV
PYTHON := python
STAMP := .active-env.installed
else
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed
endif

# make clean: the environment's Python when it is built (its filelock sees a run in progress), else the system's
CLEAN_PYTHON = $(if $(wildcard $(PYTHON)),$(PYTHON),$(PYTHON_BOOTSTRAP))

.DEFAULT_GOAL := help
.PHONY: help venv kernel sample run report pdf first-screen test test-quick lab bench clean clean-models

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-13s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(VENV)/.installed: pyproject.toml
	@echo "make venv: installing PyTorch, torchvision, JupyterLab, papermill, OpenCV and the project into $(VENV)"
	@echo "  (about 6 GB and 5-10 minutes with PyTorch's default CUDA wheels; TORCH_INDEX=https://download.pytorch.org/whl/cpu"
	@echo "  installs the CPU-only wheels first, some 3 GB less — for a machine without an NVIDIA GPU)"
	$(PYTHON_BOOTSTRAP) -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(if $(TORCH_INDEX),@$(PYTHON) -m pip install --quiet --retries 1 --timeout 20 torch torchvision --index-url $(TORCH_INDEX) \
		2> $(VENV)/torch-index.log && ! grep -qs "NewConnectionError\|ConnectTimeout\|Could not fetch URL" $(VENV)/torch-index.log \
		|| { echo "$(TORCH_INDEX_FAILED)" >&2; exit 1; })
	$(PYTHON) -m pip install --quiet -e '.[dev]'
	@$(PYTHON) -m helpers.install_check
	$(PYTHON) -m helpers.pipeline --register-kernel
	touch $@

.active-env.installed: pyproject.toml
	@echo "ACTIVE_ENV: using $$(command -v python) ($${CONDA_PREFIX:-no conda environment active})"
	$(PYTHON) -m pip install --quiet -e '.[dev]'
	@$(PYTHON) -m helpers.install_check
	$(PYTHON) -m helpers.pipeline --register-kernel
	touch $@

venv: $(STAMP) ## Install everything (into .venv, or the active environment with ACTIVE_ENV=1) and register the kernel

kernel: $(STAMP) ## Register the Jupyter kernel "saliency-inversion" of the environment in use
	$(PYTHON) -m helpers.pipeline --register-kernel

sample: venv ## Generate the embedded sample data sets under data/
	$(PYTHON) -c "from helpers import samples; print(samples.ensure_saliency_sample()); print(samples.ensure_inversion_sample())"

run: venv sample ## Run every notebook headless (PROFILE=smoke|assignment, WholeDataset=N, DATA_DIR=..., DEVICE=..., CELL_TIMEOUT=s)
	$(PYTHON) -m helpers.pipeline --profile $(PROFILE) --timeout $(CELL_TIMEOUT) $(NOTEBOOK_PARAMETERS)

report: venv ## Regenerate report/REPORT.md and REPORT.html from report/metrics
	$(PYTHON) -m helpers.report

first-screen: run ## Remake the README's first screen (docs/first-screen/) from a smoke make run
	$(PYTHON) benchmarks/first_screen.py --command "make first-screen"

pdf: venv ## Print the report to report/REPORT.pdf (A4) with headless Chromium or Chrome
	$(PYTHON) -m helpers.report --pdf

test: venv ## Run the whole test suite, notebooks executed on the sample (what CI runs; TEST_WORKERS=N processes, 0 for one), and list its 15 slowest tests
	$(PYTHON) -m pytest $(SPREAD_TESTS) --durations=15 $(PYTEST_ARGS)

test-quick: venv ## Run the quick tier: every test without the slow mark (no notebook, no long training)
	$(PYTHON) -m pytest -m "not slow" $(SPREAD_TESTS) $(PYTEST_ARGS)

lab: venv ## Open JupyterLab with the project's kernel (adds --allow-root when run as root)
	$(PYTHON) -m helpers.lab

bench: venv ## Run the benchmarks, a full make run last (installs pysaliency and numba); stops at a failure
	$(PYTHON) -m pip install --quiet -e '.[bench]'
	$(PYTHON) benchmarks/run_all.py

clean: ## Remove what is cheap to remake: executed notebooks, caches, the generated report (keeps trained models and data; SALIENCY_*_DIR honoured)
	@PYTHONPATH=$(PROJECT_ROOT) $(CLEAN_PYTHON) -m helpers.outputs

clean-models: ## List the trained models in checkpoints/ (or SALIENCY_CHECKPOINT_DIR); FORCE=1 removes them
	@PYTHONPATH=$(PROJECT_ROOT) $(CLEAN_PYTHON) -m helpers.outputs --models $(if $(filter 1,$(FORCE)),--force)
