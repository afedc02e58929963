# TMW Channel Desk — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run serve test lint format typecheck lock migrate seed worker beat clean bench screenshots

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is required (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Exact versions with hashes from the lock files (make lock refreshes them from pyproject.toml).
$(VENV)/.installed: requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

$(VENV)/.installed-test: requirements-test.lock pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-test.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

## run: create .venv, install, migrate, load demo data and serve http://127.0.0.1:8000
run: $(VENV)/.installed
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py seed_demo
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py runserver $(HOST):$(PORT)

## serve: the production set on this machine: DEBUG off, migrate, collectstatic, a Celery worker and beat in the
## background, gunicorn (2 workers) on http://127.0.0.1:8000. Needs DATABASE_URL and REDIS_URL; the generated
## SECRET_KEY is kept in .venv/secret_key. Plain http on loopback: the HTTPS switches are off unless set.
SECRET_KEY_FILE := $(VENV)/secret_key
serve: $(VENV)/.installed
	@if [ -z "$$DATABASE_URL" ] || [ -z "$$REDIS_URL" ]; then \
		echo "make serve runs as production does and needs PostgreSQL and Redis: set DATABASE_URL and REDIS_URL, e.g."; \
		echo "  export DATABASE_URL=postgres://postgres@127.0.0.1:5432/tmw REDIS_URL=redis://127.0.0.1:6379/0"; \
		echo "(make run needs neither)"; exit 2; fi
	@[ -s $(SECRET_KEY_FILE) ] || (umask 077 && $(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))' > $(SECRET_KEY_FILE))
	@set -e; \
	export DEBUG=False SECRET_KEY="$$(cat $(SECRET_KEY_FILE))" ALLOWED_HOSTS="$${ALLOWED_HOSTS:-$(HOST),localhost}" \
		SITE_URL="$${SITE_URL:-http://$(HOST):$(PORT)}" SECURE_SSL_REDIRECT="$${SECURE_SSL_REDIRECT:-False}" \
		SESSION_COOKIE_SECURE="$${SESSION_COOKIE_SECURE:-False}" CSRF_COOKIE_SECURE="$${CSRF_COOKIE_SECURE:-False}"; \
	$(BIN)/python manage.py migrate --noinput; \
	$(BIN)/python manage.py collectstatic --noinput; \
	$(BIN)/celery -A tmw worker --loglevel=info --concurrency=2 & worker=$$!; \
	$(BIN)/celery -A tmw beat --loglevel=info --schedule $(VENV)/celerybeat-schedule & beat=$$!; \
	trap 'kill $$worker $$beat 2>/dev/null; wait' EXIT INT TERM; \
	$(BIN)/gunicorn tmw.wsgi:application --bind $(HOST):$(PORT) --workers 2 --access-logfile -

## test: install what the tests need and run the whole suite, on PYTEST_WORKERS parallel workers (pytest-xdist)
PYTEST_WORKERS ?= 2
test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

## screenshots: a full-page screenshot of every page per role at 390 px and 1366 px in screenshots/<role>/<width>/
SCREENSHOTS_DIR ?= screenshots
screenshots: $(VENV)/.installed-test
	rm -rf $(SCREENSHOTS_DIR)
	SCREENSHOTS_DIR=$(abspath $(SCREENSHOTS_DIR)) $(BIN)/python -m pytest -q -p no:xdist -m browser \
		tests/browser/test_layout.py -k "every_page or menu" || true
	@echo "Screenshots in $(SCREENSHOTS_DIR)/: $$(find $(SCREENSHOTS_DIR) -name '*.png' | wc -l) pages"

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

format: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## typecheck: mypy with django-stubs and djangorestframework-stubs (strict on services and selectors)
typecheck: $(VENV)/.installed-test
	$(BIN)/mypy .

## lock: re-resolve requirements.lock and requirements-test.lock (exact versions, hashes) from pyproject.toml
PIP_TOOLS := pip-tools==7.6.2
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet $(PIP_TOOLS)
	$(BIN)/pip-compile --quiet --upgrade --generate-hashes --strip-extras --no-emit-index-url --no-emit-find-links \
		--output-file requirements.lock pyproject.toml
	$(BIN)/pip-compile --quiet --upgrade --generate-hashes --strip-extras --no-emit-index-url --no-emit-find-links \
		--extra test --output-file requirements-test.lock pyproject.toml

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
