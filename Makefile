# Two commands: `make demo` and `make test` each set a fresh machine up by themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest browser chromium bench clean postgres

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m proxy demo

test: $(STAMP) postgres redis lint typecheck pytest browser

lint: $(STAMP)
	$(BIN)/ruff check proxy tests bench

typecheck: $(STAMP)
	$(BIN)/mypy proxy

pytest: $(STAMP)
	$(BIN)/pytest -q

# The browser suite drives Debian's Chromium (no browser downloads here) and runs on its
# own: Playwright's sync API does not mix with pytest-asyncio in one process.
browser: $(STAMP) chromium
	$(BIN)/pytest -q tests/browser -p no:aiohttp -p no:asyncio \
	  -W ignore::pytest.PytestConfigWarning

chromium:
	@test -x /usr/bin/chromium || \
	  (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)

postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 || \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start

redis:
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || \
	  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
	  --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log

bench: $(STAMP)
	for script in bench/*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis test-results
