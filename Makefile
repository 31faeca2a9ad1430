# Developer entry points; `make` alone lists them.
#
# Everything runs from the repository root with the virtualenv in .venv (the project itself is not
# pip-installed). PostgreSQL and Redis come from devtools/devenv.py: embedded servers with their data
# in .data/, unless DATABASE_URL / REDIS_URL are set.

.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
RUFF := $(VENV)/bin/ruff
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

# Creates $(VENV) with scripts/find-python's interpreter, unless it exists with a Python >= 3.12.
ENSURE_VENV = $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null || { \
	python=$$(scripts/find-python) && echo "Creating $(VENV) with $$python" && \
	rm -rf $(VENV) && "$$python" -m venv $(VENV); }

# A venv with a missing or too old Python must be rebuilt even if its stamp is newer than the lock.
ifneq ($(shell $(PY) -c 'import sys; print(sys.version_info >= (3, 12))' 2>/dev/null),True)
.PHONY: $(STAMP)
endif

.PHONY: help run serve test test-fast lint format lock clean-data

help: ## list the targets
	@echo "Targets (PYTEST_ARGS='...' passes arguments to pytest):"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{ printf "  make %-11s %s\n", $$1, $$2 }'

run: $(STAMP) ## migrate, seed demo data, run the portal with a Celery worker and beat
	$(PY) -m devtools.devenv run-portal

serve: $(STAMP) ## the production stack locally: gunicorn (deploy/Procfile), a worker per queue and beat, production settings on HTTP
	$(PY) -m devtools.devenv serve

test: $(STAMP) ## run the test suite (PYTEST_ARGS='-x -k name' to narrow it down)
	$(PY) -m devtools.devenv exec -- $(PY) -m pytest $(PYTEST_ARGS)

test-fast: $(STAMP) ## the suite without browser and real-worker tests, for the edit loop
	$(PY) -m devtools.devenv exec -- $(PY) -m pytest -m "not browser and not integration" $(PYTEST_ARGS)

lint: $(STAMP) ## check lint and formatting with ruff, and the import layers with import-linter
	$(RUFF) check . && $(RUFF) format --check . && $(VENV)/bin/lint-imports

format: $(STAMP) ## format the code and apply ruff's automatic fixes
	$(RUFF) format .
	$(RUFF) check --fix .

lock: ## re-pin requirements.lock from pyproject.toml
	@$(ENSURE_VENV)
	@$(VENV)/bin/pip-compile --version >/dev/null 2>&1 || $(PIP) install pip-tools
	$(VENV)/bin/pip-compile --extra dev --strip-extras --no-emit-index-url --no-emit-find-links --allow-unsafe \
		-o requirements.lock pyproject.toml

clean-data: ## delete .data/ (embedded PostgreSQL and Redis data, beat schedule)
	@echo "Removing .data/: the embedded PostgreSQL and Redis start empty next time."
	rm -rf .data

$(STAMP): requirements.lock
	@$(ENSURE_VENV)
	$(PIP) install -r requirements.lock
	@touch $@
