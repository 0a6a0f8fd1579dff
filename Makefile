# The README's commands. Each target sets up .venv/ first (a no-op when it
# is up to date), so every command works on a fresh clone.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
# Independent tests run in parallel, one worker per core.
PYTEST_WORKERS ?= auto
# make study: every detection run with seeds 0 and 1 (the report's mean and
# spread); SEEDS=N: N seeds; PRETRAIN=1: also re-train the shipped
# pre-training (docs/study.md).
SEEDS ?= 2
PRETRAIN ?=

.PHONY: setup demo study test gpu-check gpu-accept wheelhouse clean

setup:
	bash install/setup_env.sh

demo: setup
	$(PYTHON) tools/demo.py

study: setup
	$(PYTHON) tools/study.py --seeds $(SEEDS) $(if $(PRETRAIN),--pretrain)

test: setup
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check .
	$(PYTHON) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup --durations=25 tests

# On a GPU node: CUDA ops, AMP, SyncBN, 50 iterations + test (docs/gpu.md).
gpu-check: setup
	$(PYTHON) tools/misc/gpu_check.py

# On a GPU node, from a fresh checkout (WHEELHOUSE=DIR offline): set-up,
# gpu-check, SIGTERM + --resume through dist_train.sh, benchmarks at batch 2
# and 16; each stage capped, 9 minutes in all on one H200 (docs/gpu.md).
# It runs the set-up itself. OUT: gpu_accept.json and gpu_accept.log.
OUT ?= work_dirs/gpu_accept
gpu-accept:
	python3 install/gpu_accept.py --out $(OUT) --venv $(VENV)

# Where PyPI is reachable: every wheel the set-up needs, for an offline
# `WHEELHOUSE=DIR make setup` (PY_VERSION, TORCH_SPEC, NVCC, LEAVE_OUT,
# HAVE=FILE, the node's `pip list --format=freeze`, for only what it lacks:
# install/make_wheelhouse.sh).
WHEELHOUSE ?= wheelhouse
wheelhouse:
	WHEELHOUSE=$(WHEELHOUSE) bash install/make_wheelhouse.sh

clean:
	rm -rf work_dirs data/synthetic_coco
