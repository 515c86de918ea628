# Entry point: `make help` lists the targets.
PYTHON_BOOTSTRAP ?= python3
VENV ?= .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PROFILE ?= smoke
PYTEST_ARGS ?=
# Passed to every notebook that declares them, when set: make run PROFILE=full WholeDataset=200 DEVICE=cuda
NOTEBOOK_PARAMETERS := $(if $(WholeDataset),-p WholeDataset $(WholeDataset)) $(if $(DEVICE),-p DEVICE $(DEVICE))
# DATA_DIR=/path moves the whole data folder (the one holding cat2000/, tiny-imagenet-200/, ...).
ifdef DATA_DIR
export SALIENCY_DATA_DIR := $(abspath $(DATA_DIR))
endif

.DEFAULT_GOAL := help
.PHONY: help venv sample run report test lab bench clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-8s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	$(PYTHON_BOOTSTRAP) -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -e '.[dev]'
	$(PYTHON) -m ipykernel install --sys-prefix --name saliency-inversion --display-name "Python (saliency-inversion)"
	touch $(STAMP)

venv: $(STAMP) ## Create .venv with everything installed and the Jupyter kernel registered

sample: venv ## Generate the embedded sample data sets under data/
	$(PYTHON) -c "from helpers import samples; print(samples.ensure_saliency_sample()); print(samples.ensure_inversion_sample())"

run: venv sample ## Run every notebook headless (PROFILE=smoke|full, WholeDataset=N, DATA_DIR=..., DEVICE=...)
	$(PYTHON) -m helpers.pipeline --profile $(PROFILE) $(NOTEBOOK_PARAMETERS)

report: venv ## Regenerate report/REPORT.md and REPORT.html from report/metrics
	$(PYTHON) -m helpers.report

test: venv ## Run the test suite (executes the notebooks on the sample)
	$(PYTHON) -m pytest $(PYTEST_ARGS)

lab: venv ## Open JupyterLab with the project's kernel (adds --allow-root when run as root)
	$(PYTHON) -m helpers.lab

bench: venv ## Run the benchmarks (installs pysaliency and numba for the comparisons)
	$(PYTHON) -m pip install --quiet -e '.[bench]'
	$(PYTHON) benchmarks/run_all.py

clean: ## Remove executed notebooks, checkpoints and caches (keeps data and the environment)
	rm -rf executed checkpoints data/.cache
