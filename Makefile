# lienthong — the two commands: `make run` (sandbox province) and `make test` (lint, then the whole suite).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint bench system-deps venv schemas check-routes messages clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP)

# Debian packages the hub runs on: a private redis-server, and for the tests PostgreSQL, nginx (the
# reverse proxy of the forwarded-address tests, started privately by them) and chromium (the console's
# browser tests; Playwright drives Debian's build, never a download of its own) with DejaVu fonts.
system-deps:
	@missing=""; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	{ command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx; } || missing="$$missing nginx"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	test -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf || missing="$$missing fonts-dejavu-core"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	  $$SUDO systemctl disable --now redis-server postgresql nginx >/dev/null 2>&1 || true; \
	fi

run: system-deps venv
	$(VENV)/bin/lienthong sandbox

# Three pytest processes (pytest-xdist): each starts its own Redis, PostgreSQL and Chromium, and every
# test has its own database, so they do not meet. On 2 cores a third process fills the time the others
# spend waiting on workers, simulators and browsers; TEST_WORKERS=0 runs serially.
TEST_WORKERS ?= 3

test: lint system-deps venv
	$(VENV)/bin/pytest -q -n $(TEST_WORKERS)

# The house rules (docs/CONTRIBUTING.md): ruff (style, import order, likely bugs), mypy --strict on
# hub/ and connectors/ (paths and flags in pyproject.toml), and the layers' import contracts
# ([tool.importlinter]: surfaces -> domain -> base; connectors through the seam).
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

bench: system-deps venv
	@command -v wrk >/dev/null 2>&1 || { if [ "$$(id -u)" = 0 ]; then apt-get install -y -qq wrk >/dev/null; else sudo apt-get install -y -qq wrk >/dev/null; fi; }
	$(PY) -m bench.run
	$(PY) -m bench.catalogue_sync

schemas: venv
	$(VENV)/bin/lienthong schemas export

# The console's catalogues in step with its sources (docs/CONSOLE.md): new ids added untranslated, unused ones dropped.
messages: venv
	$(PY) -m hub.console.messages

check-routes: venv
	$(VENV)/bin/lienthong routes check

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
