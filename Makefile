# Set-up and the two jobs of the README. The virtual environment is made from pyproject.toml only.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
LINTED := src tests benchmarks hub_scripts examples
# Without the end-of-life banner mkdocs-material prints on every build.
export NO_MKDOCS_2_WARNING := 1

.PHONY: setup test lint demo docs

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

setup: $(VENV)/.installed

lint: setup
	$(PY) -m ruff check $(LINTED)
	$(PY) -m ruff format --check $(LINTED)

test: lint
	$(VENV)/bin/mkdocs build --strict -q
	$(PY) -m pytest -q -n 2 --dist loadfile

demo: setup
	$(VENV)/bin/viclip demo

docs: setup
	$(VENV)/bin/mkdocs build --strict
