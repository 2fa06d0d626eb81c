# Two entry points: `make run` (set up and launch) and `make test` (set up and test).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck oracle bench clean

# setuptools is upgraded in the venv so the wheel test (tests/test_package.py) builds offline.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip 'setuptools>=77'
	$(PY) -m pip install --quiet -e '.[test,export,dev]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) main.py

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports
	$(MAKE) --no-print-directory typecheck

lint: $(STAMP)
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports

typecheck: $(STAMP)
	$(PY) -m mypy

# The PyTorch oracle the engine tests compare against (CPU build; those tests skip without it), and
# scikit-learn's digits (the 'train' extra) for the tests that retrain and re-score the shipped LeNet-5.
oracle: $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,export,dev,train,oracle]'

bench: $(STAMP)
	$(PY) benchmarks/bench_engine.py
	QT_QPA_PLATFORM=offscreen $(PY) benchmarks/bench_gui.py
	QT_QPA_PLATFORM=offscreen $(PY) benchmarks/bench_images.py
	QT_QPA_PLATFORM=offscreen $(PY) benchmarks/bench_canvas.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .mypy_cache
