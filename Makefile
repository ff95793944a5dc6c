# smetsim: every target bootstraps .venv on first use, and again when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: sandbox test bench lint venv clean chromium

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -e '.[dev,hil,mqtt]'
	@touch $(STAMP)

venv: $(STAMP)

sandbox: $(STAMP)
	$(BIN)/smetsim sandbox $(ARGS)

# The browser tests drive Debian's Chromium (never a downloaded one); they skip without it.
chromium:
	@command -v chromium >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1 || \
		{ DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null || \
		  echo "make: could not install chromium: the browser tests will be skipped" >&2; }

test: $(STAMP) chromium
	$(BIN)/python -m pytest $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP)
	@set -e; for b in benchmarks/[!_]*.py; do echo "== $$b" >&2; $(BIN)/python $$b; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
