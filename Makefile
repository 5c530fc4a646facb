# VizTube: `make run` serves the API locally; `make test` runs the whole suite against PostgreSQL.
# Any CPython 3.11 to 3.13: `make test PYTHON=python3.13`. The default interpreter keeps .venv;
# another one gets a virtualenv of its own, e.g. var/venv-python3.13.
PYTHON ?= python3
ifeq ($(PYTHON),python3)
VENV := .venv
else
VENV := var/venv-$(notdir $(PYTHON))
endif
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/viztube
# Tests run with DEBUG off, as production does; this key signs test tokens only.
TEST_SECRET_KEY := test-only-secret-key-not-for-production-0123456789abcdef

.PHONY: install run demo test test-fast lint format migrations-check bench

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(INSTALLED)

install: $(INSTALLED)

run: install
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py runserver 127.0.0.1:$${PORT:-8000}

# Like `run`, with a small deterministic demo data set loaded once (DEMO_SCALE=0.01 by default;
# demo users' password: demo-password-123, channel `bigchannel`).
demo: install
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py seed_demo --scale $${DEMO_SCALE:-0.01} --if-empty
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py runserver 127.0.0.1:$${PORT:-8000}

test: install
	$(BIN)/lint-imports --no-cache
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} DEBUG=0 \
	SECRET_KEY=$${SECRET_KEY:-$(TEST_SECRET_KEY)} \
	$(BIN)/pytest $(PYTEST_ARGS)

# `make test` without the tests marked slow (the fuzz, subprocesses and servers, races).
test-fast:
	$(MAKE) test PYTEST_ARGS='-m "not slow" $(PYTEST_ARGS)'

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrations-check: install
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run

# The benchmark of docs/benchmark.md: seeds the PostgreSQL database viztube_bench
# (BENCH_DATABASE_URL), serves with gunicorn on CPU 0, loads with wrk on CPU 1, prints the table.
# Options through BENCH_ARGS, e.g. make bench BENCH_ARGS="--quick --endpoints videos_page1".
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)
