# Two commands for a newcomer: `make run` and `make test`. Everything else is optional.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PACKAGES := shared services/contacts services/feedback services/scoring services/notifications deploy/devstack deploy/console tools/crmctl
PYPROJECTS := $(addsuffix /pyproject.toml,$(PACKAGES))
# The services are the packages under services/ (each declares itself: its manifest.py).
SERVICE_DIRS := $(filter services/%,$(PACKAGES))

.PHONY: install console run test test-unit bench bench-guard token seed lint schemas lock clean

install: $(STAMP) console

$(STAMP): constraints.txt requirements-dev.txt $(PYPROJECTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	PIP_CONSTRAINT=$(CURDIR)/constraints.txt $(BIN)/python -m pip install --quiet \
		$(addprefix -e ,$(PACKAGES)) -r requirements-dev.txt
	touch $(STAMP)

## The web console (console/): `npm ci` when its lock file changed, `npm run build` when its sources did.
console: $(STAMP)
	$(BIN)/python -m crm_devstack.console

## Start PostgreSQL, the broker, migrations, topics and all eight processes; Ctrl-C stops all.
run: install
	$(BIN)/python -m crm_devstack run

## The whole suite: unit, integration (real PostgreSQL + broker) and end-to-end.
test: install
	$(BIN)/python -m pytest

test-unit: install
	$(BIN)/python -m pytest -m "not integration and not e2e"

## Complaint -> task latency, a 100k-row bulk import, scoring throughput and rescoring, the daily run (each starts its own stack).
bench: install
	$(BIN)/python -m tests.bench.complaint_loop
	$(BIN)/python -m tests.bench.imports
	$(BIN)/python -m tests.bench.scoring
	$(BIN)/python -m tests.bench.daily_run
	$(BIN)/python -m tests.bench.campaigns

## CI's CPU regression guard: a short complaint-path run on Apache Kafka and the floor; fails when CPU
## per complaint, as a ratio to the floor's, is more than 30% above tests/bench/guard-baseline.json.
bench-guard: install
	$(BIN)/python -m tests.bench.guard

## Print a dev bearer token with every scope (last line of output).
token: install
	@$(BIN)/crmctl token

## Demo data (30 customers, contracts, orders, feedback) through the apis of a running `make run`; idempotent.
seed: install
	$(BIN)/crmctl seed

## Style, architecture contracts (every importlinter.ini) and types; CONTRIBUTING.md, "Layering and contracts".
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache importlinter.ini
	$(BIN)/lint-imports --no-cache shared/importlinter.ini
	status=0; for config in services/*/importlinter.ini; do \
		$(BIN)/lint-imports --no-cache $$config || status=1; done; exit $$status
	$(BIN)/mypy shared/src/crm_shared
	$(BIN)/mypy tools/crmctl/src/crmctl
	$(BIN)/mypy deploy/console/src/crm_console
	status=0; for dir in $(SERVICE_DIRS); do \
		$(BIN)/mypy $$dir/src/$$(basename $$dir) || status=1; done; exit $$status

## Re-export the event contracts as JSON Schema (shared/src/crm_shared/contracts/schemas).
schemas: install
	$(BIN)/python -m crm_shared.contracts.export

lock: install
	(echo "# Pinned versions of every third-party package (make install uses them as pip constraints)."; \
	 echo "# Regenerate with: make lock (after changing a dependency)."; \
	 $(BIN)/python -m pip freeze --exclude-editable | grep -v "^-e") > constraints.txt

clean:
	rm -rf $(VENV) .data .pytest_cache
