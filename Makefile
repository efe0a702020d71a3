# The two set-up commands are `make run` and `make test`; both create .venv on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME := $(CURDIR)/.dagster_home

.PHONY: run test ui lock clean

$(BIN)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

$(DAGSTER_HOME):
	mkdir -p $@

## run: materialize every asset over raw/ and publish a release into warehouse/
run: $(BIN)/.installed | $(DAGSTER_HOME)
	$(BIN)/dangjian run

## test: the whole test suite
test: $(BIN)/.installed
	$(BIN)/python -m pytest

## ui: the Dagster UI on the same definitions (http://127.0.0.1:3000)
ui: $(BIN)/.installed | $(DAGSTER_HOME)
	$(BIN)/dagster dev -m dangjian.definitions

## lock: re-pin requirements.lock from pyproject.toml in a scratch virtualenv
lock:
	rm -rf build/lockenv && $(PYTHON) -m venv build/lockenv
	build/lockenv/bin/python -m pip install --quiet --upgrade pip
	build/lockenv/bin/python -m pip install --quiet ".[test]"
	build/lockenv/bin/python -m pip freeze --exclude dangjian > requirements.lock

clean:
	rm -rf $(VENV) build .pytest_cache
