# Two commands do everything on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_FLAGS ?=  # e.g. --drawn (a survey in seconds, no training) or --budget full
DEMO_ENV := DEBUG=1 DATABASE_URL=$${DEMO_DATABASE_URL:-sqlite:///var/demo.sqlite3} CELERY_BROKER_URL= MEDIA_ROOT=$${DEMO_MEDIA_ROOT:-var/demo-media}

.PHONY: venv chromium fonts test test-sqlite lint format demo bench clean

# pip shows its own progress: a bar with the time left for each download, then one counting the
# packages as it installs them (pip 25.1 and later, which the first step brings).
$(BIN)/.installed: requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	@echo "install: the pinned Python packages into $(VENV) (first run only; torch is the largest download)"
	@SECONDS=0 && { test -x $(PY) || $(PYTHON) -m venv $(VENV); } \
	  && $(PY) -m pip install --quiet --upgrade pip \
	  && $(PY) -m pip install --progress-bar on -r requirements-dev.txt \
	  && echo "install: done in $$((SECONDS / 60)) min $$((SECONDS % 60)) s"
	@touch $@

venv: $(BIN)/.installed

chromium:
	@command -v chromium >/dev/null || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

fonts:
	@test -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf || { \
	  echo "Installing Debian's Noto Color Emoji for the synthetic dataset's pictures"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-color-emoji >/dev/null; }

test: venv chromium fonts
	@mkdir -p var/static
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/pytest -n 2 --dist loadfile

test-sqlite: venv
	DATABASE_URL= CELERY_BROKER_URL= $(BIN)/pytest -n 2 --dist loadfile -m "not postgres and not redis"

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

demo: venv fonts
	@mkdir -p var/static
	$(DEMO_ENV) $(PY) manage.py migrate --no-input -v 0
	$(DEMO_ENV) $(PY) manage.py demo_setup --host $(HOST) --port $(PORT) $(DEMO_FLAGS)
	$(DEMO_ENV) $(PY) manage.py runserver $(HOST):$(PORT)

bench: venv
	$(PY) bench/run.py

clean:
	rm -rf var/demo.sqlite3 var/demo-media var/demo-work var/static
