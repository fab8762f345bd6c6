# DSI Finance: `make run` starts the app, `make test` runs the whole suite.
# Both set up what they need first (virtual environment, Python and npm packages).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
UV_VERSION := 0.13.8
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test setup setup-dev assets migrate lint format messages lock bench clean help

help:
	@echo "make run    - install, migrate, load the demo data if the database is empty, start web + worker + beat"
	@echo "make test   - install and run the whole test suite (pytest)"
	@echo "make lint   - ruff check and format check"
	@echo "make lock   - re-pin requirements/*.lock from pyproject.toml"
	@echo "make bench  - run the benchmarks (see benchmarks/README.md; BENCH_ARGS=\"--scale 0.01 procurement\")"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Markers record that a lock file was installed; a newer lock reinstalls.
$(VENV)/.installed-base: requirements/base.lock | $(PY)
	$(BIN)/uv pip sync --quiet --python $(PY) requirements/base.lock
	rm -f $(VENV)/.installed-dev
	touch $@

$(VENV)/.installed-dev: requirements/dev.lock | $(PY)
	$(BIN)/uv pip sync --quiet --python $(PY) requirements/dev.lock
	touch $(VENV)/.installed-base $@

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

static/vendor/.copied: node_modules/.package-lock.json scripts/vendor_assets.mjs
	node scripts/vendor_assets.mjs
	touch $@

assets: static/vendor/.copied

setup: $(VENV)/.installed-dev assets

migrate: setup
	DEBUG=1 $(PY) manage.py migrate --noinput

# The development server with DEBUG on, a Celery worker and beat on the
# embedded filesystem broker (or CELERY_BROKER_URL when set), in one terminal.
run: migrate
	DEBUG=1 $(PY) manage.py seed_demo --if-empty
	@echo "DSI Finance on http://$(HOST):$(PORT)/ (demo users: chef, acheteur, comptable, directeur, controleur; see README for the password)"
	PATH="$(CURDIR)/$(BIN):$$PATH" DEBUG=1 HOST=$(HOST) PORT=$(PORT) $(BIN)/honcho start -f Procfile.dev

# One pytest worker per core (pytest-xdist; each has its own test database). `load`
# hands tests out in collection order, so each worker keeps pytest-django's order
# (transactional tests, which empty the database, after the others); `loadscope`
# would run a module with transactional tests before another module's plain ones.
TEST_WORKERS ?= auto

test: setup
	$(BIN)/pytest -n $(TEST_WORKERS) --dist load $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Updates the French catalogue from the source strings (needs GNU gettext).
# The compiled .mo is committed, so that running the app needs no gettext.
messages: setup
	DEBUG=1 $(PY) manage.py makemessages -l fr --ignore=.venv --ignore=node_modules --ignore=var --no-obsolete
	DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv --ignore=node_modules

lock: | $(PY)
	$(BIN)/uv pip compile --quiet pyproject.toml --python-version 3.11 --generate-hashes -o requirements/base.lock
	$(BIN)/uv pip compile --quiet pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements/dev.lock

bench: setup
	$(PY) benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules static/vendor .pytest_cache .ruff_cache
