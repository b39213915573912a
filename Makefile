# Leftover — developer commands. Everything runs from the project's own .venv.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: install run test lint format bench bench-dashboard clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Leftover needs Python 3.11 or newer (PYTHON=$(PYTHON))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

# The embedded default: migrations, web on http://127.0.0.1:8000, a worker and beat; Ctrl-C stops.
# make run ARGS="--port 8080" passes options to `leftover run`.
run: install
	$(BIN)/leftover run $(ARGS)

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check app workers tests bench
	$(BIN)/ruff format --check app workers tests bench
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix app workers tests bench
	$(BIN)/ruff format app workers tests bench

bench: install
	$(BIN)/python -m bench.scan

# The demo organisation at 200 clusters x 365 days on the local PostgreSQL (a database named
# leftover_bench is dropped and re-created), then its pages under 8 concurrent clients.
# make bench-dashboard ARGS="--clusters 10 --days 30" for a quick run.
bench-dashboard: install
	$(BIN)/python -m bench.dashboard $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
