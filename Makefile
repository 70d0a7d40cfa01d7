# Beacon: `make run` serves the demo on http://127.0.0.1:8000; `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEV_STAMP := $(VENV)/.dev-installed-stamp
ASSETS := beacon/static/vendor/.assets-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
FUZZ_EXAMPLES ?= 60

.PHONY: install install-dev lock assets run worker test lint typecheck security migrations-check pytest bench load crash fuzz audit-deps backup drill clean

# requirements.lock pins what Beacon runs on; requirements-dev.lock pins that plus the
# test and analysis tools. Both are regenerated from pyproject.toml by `make lock`.
install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

install-dev: $(DEV_STAMP)

$(DEV_STAMP): $(STAMP) requirements-dev.lock
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	touch $@

lock:
	rm -rf var/lock-venv && $(PYTHON) -m venv var/lock-venv
	var/lock-venv/bin/pip install --quiet --upgrade "pip>=24"
	var/lock-venv/bin/pip install --quiet -e .
	var/lock-venv/bin/pip freeze --exclude-editable > requirements.lock
	var/lock-venv/bin/pip install --quiet -e '.[dev]'
	var/lock-venv/bin/pip freeze --exclude-editable > requirements-dev.lock
	rm -rf var/lock-venv

assets: $(ASSETS)

# Front-end libraries come from the npm registry at the versions in package-lock.json
# and are copied into Beacon's static files; nothing is loaded from a CDN at run time.
$(ASSETS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	rm -rf beacon/static/vendor && mkdir -p beacon/static/vendor/{htmx,leaflet,leaflet.markercluster,leaflet-draw}
	cp node_modules/htmx.org/dist/htmx.min.js beacon/static/vendor/htmx/
	cp -r node_modules/leaflet/dist/. beacon/static/vendor/leaflet/
	cp -r node_modules/leaflet.markercluster/dist/. beacon/static/vendor/leaflet.markercluster/
	cp -r node_modules/leaflet-draw/dist/. beacon/static/vendor/leaflet-draw/
	touch $@

run: install assets
	mkdir -p var
	$(BIN)/beacon migrate --no-input -v0
	$(BIN)/beacon demo
	@echo "Beacon on http://$(HOST):$(PORT)/  (worker and alert delivery in the background; Ctrl-C stops all)"
	@$(BIN)/beacon worker --interval 1 & WORKER=$$!; \
	  $(BIN)/beacon deliver-outbox & OUTBOX=$$!; \
	  trap 'kill $$WORKER $$OUTBOX 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/beacon runserver --noreload $(HOST):$(PORT)

worker: install
	$(BIN)/beacon worker & WORKER=$$!; \
	  trap 'kill $$WORKER 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/beacon deliver-outbox

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install-dev
	BEACON_ENV=test $(BIN)/mypy beacon

# Static security analysis; any high-severity finding fails the build.
security: install-dev
	$(BIN)/bandit -q -r beacon -x "*/tests/*,*/migrations/*" -lll

# Known vulnerabilities in every pinned package, from PyPI's advisory data
# (https://pypi.org/pypi/NAME/VERSION/json); --strict fails if any package could not be
# checked, so an unreachable advisory service is a failure, never a silent pass.
audit-deps: install-dev
	$(BIN)/pip-audit --strict --no-deps --disable-pip --progress-spinner off -r requirements-dev.lock

migrations-check: install-dev
	mkdir -p var
	BEACON_ENV=test $(BIN)/beacon makemigrations --check --dry-run

# pytest's exit code 5 ("no tests collected") is not a failure of the checks.
pytest: install-dev assets
	BEACON_ENV=test $(BIN)/pytest $(PYTEST_ARGS); status=$$?; \
	  if [ $$status -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$status

test: lint typecheck security migrations-check pytest

# The API fuzzing of `make test` (a few examples per operation) with many more examples
# per operation, sent as every role: FUZZ_EXAMPLES=200 make fuzz for a longer run.
fuzz: install-dev
	BEACON_ENV=test BEACON_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest \
	  beacon/security/tests/test_api_fuzz.py $(PYTEST_ARGS)

bench: install-dev
	for script in bench/bench_*.py; do $(BIN)/python $$script || exit 1; done

# Long-running, so not part of `make test`. Both start a private PostgreSQL cluster under
# var/ (never the shared server) and send traffic to 127.0.0.1 only; see bench/load.py and
# bench/crash.py. LOAD_ARGS / CRASH_ARGS pass options, e.g. LOAD_ARGS="--duration 120".
LOAD_ARGS ?=
CRASH_ARGS ?=
load: install-dev
	$(BIN)/python bench/load.py $(LOAD_ARGS)

crash: install-dev
	$(BIN)/python bench/crash.py $(CRASH_ARGS)

# A consistent backup of the database and uploaded media, with a checksummed manifest:
# var/backups/beacon-<UTC time>/ (BACKUP=folder to choose). `beacon restore FOLDER`
# puts one back (see the README).
BACKUP ?=
backup: install
	$(BIN)/beacon backup $(if $(BACKUP),--out $(BACKUP))

# The restore drill on the real database: back it up, restore into a fresh database
# (DRILL_DATABASE_URL, an empty one of the same kind; by default a new SQLite file) and
# media folder, and compare every table's row count and checksum with the backup's.
DRILL := var/drill
DRILL_DATABASE_URL ?= sqlite:///$(CURDIR)/$(DRILL)/restored.sqlite3
drill: install
	rm -rf $(DRILL) && mkdir -p $(DRILL)
	$(BIN)/beacon backup --out $(DRILL)/backup
	BEACON_MEDIA_ROOT=$(CURDIR)/$(DRILL)/media $(BIN)/beacon restore $(DRILL)/backup \
	  --database-url $(DRILL_DATABASE_URL)

clean:
	rm -rf $(VENV) node_modules beacon/static/vendor var/static
