# metas — the two commands are `make run` and `make test`. Everything else is a convenience.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# JSON schemas of the prometheus-operator CRDs, from npm, for the offline validation of deploy/k8s.
CRD_STAMP := tests/deploy/crd/node_modules/.installed
# axe-core from npm, injected by the console's browser tests into every page.
AXE_STAMP := tests/console/node_modules/.installed
# A real OpenID Connect provider (npm oidc-provider), started by the gateway's OIDC sign-in tests.
OIDC_STAMP := tests/gateway/oidc/node_modules/.installed

.PHONY: run test lint typecheck fmt pytest bench mutate clean console-messages execution-messages

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip uv
	$(VENV)/bin/uv pip install -q --python $(PY) -e '.[dev]'
	touch $(STAMP)

## run: install, migrate, start the five processes with SQLite and the seed data, print the gateway URL.
run: $(STAMP)
	$(PY) -m metas_dev.run

## test: install what the suite needs and run all of it (lint, types, tests on PostgreSQL and SQLite).
test: $(STAMP) lint typecheck pytest

$(CRD_STAMP): tests/deploy/crd/package.json
	npm install --prefix tests/deploy/crd --no-audit --no-fund --silent
	touch $(CRD_STAMP)

$(AXE_STAMP): tests/console/package.json
	npm install --prefix tests/console --no-audit --no-fund --no-package-lock --silent
	touch $(AXE_STAMP)

$(OIDC_STAMP): tests/gateway/oidc/package.json
	npm install --prefix tests/gateway/oidc --no-audit --no-fund --no-package-lock --silent
	touch $(OIDC_STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy libs services gateway console

pytest: $(STAMP) $(CRD_STAMP) $(AXE_STAMP) $(OIDC_STAMP)
	$(PY) -m pytest

fmt: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

## mutate: mutation testing of the scoring engine and the pure domain modules (not part of `make test`; docs/testing.md).
MUTATE_JOBS ?= 2
mutate: $(STAMP)
	rm -rf mutants
	nice -n 10 $(PY) scripts/mutate.py run --jobs $(MUTATE_JOBS)

clean:
	rm -rf mutants var $(VENV) .pytest_cache .mypy_cache .ruff_cache

## console-messages: extract the console's messages and merge them into its catalogs (then translate the .po files).
console-messages: $(STAMP)
	$(VENV)/bin/pybabel extract -F console/babel.cfg -k N_ -k ngettext:1,2 --no-location --omit-header --sort-output \
		-o console/src/console/locales/messages.pot console/src/console
	$(VENV)/bin/pybabel update -i console/src/console/locales/messages.pot -d console/src/console/locales \
		--no-fuzzy-matching --ignore-obsolete --ignore-pot-creation-date

## execution-messages: extract the reminder mails' messages and merge them into execution's catalogs (then translate).
execution-messages: $(STAMP)
	$(VENV)/bin/pybabel extract -F services/execution/babel.cfg -k ngettext:1,2 --no-location --omit-header \
		--sort-output -o services/execution/src/execution/locales/messages.pot services/execution/src/execution
	$(VENV)/bin/pybabel update -i services/execution/src/execution/locales/messages.pot \
		-d services/execution/src/execution/locales --no-fuzzy-matching --ignore-obsolete --ignore-pot-creation-date
