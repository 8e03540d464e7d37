# carehub: `make demo` and `make test` set up everything on a machine with Python 3.11+, make and
# Node/npm. uv is used from PATH, or installed into .tools/ on first use.
export UV_PYTHON_DOWNLOADS := never
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
RUN := $(UV) run --frozen
STAMPS := .stamps
ASSETS := src/carehub/web/static/npm/nhsuk-frontend.min.css src/carehub/web/static/npm/htmx.min.js

.PHONY: help env assets demo test test-fast lint format docs docs-check bench clean

help:
	@echo "make demo   set up a demo workspace from the synthetic ICS and serve it"
	@echo "make test   run the test suite (PostgreSQL and browser suites run when available)"
	@echo "make lint | make format | make docs | make bench | make clean"

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

$(STAMPS)/env: pyproject.toml uv.lock | $(UV)
	@mkdir -p $(STAMPS)
	$(UV) sync --frozen
	@touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

$(ASSETS) &: node_modules/.package-lock.json tools/build_assets.py $(STAMPS)/env
	$(RUN) python tools/build_assets.py

env: $(STAMPS)/env
assets: $(ASSETS)

demo: env assets
	$(RUN) carehub demo --home demo-home --host $${CAREHUB_DEMO_HOST:-127.0.0.1} --port $${CAREHUB_DEMO_PORT:-8000}

test: env assets
	$(RUN) pytest -n 2 --dist loadfile $(PYTEST_ARGS)

test-fast: env assets
	$(RUN) pytest -m "not browser and not slow" -q $(PYTEST_ARGS)

lint: env
	$(RUN) ruff format --check src tests tools bench
	$(RUN) ruff check src tests tools bench
	$(RUN) mypy

format: env
	$(RUN) ruff format src tests tools bench
	$(RUN) ruff check --fix src tests tools bench

docs: env
	$(RUN) python tools/gen_docs.py

docs-check: env
	$(RUN) python tools/gen_docs.py --check

bench: env
	$(UV) sync --frozen --group bench
	$(RUN) python bench/run.py
	$(RUN) python bench/synth.py --scales small,full --years 3
	$(RUN) --group bench python bench/ingest.py --rows $${CAREHUB_BENCH_ROWS:-10000000}

clean:
	rm -rf .venv .tools node_modules src/carehub/web/static/npm $(STAMPS) demo-home
