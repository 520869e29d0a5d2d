# Two commands: `make demo` and `make test` each set a fresh machine up by themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest browser-tests chromium bench clean postgres

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m proxy demo

test: $(STAMP) postgres lint typecheck pytest browser-tests

lint: $(STAMP)
	$(BIN)/ruff check proxy tests bench

typecheck: $(STAMP)
	$(BIN)/mypy proxy

pytest: $(STAMP)
	$(BIN)/pytest -q

# Playwright's sync API does not mix with pytest-asyncio: the browser suite is its own run
# (tests/conftest.py leaves tests/browser out of any run that has pytest-asyncio loaded).
browser-tests: $(STAMP) chromium
	$(BIN)/pytest -q tests/browser -p no:asyncio -p no:aiohttp -W ignore::pytest.PytestConfigWarning

chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }

postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 || \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start

bench: $(STAMP)
	for script in bench/*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
