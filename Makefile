# The front door. `make run` serves the site with demo content; `make test` runs the suite.
# Both set up everything they need: the virtualenv, the packages, the database.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
PYTEST_ARGS ?=

# Development and test defaults; production sets its own environment (see .env.example).
DEV_ENV := DEBUG=1
TEST_ENV := SECRET_KEY=$${SECRET_KEY:-test-only-secret-key-not-for-production-4a7c1e9b2f} HTTPS=0 \
	SITE_URL=$${SITE_URL:-http://127.0.0.1:8000}

.PHONY: install setup run test lint format bench loadtest clean-db

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is required" if sys.version_info < (3, 11) else 0)'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e ".[dev]"
	@touch $@

install: $(VENV)/.installed

setup: install
	$(DEV_ENV) $(PY) manage.py migrate --noinput
	$(DEV_ENV) $(PY) manage.py createcachetable
	$(DEV_ENV) $(PY) manage.py load_demo

# The mail queue's worker runs beside the server and stops with it (Ctrl-C or any exit).
run: setup
	@$(DEV_ENV) $(PY) manage.py runmailer_pg & mailer=$$!; \
	trap 'kill $$mailer 2>/dev/null' EXIT INT TERM; \
	$(DEV_ENV) $(PY) manage.py runserver 127.0.0.1:$(PORT)

test: install
	$(TEST_ENV) $(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install
	EMBEDDED_DB_NAME=casepilot_bench $(TEST_ENV) $(PY) -m bench $(BENCH)

# Production settings on a throwaway Postgres under /tmp, traffic to 127.0.0.1 only (bench/loadtest.py).
loadtest: install
	$(TEST_ENV) $(PY) -m bench.loadtest

clean-db:
	rm -rf .data/postgres
