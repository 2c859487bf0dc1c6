# Circle: the two Quick start commands are `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint install messages

# The virtual environment is rebuilt whenever a requirements file changes.
$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(BIN)/.installed

# Installs, migrates, seeds the demo clinic and serves on http://127.0.0.1:8000
run: install
	DEBUG=1 $(BIN)/python manage.py migrate --no-input
	DEBUG=1 $(BIN)/python manage.py demo
	DEBUG=1 $(BIN)/daphne -b $(HOST) -p $(PORT) config.asgi:application

# The whole test suite (PostgreSQL/Redis tests skip without them, except in CI), in
# TEST_PROCESSES processes: most tests wait on sockets, servers and timeouts, so six
# share two cores well. Tests are handed out one at a time, the slow ones first
# (tests/conftest.py), so that no process is left with a queue of them at the end.
TEST_PROCESSES ?= 6
test: install
	$(BIN)/pytest -n $(TEST_PROCESSES) --maxschedchunk 1

# The translations (issue 26): gather every marked string into locale/es/LC_MESSAGES/*.po (GNU gettext's
# xgettext and msgmerge), then compile the .mo files Django reads. Both are committed: a clone shows Spanish
# without gettext installed; tests/test_i18n.py fails on a string without its Spanish or a stale .mo.
MESSAGES_IGNORE := -i '.venv/*' -i 'staticfiles/*' -i 'tests/*' -i 'bench/*' -i 'docs/*' -i 'deploy/*' -i 'locale/*'
messages: install
	DEBUG=1 $(BIN)/python manage.py makemessages -l es -d django --no-obsolete $(MESSAGES_IGNORE)
	DEBUG=1 $(BIN)/python manage.py makemessages -l es -d djangojs --no-obsolete $(MESSAGES_IGNORE)
	DEBUG=1 $(BIN)/python manage.py compilemessages -l es --ignore '.venv/*'

# ruff, mypy and the import contract (scripts/checks), as CI runs them.
lint: install
	BIN=$(BIN) scripts/checks
