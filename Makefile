# TMW Channel Desk — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format typecheck migrate seed worker beat clean bench

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is required (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $@

## run: create .venv, install, migrate, load demo data and serve http://127.0.0.1:8000
run: $(VENV)/.installed
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py seed_demo
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py runserver $(HOST):$(PORT)

## test: install what the tests need and run the whole suite
test: $(VENV)/.installed-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

format: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## typecheck: mypy with django-stubs and djangorestframework-stubs (strict on services and selectors)
typecheck: $(VENV)/.installed-test
	$(BIN)/mypy .

migrate: $(VENV)/.installed
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py migrate --noinput

seed: migrate
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py seed_demo

## worker / beat: run Celery against REDIS_URL
worker: $(VENV)/.installed
	DEBUG=$${DEBUG:-1} $(BIN)/celery -A tmw worker --loglevel=info --concurrency=2

beat: $(VENV)/.installed
	DEBUG=$${DEBUG:-1} $(BIN)/celery -A tmw beat --loglevel=info

bench: $(VENV)/.installed-test
	@for f in bench/*.py; do echo "== $$f"; DEBUG=1 $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) staticfiles *.egg-info
