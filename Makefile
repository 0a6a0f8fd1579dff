# The README's commands. Each target sets up .venv/ first (a no-op when it
# is up to date), so every command works on a fresh clone.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
# Independent tests run in parallel, one worker per core.
PYTEST_WORKERS ?= auto

.PHONY: setup demo study test clean

setup:
	bash tools/setup_env.sh

demo: setup
	$(PYTHON) tools/demo.py

study: setup
	$(PYTHON) tools/study.py

test: setup
	$(VENV)/bin/lint-imports
	$(PYTHON) -m pytest -n $(PYTEST_WORKERS) --durations=10 tests

clean:
	rm -rf work_dirs data/synthetic_coco
