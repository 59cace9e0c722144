# The two entry points of the README: `make demo` and `make test`.
# Both create .venv in the repository and install skbrain with its dev extras
# (tests, docs, lint, packaging) the first time, and again when pyproject.toml changes.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.skbrain-installed

# The gallery examples run inside examples/, so a relative SKBRAIN_DATA is made
# absolute for every recipe.
ifdef SKBRAIN_DATA
export SKBRAIN_DATA := $(abspath $(SKBRAIN_DATA))
endif

.PHONY: install demo test test-tier2 test-all lint docs dist clean

install: $(STAMP)

# The shipped detectors (weights/skbrain-weights, the `detector` extra) are installed from
# this checkout first, so that the extra is met without a package index.
WEIGHTS := weights/skbrain-weights

$(STAMP): pyproject.toml $(WEIGHTS)/pyproject.toml $(WEIGHTS)/skbrain_weights/MANIFEST.json
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	rm -rf $(WEIGHTS)/build
	$(PY) -m pip install --quiet ./$(WEIGHTS)
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/skbrain train --model wide --output runs/demo/wide.skbrain

test: $(STAMP)
	$(PY) -m pytest

test-tier2: $(STAMP)
	$(PY) -m pytest -m "tier2 and not slow"

test-all: $(STAMP)
	$(PY) -m pytest -m "slow or not slow"

lint: $(STAMP)
	$(VENV)/bin/ruff check .

docs: $(STAMP)
	$(PY) -m sphinx -W --keep-going -b html docs docs/_build/html

dist: $(STAMP)
	rm -rf dist
	$(PY) -m build
	$(VENV)/bin/twine check --strict dist/*

clean:
	rm -rf build dist docs/_build docs/generated docs/auto_examples runs
