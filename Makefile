# Everything a fresh machine needs comes from here: each target builds its own virtualenv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint format bench clean docs deb system-test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m flotod.demo

test: $(STAMP) lint
	$(BIN)/pytest -q -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache

# flotod_<version>_all.deb in dist/, built with Debian's python (needs debhelper, dh-python,
# pybuild-plugin-pyproject, python3-all, python3-setuptools).
deb:
	bash packaging/build-deb.sh dist

# Builds the .deb and drives it on a booted Debian 12 container (root; see tests/system/run.sh).
system-test: $(STAMP)
	bash tests/system/run.sh

# Regenerate what is derived from the code: man pages and bash completion (tests fail when stale).
docs: $(STAMP)
	$(BIN)/python -m flotod.cli.manpage man
	$(BIN)/flotod completion bash > packaging/completion/flotod
