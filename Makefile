# The two commands of the README. Both create .venv on first use from the pinned lock.
#   make replicate   run the whole pipeline (snakemake, embedded benchmark) and record its outputs in DVC
#   make test        run the test suite
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: replicate test lint ci clean-results

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "seminal needs Python 3.11, found " + sys.version.split()[0]'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

replicate: $(STAMP)
	source $(BIN)/activate && snakemake && snakemake --report results/synglue/report.html \
	  && dvc commit --force --quiet replicate@synglue
	@echo "Results: results/synglue/table.md and results/synglue/report.html (table, plots, pretraining curves)"
	@echo "Browse every run: .venv/bin/mlflow ui --backend-store-uri sqlite:///mlflow.db  -> http://127.0.0.1:5000"

test: $(STAMP)
	.ci/browser-deps
	source $(BIN)/activate && python -m pytest

lint: $(STAMP)
	source $(BIN)/activate && snakemake --lint

ci: $(STAMP)
	source $(BIN)/activate && snakemake --profile profiles/ci

# environment.yml (for conda users) carries the same pins as requirements.lock; regenerate after a lock change.
environment.yml: requirements.lock
	{ printf '%s\n' '# Generated from requirements.lock by `make environment.yml`: the same pins for conda users.' \
	  '# conda env create -f environment.yml && conda activate seminal && pip install --no-deps -e .' \
	  'name: seminal' 'channels: [conda-forge]' 'dependencies:' '  - python=3.11' '  - pip' '  - pip:'; \
	  grep -v '^#' requirements.lock | sed 's/^/      - /'; } > $@
