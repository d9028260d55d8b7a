# Build, run and check the project.
#
#   make run        the product with demo data (web + worker + beat); creates .venv-run with only
#                   what the product needs (requirements.txt), then scripts/run.sh
#   make test       Django checks, migrations check, ruff, import-linter (the layers), then pytest
#                   (PYTEST_ARGS="-k foo" to narrow); creates .venv with requirements-dev.txt
#   make demo-reset throw the demo database away and seed a fresh demo month (then: make run)
#   make lint       ruff check + ruff format --check
#   make bench      scripts/bench.sh (see docs/BENCHMARKS.md)
#
# Both virtualenvs are installed with uv (from PyPI into the venv, then `uv pip install`), again
# only when a requirements file changes.

SHELL := /bin/bash
.DEFAULT_GOAL := venv

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
RUN_VENV := .venv-run
RUN_STAMP := $(RUN_VENV)/.installed
# Interpreter used to create the venvs: python3.11, else python3.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
PYTEST_ARGS ?=

export PIP_DISABLE_PIP_VERSION_CHECK := 1

# A venv whose interpreter no longer runs (base Python moved or removed) is rebuilt: dropping the
# stamp makes the recipe below recreate it.
ifneq ($(shell $(PY) -c 'print(1)' 2>/dev/null),1)
$(shell rm -f $(STAMP))
endif
ifneq ($(shell $(RUN_VENV)/bin/python -c 'print(1)' 2>/dev/null),1)
$(shell rm -f $(RUN_STAMP))
endif

# $(call make_venv,<dir>,<requirements file>)
define make_venv
	@if ! $(1)/bin/python -c '' 2>/dev/null; then \
	  if [ -z "$(PYTHON)" ]; then echo "make: neither python3.11 nor python3 is on PATH" >&2; exit 1; fi; \
	  echo "$(PYTHON) -m venv --clear $(1)"; \
	  $(PYTHON) -m venv --clear $(1) || { \
	    echo "make: '$(PYTHON) -m venv' failed; on Debian: apt-get install python3-venv" >&2; exit 1; }; \
	fi
	$(1)/bin/python -m pip install -q uv==0.9.5
	$(1)/bin/uv pip install --python $(1)/bin/python -r $(2)
	@touch $(1)/.installed
endef

.PHONY: venv run-venv test run demo-reset lint bench

venv: $(STAMP)

run-venv: $(RUN_STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	$(call make_venv,$(VENV),requirements-dev.txt)

$(RUN_STAMP): requirements.txt
	$(call make_venv,$(RUN_VENV),requirements.txt)

test: venv
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	@echo "$(VENV)/bin/pytest -n 2 $(PYTEST_ARGS)"
	@rc=0; $(VENV)/bin/pytest -n 2 $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests (exit 5): failing" >&2; fi; \
	exit $$rc

run: run-venv
	bash scripts/run.sh

demo-reset: run-venv
	$(RUN_VENV)/bin/python manage.py seed_demo --reset

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: venv
	bash scripts/bench.sh
