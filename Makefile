# The README's commands: `make run`, `make test` and, for the edit loop, `make check`. Both set up .venv first and are idempotent.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PORT ?= 8501

.PHONY: run test check setup setup-dev chromium bench

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(VENV)/bin/pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(VENV)/bin/pip install -q -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed

setup-dev: $(VENV)/.installed-dev

# The browser tests drive Debian's Chromium (Playwright cannot download browsers here).
chromium:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "Installing Debian's chromium for the browser tests…"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 || \
		{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }; \
	else \
		echo "The browser tests need Chromium. Install it once with: sudo apt-get install -y chromium"; exit 1; \
	fi

run: setup
	$(VENV)/bin/streamlit run app.py --server.headless true --server.address localhost --server.port $(PORT)

# The whole suite: the gate CI runs, on three pytest workers (much of it waits on servers, Ray workers and Chromium).
# A file's tests stay on one worker, as they share its server, and the files that start the worker's own Ray run on
# one worker (tests/conftest.py OWN_RAY). Prints its slowest tests, so one that creeps up shows.
test: setup-dev chromium
	$(VENV)/bin/python -m pytest -n 3 --dist loadfile --no-loadscope-reorder -m "not known_bug" --durations=15

# The fast tier for the edit loop (under a minute on 2 cores): tests/unit without the slow ones; no Ray, AppTest or browser.
# Two pytest workers, one per core (at stop 22: 38 s against 52-60 s in one process for the same 435 tests); they
# steal work from each other (--dist worksteal), so neither ends with a queue of slow tests while the other idles. Only
# tests/unit is collected: importing the other folders' modules (AppTest, Ray, Playwright) cost each worker 2.3 s.
check: setup-dev
	$(VENV)/bin/python -m pytest tests/unit -n 2 --dist worksteal -m "not slow" -x -q --durations=10

bench: setup
	$(VENV)/bin/python bench/train_speed.py
