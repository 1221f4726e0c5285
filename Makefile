# The project's entry points: `make run` serves the demo, `make test` runs every test.
# GNU make. Everything runs from the project's own virtualenv in .venv/.

SHELL       := /bin/bash
PYTHON      ?= python3
VENV        := .venv
PY          := $(VENV)/bin/python
HOST        ?= 127.0.0.1
PORT        ?= 8000
WORKERS     ?= 2
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help venv venv-dev translations run browsers wrk test bench clean

help:
	@echo "make run      serve the demo bureau on http://$(HOST):$(PORT)/ (SQLite in instance/)"
	@echo "make test     run every test (TEST_DATABASE_URL=postgresql://... for PostgreSQL;"
	@echo "              PYTEST_ARGS='-k login -x' to pass options to pytest)"
	@echo "make bench    run every bench/NAME.py as python -m bench.NAME (installs wrk if missing)"
	@echo "make clean    remove the install stamps and instance/ (database, secret key, files)"

# --- virtualenv: pip runs only when a requirements file is newer than its stamp ---------------
$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-run: requirements.txt | $(PY)
	$(PY) -m pip install -q -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt | $(PY)
	$(PY) -m pip install -q -r requirements-dev.txt
	@touch $@

venv: $(VENV)/.installed-run
venv-dev: $(VENV)/.installed-dev

# --- translations: compile the .po catalogues (a tree without any is fine) ---------------------
translations: venv
	@if compgen -G 'translations/*/LC_MESSAGES/*.po' >/dev/null; then \
		$(VENV)/bin/pybabel -q compile -d translations; \
	else \
		echo "no translation catalogues in translations/: skipped"; \
	fi

# --- run: the demo on an embedded database ----------------------------------------------------
run: export INSPECTION_DEMO_MODE := 1
run: venv translations
	$(VENV)/bin/flask --app app init-db
	$(VENV)/bin/flask --app app seed-demo
	@echo
	@echo "  Labour inspection demo: http://$(HOST):$(PORT)/"
	@$(PY) -c 'from inspection.demo import PARTNER, USERS; from inspection.core.passwords import DEMO_PASSWORD; \
		print("  accounts: " + ", ".join([u[0] for u in USERS] + [PARTNER])); \
		print("  password: " + DEMO_PASSWORD)'
	@echo
	@# The job queue's worker (docs/jobs.md) runs next to gunicorn and stops with it.
	$(VENV)/bin/flask --app app jobs worker & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(VENV)/bin/gunicorn -w $(WORKERS) -b $(HOST):$(PORT) app:app

# --- browsers: Debian chromium, CJK fonts, poppler and zbar (QR codes) for the browser and PDF tests
browsers:
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	if ! { command -v fc-list >/dev/null && fc-list :lang=zh family | grep -qi 'Noto Sans CJK'; }; then \
		missing="$$missing fonts-noto-cjk"; fi; \
	for tool in pdftotext pdffonts pdftoppm; do \
		command -v $$tool >/dev/null || { missing="$$missing poppler-utils"; break; }; done; \
	command -v zbarimg >/dev/null || missing="$$missing zbar-tools"; \
	if [ -n "$$missing" ]; then \
		sudo=""; [ "$$(id -u)" = 0 ] || sudo="sudo"; \
		echo "installing:$$missing"; \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q$$missing; \
	fi
# axe-core, the engine of Lighthouse's accessibility audits (tests/browser/test_portal_accessibility.py)
	@[ -f $(VENV)/node/node_modules/axe-core/axe.min.js ] || \
		npm install --prefix $(VENV)/node --no-audit --no-fund axe-core@4.14.1

# --- wrk: Debian's HTTP load generator, which bench/api.py drives ------------------------------
wrk:
	@if ! command -v wrk >/dev/null; then \
		sudo=""; [ "$$(id -u)" = 0 ] || sudo="sudo"; \
		echo "installing: wrk"; \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk; \
	fi

# --- test: every test, browser tests included --------------------------------------------------
# The tests outside tests/browser run on TEST_WORKERS processes (pytest-xdist, a whole file per
# worker so that each module builds its data once); the browser tests after them, one at a time
# (each drives a Chromium of its own). Both run even when the first fails. PYTEST_ARGS runs
# pytest once with those options instead. BROWSER_TESTS=0 leaves the browser tests out: their
# server always runs on its own SQLite file (tests/browser/conftest.py), so a second run with
# TEST_DATABASE_URL set repeats the first (CI's PostgreSQL pass).
TEST_WORKERS ?= $(shell nproc 2>/dev/null || echo 2)
BROWSER_TESTS ?= 1
test: venv-dev translations browsers
ifeq ($(strip $(PYTEST_ARGS)),)
	@status=0; \
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --ignore=tests/browser || status=1; \
	if [ "$(BROWSER_TESTS)" != 0 ]; then $(PY) -m pytest tests/browser || status=1; \
	else echo "browser tests left out (BROWSER_TESTS=0)"; fi; \
	exit $$status
else
	$(PY) -m pytest $(PYTEST_ARGS)
endif

# --- bench: each bench/NAME.py as a module; none is fine --------------------------------------
bench: venv-dev translations wrk
	@set -e; shopt -s nullglob; ran=0; \
	for file in bench/*.py; do \
		name=$$(basename "$$file" .py); \
		case "$$name" in _*) continue;; esac; \
		echo "== bench.$$name"; \
		$(PY) -m bench.$$name; \
		ran=$$((ran + 1)); \
	done; \
	echo "$$ran benchmark(s) run"

clean:
	rm -f $(VENV)/.installed-run $(VENV)/.installed-dev
	rm -rf instance/
