# Two commands for a new user: `make demo` and `make test`. Both build .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DAGSTER_HOME ?= $(CURDIR)/.dagster

.PHONY: install demo test dev bench sandbox clean

$(STAMP): pyproject.toml setup.cfg
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Two workers: the suite is mostly waiting on subprocesses and sandbox windows, and CI has 2 cores.
# loadgroup keeps a module marked xdist_group on one worker, so its module fixture is built once.
test: $(STAMP)
	$(BIN)/pytest -q -n 2 --dist loadgroup

demo: $(STAMP)
	mkdir -p $(DAGSTER_HOME)
	$(BIN)/xero-pipeline demo

dev: $(STAMP)
	mkdir -p $(DAGSTER_HOME)
	$(BIN)/xero-pipeline dev

sandbox: $(STAMP)
	$(BIN)/xero-pipeline sandbox --port 8765

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .dagster data .pytest_cache
