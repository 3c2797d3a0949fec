# VIP Care. The two set-up commands on a fresh machine:
#   make run    local stack with demo data, serving the API on http://127.0.0.1:3000
#   make test   every check: lint, template validation, sam build, unit, integration, e2e
# Each creates the virtual environment it needs (.venv) when it is missing or stale.

SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# checkov lives in its own environment: its pins clash with aws-sam-cli's.
CHECKOV_VENV  := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-stamp

# AWS tools here only ever talk to moto: fake credentials, a region, no telemetry.
export AWS_ACCESS_KEY_ID     ?= testing
export AWS_SECRET_ACCESS_KEY ?= testing
export AWS_DEFAULT_REGION    ?= us-east-1
export SAM_CLI_TELEMETRY     := 0
# sam build looks for `python3.13` on PATH: the venv's bin provides it.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: run test test-dates lint lint-fast validate build openapi bench invoke soak report simulate clean help

help:
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@bash .ci/bootstrap-venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP) ## local stack with demo data on http://127.0.0.1:3000 (Ctrl-C stops)
	$(PY) -m infra.local

test: $(STAMP) lint validate build ## all checks (what CI runs): ruff, mypy, template, build, the suites, the hard days
	@bash .ci/bootstrap-chromium
	$(PY) -m pytest -q -p no:cacheprovider tests
	$(PY) -m tests.support.hard_days

test-dates: $(STAMP) ## unit + integration suites with the clock moved to each hard day (docs/time.md)
	$(PY) -m tests.support.hard_days

lint-fast: $(STAMP)
	$(VENV)/bin/ruff check shared functions infra tests

lint: lint-fast ## ruff and mypy
	$(VENV)/bin/mypy

validate: $(STAMP) $(CHECKOV_STAMP) ## cfn-lint, sam validate --lint, checkov (skips carry their reasons in template.yaml)
	$(VENV)/bin/cfn-lint template.yaml
	$(VENV)/bin/sam validate --lint --template-file template.yaml
	$(CHECKOV_VENV)/bin/checkov -f template.yaml --framework cloudformation --compact --quiet --skip-download

$(CHECKOV_STAMP):
	@bash .ci/bootstrap-venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet 'checkov>=3.2,<4'
	@touch $(CHECKOV_STAMP)

build: $(STAMP) ## sam build (offline; the layer's deps come from PyPI)
	$(VENV)/bin/sam build --template-file template.yaml --build-dir .aws-sam/build

openapi: $(STAMP) ## regenerate docs/openapi.json from the code
	$(PY) -m infra.openapi_doc

bench: $(STAMP) build ## measured figures (docs/performance.md): cold init, DynamoDB per event, handler CPU, job scaling, cost, local throughput
	$(PY) -m tests.bench.cold_start --runs 9
	$(PY) -m tests.bench.cost_per_event
	$(PY) -m tests.bench.handler_cpu
	$(PY) -m tests.bench.job_scaling --sizes 10000 100000 --due 100
	$(PY) -m tests.bench.escalation_job --cases 300
	$(PY) -m tests.bench.reminder_job --members 20000
	$(PY) -m tests.bench.basket_job --members 1000
	$(PY) -m tests.bench.member_lists --bases 10000,100000 --jobs 2
	$(PY) -m tests.bench.activity_fanout --audiences 10000,100000 --jobs 2
	$(PY) -m tests.bench.cost_model
	$(PY) -m tests.bench.local_throughput --purchases 200

soak: $(STAMP) ## the exactly-once and event-parser property tests and the API fuzzing with many more examples
	VIPCARE_PROPERTY_EXAMPLES=1000 $(PY) -m pytest -q -p no:cacheprovider tests/integration/test_exactly_once.py
	VIPCARE_PARSER_EXAMPLES=500 $(PY) -m pytest -q -p no:cacheprovider tests/integration/test_event_parsers.py
	VIPCARE_FUZZ_EXAMPLES=100 $(PY) -m pytest -q -s -p no:cacheprovider tests/e2e/test_fuzz_api.py

REPORT_URL ?= http://127.0.0.1:3000

report: $(STAMP) ## KPI dashboard of the running API (make run) -> build/report/dashboard.html + .png [PERIOD=YYYY-MM]
	@bash .ci/bootstrap-chromium
	$(PY) -m infra.report --url $(REPORT_URL) --out build/report $(if $(PERIOD),--period $(PERIOD))

MEMBERS ?= 2000
MONTHS  ?= 12

simulate: $(STAMP) ## real handlers and jobs over simulated months, then the invariants [MEMBERS=2000 MONTHS=12]
	$(PY) -m infra.simulate --members $(MEMBERS) --months $(MONTHS)

invoke: $(STAMP) ## run handlers with sample events: make invoke EVENT="events/enrollment/enrol.json ..."
	$(PY) -m infra.local.invoke $(EVENT)

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) build .aws-sam .pytest_cache .hypothesis .ruff_cache .mypy_cache
