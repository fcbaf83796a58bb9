# Story Archive. `make run` serves the archive with demo stories; `make test` runs the whole suite.
# Debian's own Python where there is one (3.11 or newer, with its venv module): the deployment's `python3 -m venv`
# (README, Production) uses it, and it is built with profile-guided and link-time optimisation, which a Python built
# by pyenv is not (a story page took about 15% less CPU on it here; bench/reading-notes.md). Elsewhere, the first
# python3 on the PATH.
SYSTEM_PYTHON_FITS = $(shell /usr/bin/python3 -c 'import sys, ensurepip; print(sys.version_info >= (3, 11))' 2>/dev/null)
PYTHON ?= $(if $(filter True,$(SYSTEM_PYTHON_FITS)),/usr/bin/python3,python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/test
ELASTICSEARCH_TEST_URL ?= http://127.0.0.1:9200
ELASTICSEARCH_CLUSTER_URLS ?= http://127.0.0.1:9201,http://127.0.0.1:9202,http://127.0.0.1:9203

.PHONY: install run test test-postgres test-elasticsearch drill services elasticsearch elasticsearch-cluster lint format bench \
	check clean

$(BIN)/.installed: requirements.txt requirements-dev.txt requirements-nodeps.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-nodeps.txt
	touch $@

install: $(BIN)/.installed

run: install
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo
	PORT=$(PORT) $(BIN)/python manage.py run_archive

test: install
	$(BIN)/pytest

services:
	scripts/services postgres
	scripts/services redis
	scripts/services nginx

elasticsearch:
	scripts/services elasticsearch

elasticsearch-cluster:
	scripts/services elasticsearch-cluster

test-postgres: install
	DATABASE_URL=$(POSTGRES_URL) $(BIN)/pytest

# The Elasticsearch half of the search and property tests, against the node `make elasticsearch` starts.
test-elasticsearch: install
	ELASTICSEARCH_URL=$(ELASTICSEARCH_TEST_URL) $(BIN)/pytest tests/search tests/insights tests/properties -m elasticsearch

# The failure drill: starts the three-node cluster, kills one node under searches, and stops the cluster again.
drill: install
	scripts/services elasticsearch-cluster
	ELASTICSEARCH_CLUSTER_URLS=$(ELASTICSEARCH_CLUSTER_URLS) $(BIN)/pytest tests/search -m drill; \
		status=$$?; scripts/services stop-elasticsearch-cluster; exit $$status

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check: install
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run

bench: install
	command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk) \
		|| echo "wrk could not be installed: the pages benchmark will say so"
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var db.sqlite3
