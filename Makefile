# Two commands: `make demo` and `make test`. Both set everything up on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint unit setup browser-deps clean fuzz messages

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip "setuptools>=77" wheel
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

# Debian's chromium and chromium-driver for the dashboard's browser tests and the PDF report, and
# poppler-utils (pdftotext, pdfinfo) to read the PDF back in the tests, when missing.
browser-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1 \
		|| ! command -v pdftotext >/dev/null 2>&1 || ! command -v pdfinfo >/dev/null 2>&1; then \
		echo "Installing Debian's chromium, chromium-driver and poppler-utils"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver poppler-utils; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check survey_pipeline dash_app tests benchmarks data/fixtures

# Two processes (pytest-xdist): the browser tests and the tests of the session-built projects in one
# (tests/conftest.py), the rest spread over both. TEST_WORKERS=0 runs everything in one process.
TEST_WORKERS ?= 2
test: $(STAMP) browser-deps lint
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadgroup --durations=15

# The message catalogs (docs/i18n.md): extract every message of the library, the report and the
# dashboard into the template and merge it into each language's .po (new messages untranslated,
# changed ones fuzzy: translate them, then tests/unit/test_i18n.py passes). No compile step: the
# .po files are read and compiled on first use (survey_pipeline.i18n.translations).
I18N := survey_pipeline/i18n
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg --no-default-keywords -k t -k nt:1,2 -k N_ -c TRANSLATORS: \
		--add-location=file --sort-by-file -w 100 --project=survey-pipeline --version=0.1.0 \
		-o $(I18N)/messages.pot .
	$(BIN)/pybabel update -i $(I18N)/messages.pot -d $(I18N)/locale -D messages -w 100 --ignore-obsolete --previous

# The whole fuzz corpus of malformed exports (issue 19; a sample runs in `make test`): a table by family.
fuzz: $(STAMP)
	$(BIN)/python -m tests.fuzz.harness $(FUZZ_ARGS)

demo: $(STAMP)
	$(BIN)/survey-pipeline demo --dir demo-project $(DEMO_ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info artifacts demo-project
