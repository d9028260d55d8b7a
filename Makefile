# Build, run and check the project.  Everything runs from the virtualenv in .venv.
#
#   make venv    create .venv and install requirements-dev.txt (again only when a requirements file changes)
#   make test    Django checks, migrations check, ruff, import-linter (the layers), then pytest (PYTEST_ARGS="-k foo" to narrow)
#   make run     migrate, seed demo data, run the Celery worker and gunicorn (scripts/run.sh)
#   make lint    ruff check + ruff format --check
#   make bench   scripts/bench.sh, once it exists

SHELL := /bin/bash
.DEFAULT_GOAL := venv

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Interpreter used to create the venv: python3.11, else python3.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
PYTEST_ARGS ?=

export PIP_DISABLE_PIP_VERSION_CHECK := 1

# A venv whose interpreter no longer runs (base Python moved or removed) is rebuilt:
# dropping the stamp makes the recipe below recreate it.
ifneq ($(shell $(PY) -c 'print(1)' 2>/dev/null),1)
$(shell rm -f $(STAMP))
endif

.PHONY: venv test run lint bench

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@if ! $(PY) -c '' 2>/dev/null; then \
	  if [ -z "$(PYTHON)" ]; then echo "make venv: neither python3.11 nor python3 is on PATH" >&2; exit 1; fi; \
	  echo "$(PYTHON) -m venv --clear $(VENV)"; \
	  $(PYTHON) -m venv --clear $(VENV) || { \
	    echo "make venv: '$(PYTHON) -m venv' failed; on Debian: apt-get install python3-venv" >&2; exit 1; }; \
	fi
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -r requirements-dev.txt
	@touch $@

test: venv
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	@echo "$(VENV)/bin/pytest -n 2 $(PYTEST_ARGS)"
	@rc=0; $(VENV)/bin/pytest -n 2 $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests (exit 5): failing" >&2; fi; \
	exit $$rc

run: venv
	bash scripts/run.sh

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: venv
	@if [ -f scripts/bench.sh ]; then \
	  bash scripts/bench.sh; \
	else \
	  echo "make bench: benchmarks are not yet available (no scripts/bench.sh)" >&2; exit 1; \
	fi
