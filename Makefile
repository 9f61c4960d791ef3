# Two commands for a new user: `make demo` and `make test`. Both build .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DAGSTER_HOME ?= $(CURDIR)/.dagster

.PHONY: install demo test bench-smoke dev bench sandbox ui-check clean

# uv installs the same pinned set in a quarter of pip's time (10 s against 40 s here), which
# matters inside make test's 10 minutes; pip takes over if uv cannot be had or fails.
$(STAMP): pyproject.toml setup.cfg
	$(PYTHON) -m venv $(VENV)
	( $(BIN)/pip install --quiet uv && $(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[test]' ) \
	  || ( $(BIN)/pip install --quiet --upgrade pip && $(BIN)/pip install --quiet -e '.[test]' )
	# Bytecode once, here: with PYTHONDONTWRITEBYTECODE set (as on our machines) neither pip
	# nor any later process writes .pyc files, so every process (each test worker, each CLI
	# and `dagster job execute` subprocess) compiled Dagster from source again: 4 CPU-minutes
	# of make test's 16. compileall writes them regardless (~10 s on 2 cores).
	$(BIN)/python -m compileall -q -j 0 $(VENV)/lib xero_pipeline xero_pipeline_tests benchmarks > /dev/null \
	  || echo "compileall: some files did not compile; they are compiled on import instead"
	touch $(STAMP)

install: $(STAMP)

# Three workers on CI's 2 cores: a fifth of the suite's time is spent waiting (subprocesses, sandbox
# windows, Retry-After), and a third worker fills it. loadgroup keeps a module marked xdist_group on
# one worker, so its module fixture is built once.
test: $(STAMP)
	$(BIN)/pytest -q -n 3 --dist loadgroup

# The slow groups of make bench at tiny scales (the fast ones are in make test): that the
# harness still produces every figure. Not timings.
bench-smoke: $(STAMP)
	$(BIN)/pytest -q -n 3 -m bench_smoke xero_pipeline_tests/cli/test_bench_smoke.py

demo: $(STAMP)
	mkdir -p $(DAGSTER_HOME)
	$(BIN)/xero-pipeline demo

dev: $(STAMP)
	mkdir -p $(DAGSTER_HOME)
	$(BIN)/xero-pipeline dev

sandbox: $(STAMP)
	$(BIN)/xero-pipeline sandbox --port 8765

# The UI in a headless Chromium (not part of make test). Playwright comes from PyPI; its own
# browser download is tried first, and where it cannot be had, Debian's chromium package.
ui-check: $(STAMP)
	$(BIN)/pip install --quiet playwright
	$(BIN)/python -m playwright install chromium || command -v chromium \
	  || (apt-get install -y -qq chromium || (apt-get update -qq && apt-get install -y -qq chromium))
	$(BIN)/python -m xero_pipeline_tests.ui_check

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .dagster data .pytest_cache
