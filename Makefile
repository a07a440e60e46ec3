# Two commands on a fresh machine: `make run` starts Caseflow on embedded AWS, `make test` tests it.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: run test lint unit integration e2e infra-test synth clean demo-data

$(INSTALLED): requirements.txt requirements-dev.txt
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(INSTALLED)

run: $(INSTALLED)
	$(PYTHON) -m chalicelib.local

test: $(INSTALLED) lint
	$(PYTHON) -m pytest

lint: $(INSTALLED)
	$(PYTHON) -m ruff check .
	$(VENV)/bin/lint-imports

unit: $(INSTALLED)
	$(PYTHON) -m pytest tests/unit

integration: $(INSTALLED)
	$(PYTHON) -m pytest tests/integration

e2e: $(INSTALLED)
	$(PYTHON) -m pytest tests/e2e

infra-test: $(INSTALLED)
	$(PYTHON) -m pytest tests/infra

synth: $(INSTALLED)
	cd infra && AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} ../$(PYTHON) app.py

clean:
	rm -rf $(VENV) var infra/cdk.out .pytest_cache .ruff_cache

# A month of demo activity (5,000 issues by default) on the stack `make run` is serving.
demo-data: $(INSTALLED)
	$(PYTHON) -m bench.demo_month $(DEMO_ARGS)
