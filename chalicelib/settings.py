"""Every environment variable Caseflow reads, validated in one place.

The names are module constants so that `infra/` and the local runtime set exactly the variables
the functions read. Nothing else in `app.py` or `chalicelib/` touches `os.environ`, and no module
but `bootstrap` reads the settings when it is imported (`bootstrap.config()`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

STAGE = "CASEFLOW_STAGE"
TABLE_NAME = "CASEFLOW_TABLE_NAME"
TASK_QUEUE_NAME = "CASEFLOW_TASK_QUEUE_NAME"
MAIL_BUCKET = "CASEFLOW_MAIL_BUCKET"
USER_POOL_ID = "CASEFLOW_USER_POOL_ID"
USER_POOL_CLIENT_ID = "CASEFLOW_USER_POOL_CLIENT_ID"
SENDER_ADDRESS = "CASEFLOW_SENDER_ADDRESS"
WORKFLOW_ROLE_ARN = "CASEFLOW_WORKFLOW_ROLE_ARN"
STATE_MACHINE_PREFIX = "CASEFLOW_STATE_MACHINE_PREFIX"
OUTBOX_DIR = "CASEFLOW_OUTBOX_DIR"
#: Where the embedded stack keeps its AWS state between runs (`make run` defaults it to var/state).
STATE_DIR = "CASEFLOW_STATE_DIR"
#: DynamoDB writes the embedded stack journals before it snapshots its tables again (decision 0049).
TABLE_WRITES_PER_SNAPSHOT = "CASEFLOW_TABLE_WRITES_PER_SNAPSHOT"
API_PORT = "CASEFLOW_API_PORT"
AWS_PORT = "CASEFLOW_AWS_PORT"
#: The link secret's name or ARN in Secrets Manager. Its value is never in the environment: the
#: functions that sign links read it from Secrets Manager when they first need it.
LINK_SECRET_ID = "CASEFLOW_LINK_SECRET_ID"
PUBLIC_URL = "CASEFLOW_PUBLIC_URL"
#: The agents' workspace; task emails link to `<it>/desk/tasks/<task id>`.
WORKSPACE_URL = "CASEFLOW_WORKSPACE_URL"
SUPPORT_ADDRESS = "CASEFLOW_SUPPORT_ADDRESS"
SMTP_PORT = "CASEFLOW_SMTP_PORT"
AUTOMATIC_MAIL_LIMIT = "CASEFLOW_AUTOMATIC_MAIL_LIMIT"
AUTOMATIC_MAIL_WINDOW_HOURS = "CASEFLOW_AUTOMATIC_MAIL_WINDOW_HOURS"
EMAIL_ISSUE_TYPE = "CASEFLOW_EMAIL_ISSUE_TYPE"
JOBS_QUEUE_NAME = "CASEFLOW_JOBS_QUEUE_NAME"
CLASSIFIER_THRESHOLD = "CASEFLOW_CLASSIFIER_THRESHOLD"
CLASSIFIER_TUNING = "CASEFLOW_CLASSIFIER_TUNING"
FORM_RATE_PER_ADDRESS = "CASEFLOW_FORM_RATE_PER_ADDRESS"
FORM_RATE_PER_EMAIL = "CASEFLOW_FORM_RATE_PER_EMAIL"
FORM_RATE_WINDOW_MINUTES = "CASEFLOW_FORM_RATE_WINDOW_MINUTES"
#: Where functions without the encoder's weights layer (the training functions) find the weights: an S3
#: zip (decision 0041). Unset: the weights come from the installed package, as in the layer and locally.
ENCODER_WEIGHTS_BUCKET = "CASEFLOW_ENCODER_WEIGHTS_BUCKET"
ENCODER_WEIGHTS_KEY = "CASEFLOW_ENCODER_WEIGHTS_KEY"
REGION = "AWS_DEFAULT_REGION"
ENDPOINT_URL = "AWS_ENDPOINT_URL"

#: The queue's name is needed when `app.py` is imported (Chalice binds the SQS event source at
#: import time, through `bootstrap.config()`), so it has a fixed default shared by infra and the
#: local runtime.
DEFAULT_TASK_QUEUE_NAME = "caseflow-tasks"
#: Background jobs (classifier training); fixed for the same reason as the task queue.
DEFAULT_JOBS_QUEUE_NAME = "caseflow-jobs"
CLASSIFIER_TUNINGS = ("full", "quick")
DEV_STAGE = "dev"
#: Where SES's receipt rule stores inbound mail in the mail bucket: `<prefix><SES message id>`.
INBOUND_MAIL_PREFIX = "inbound/"
#: The local stack's link secret, which the local runtime creates in moto's Secrets Manager; any
#: other stage must name its own.
DEV_LINK_SECRET_ID = "caseflow-dev-link-secret"


class SettingsError(ValueError):
    """A required variable is missing or malformed."""


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    table_name: str
    task_queue_name: str
    mail_bucket: str
    user_pool_id: str
    user_pool_client_id: str
    sender_address: str
    workflow_role_arn: str
    state_machine_prefix: str
    outbox_dir: str | None
    state_dir: str | None
    endpoint_url: str | None
    api_port: int
    aws_port: int
    link_secret_id: str
    public_url: str
    support_address: str
    smtp_port: int
    automatic_mail_limit: int
    automatic_mail_window_hours: int
    email_issue_type: str
    jobs_queue_name: str
    #: None: each model's own threshold, chosen when it was trained.
    classifier_threshold: float | None
    classifier_tuning: str
    #: Web form posts allowed per client address, and reports per customer email, in each window.
    form_rate_per_address: int = 20
    form_rate_per_email: int = 5
    form_rate_window_minutes: int = 60
    #: Where agents work: task emails link to its tasks (`from_environ` defaults it to the public URL).
    workspace_url: str = ""
    #: The encoder's weights as an S3 zip (bucket, key), for functions without the weights layer.
    encoder_weights_bucket: str = ""
    encoder_weights_key: str = ""
    #: A restart replays at most about these journaled writes, in a few seconds; a snapshot of a demo
    #: month's tables costs seconds of CPU, so a smaller number costs the server more under traffic.
    table_writes_per_snapshot: int = 5000

    @property
    def is_dev(self) -> bool:
        return self.stage == DEV_STAGE

    @property
    def inbound_mail_prefix(self) -> str:
        """Where SES's receipt rule stores inbound mail in the mail bucket (fixed, see INBOUND_MAIL_PREFIX)."""
        return INBOUND_MAIL_PREFIX

    @property
    def jwks_url(self) -> str:
        """Where the user pool publishes its signing keys (moto serves the same path)."""
        base = self.endpoint_url or f"https://cognito-idp.{self.region}.amazonaws.com"
        return f"{base.rstrip('/')}/{self.user_pool_id}/.well-known/jwks.json"

    @property
    def token_issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"


def _port(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, str(default))
    try:
        port = int(raw)
    except ValueError:
        raise SettingsError(f"{name}: not a port number: {raw!r}") from None
    if not 0 < port < 65536:
        raise SettingsError(f"{name}: port out of range: {port}")
    return port


def _positive(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}: not a whole number: {raw!r}") from None
    if value < 1:
        raise SettingsError(f"{name}: must be at least 1, not {value}")
    return value


def _address(environ: Mapping[str, str], name: str, default: str) -> str:
    address = environ.get(name) or default
    local, _, domain = address.rpartition("@")
    if not local or "." not in domain or "+" in local:
        raise SettingsError(f"{name}: not a plain email address (no plus part): {address!r}")
    return address.lower()


def _choice(environ: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    value = environ.get(name) or choices[0]
    if value not in choices:
        raise SettingsError(f"{name}: one of {', '.join(choices)}, not {value!r}")
    return value


def _threshold(environ: Mapping[str, str]) -> float | None:
    raw = environ.get(CLASSIFIER_THRESHOLD, "")
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{CLASSIFIER_THRESHOLD}: not a number: {raw!r}") from None
    if not 0 < value <= 1:
        raise SettingsError(f"{CLASSIFIER_THRESHOLD}: must be above 0 and at most 1, not {value}")
    return value


def from_environ(environ: Mapping[str, str]) -> Settings:
    """Build settings from a mapping; missing optional values get local-friendly defaults."""
    stage = environ.get(STAGE, DEV_STAGE)
    api_port = _port(environ, API_PORT, 8000)
    link_secret_id = environ.get(LINK_SECRET_ID) or (DEV_LINK_SECRET_ID if stage == DEV_STAGE else "")
    if not link_secret_id:
        raise SettingsError(f"{LINK_SECRET_ID}: the link secret's name or ARN in Secrets Manager is required")
    public_url = environ.get(PUBLIC_URL) or f"http://localhost:{api_port}"
    return Settings(
        stage=stage,
        region=environ.get(REGION, "us-east-1"),
        table_name=environ.get(TABLE_NAME, "caseflow"),
        task_queue_name=environ.get(TASK_QUEUE_NAME, DEFAULT_TASK_QUEUE_NAME),
        mail_bucket=environ.get(MAIL_BUCKET, "caseflow-mail"),
        user_pool_id=environ.get(USER_POOL_ID, ""),
        user_pool_client_id=environ.get(USER_POOL_CLIENT_ID, ""),
        sender_address=_address(environ, SENDER_ADDRESS, "support@caseflow.test"),
        workflow_role_arn=environ.get(WORKFLOW_ROLE_ARN, "arn:aws:iam::123456789012:role/caseflow-workflows"),
        state_machine_prefix=environ.get(STATE_MACHINE_PREFIX, "caseflow"),
        outbox_dir=environ.get(OUTBOX_DIR) or None,
        state_dir=environ.get(STATE_DIR) or None,
        endpoint_url=environ.get(ENDPOINT_URL) or None,
        api_port=api_port,
        aws_port=_port(environ, AWS_PORT, 5000),
        link_secret_id=link_secret_id,
        public_url=public_url,
        support_address=_address(environ, SUPPORT_ADDRESS, "support@caseflow.test"),
        smtp_port=_port(environ, SMTP_PORT, 2525),
        automatic_mail_limit=_positive(environ, AUTOMATIC_MAIL_LIMIT, 10),
        automatic_mail_window_hours=_positive(environ, AUTOMATIC_MAIL_WINDOW_HOURS, 24),
        email_issue_type=environ.get(EMAIL_ISSUE_TYPE, "general-enquiry"),
        jobs_queue_name=environ.get(JOBS_QUEUE_NAME, DEFAULT_JOBS_QUEUE_NAME),
        classifier_threshold=_threshold(environ),
        classifier_tuning=_choice(environ, CLASSIFIER_TUNING, CLASSIFIER_TUNINGS),
        form_rate_per_address=_positive(environ, FORM_RATE_PER_ADDRESS, 20),
        form_rate_per_email=_positive(environ, FORM_RATE_PER_EMAIL, 5),
        form_rate_window_minutes=_positive(environ, FORM_RATE_WINDOW_MINUTES, 60),
        workspace_url=(environ.get(WORKSPACE_URL) or public_url).rstrip("/"),
        encoder_weights_bucket=environ.get(ENCODER_WEIGHTS_BUCKET, ""),
        encoder_weights_key=environ.get(ENCODER_WEIGHTS_KEY, ""),
        table_writes_per_snapshot=_positive(environ, TABLE_WRITES_PER_SNAPSHOT, 5000),
    )


@lru_cache(maxsize=1)
def get() -> Settings:
    """The settings of this process, read once."""
    return from_environ(os.environ)


def with_defaults(values: Mapping[str, str]) -> Settings:
    """Give this process's environment each of `values` it does not set itself (a command working on
    a stack it did not start, e.g. `make demo-data`), and read the settings again."""
    for name, value in values.items():
        os.environ.setdefault(name, value)
    get.cache_clear()
    return get()
