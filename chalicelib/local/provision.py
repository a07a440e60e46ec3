"""Create, on the embedded moto server, the resources that `infra/` creates on AWS.

This module stands in for CloudFormation, so it talks to the AWS APIs directly. What happens after
a deploy on AWS too (publishing the issue types' state machines) is not here: it runs through the
app's own services, the same code path on both.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

import boto3
from botocore.exceptions import ClientError, EndpointConnectionError

from chalicelib.adapters.cognito import group_description
from chalicelib.adapters.dynamodb.schema import TTL_ATTRIBUTE, create_table_request
from chalicelib.domain.agent_groups import Group
from chalicelib.domain.assignees import ROLE, TEAM
from chalicelib.settings import Settings
from chalicelib.workflows.seeds import seeded_roles, seeded_teams

DEMO_PASSWORD = "Caseflow-demo-1"
#: username -> role (Cognito group). Local only; a real pool gets its users from an admin.
DEMO_AGENTS = {
    "alice": "agent",
    "sam": "store-manager",
    "rita": "regional-manager",
    "hana": "hr",
    "harry": "hr-lead",
    "lee": "logistics",
    "lena": "logistics-lead",
    "ada": "admin",
    "omar": "ops",
    "remy": "returns",
    "bella": "billing",
    "fred": "finance",
    "fiona": "finance-lead",
    "tess": "tech-support",
    "theo": "tech-lead",
    "otto": "engineering-oncall",
    "ed": "engineering",
    "leah": "legal",
    "cora": "comms",
    "sue": "supervisor",
    "cole": "cs-lead",
    "rob": "returns-lead",
}
#: Some demo agents' time zones (Cognito's standard `zoneinfo` attribute); the others have none and
#: read times in the task's calendar's zone.
DEMO_TIME_ZONES = {
    "alice": "Europe/London",
    "sam": "Europe/London",
    "hana": "Europe/Istanbul",
    "harry": "America/New_York",
    "lee": "Europe/Berlin",
    "sue": "Asia/Kolkata",
}
DEAD_LETTER_SUFFIX = "-dlq"
#: Where inbound mail events go when the handler keeps failing (the function's dead-letter queue).
INBOUND_DEAD_LETTER_QUEUE = "caseflow-inbound-mail-dlq"
#: The agents' Cognito user pool and its app client, as `infra/` names them too.
USER_POOL_NAME = "caseflow-agents"
USER_POOL_CLIENT_NAME = "caseflow-api"
MAX_RECEIVES = 5
#: The link secret's random bytes (48 characters in base64, as long as `infra/`'s).
LINK_SECRET_BYTES = 36
#: Retries of a failed message come after this many seconds (locally short, to see them).
VISIBILITY_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Provisioned:
    user_pool_id: str
    user_pool_client_id: str
    task_queue_url: str
    dead_letter_queue_url: str
    inbound_dead_letter_queue_url: str
    jobs_queue_url: str


def provision(config: Settings, demo_agents: dict[str, str] = DEMO_AGENTS) -> Provisioned:
    """Create what is missing; what a kept state (`aws_state`) brought back is found and kept, the
    user pool above all: its id is in every agent's token."""
    _table(config)
    _link_secret(config)
    queue_url, dlq_url = _queue_with_dead_letters(config.task_queue_name)
    jobs_url, _ = _queue_with_dead_letters(config.jobs_queue_name)
    inbound_dlq_url = boto3.client("sqs").create_queue(QueueName=INBOUND_DEAD_LETTER_QUEUE)["QueueUrl"]
    boto3.client("s3").create_bucket(Bucket=config.mail_bucket)
    ses = boto3.client("ses")
    ses.verify_domain_identity(Domain=config.sender_address.rpartition("@")[2])
    ses.verify_email_identity(EmailAddress=config.sender_address)
    pool_id, client_id = _user_pool(demo_agents)
    return Provisioned(pool_id, client_id, queue_url, dlq_url, inbound_dlq_url, jobs_url)


class NoStack(RuntimeError):
    """No Caseflow stack is provisioned on the embedded AWS server."""


def discover(config: Settings) -> Provisioned:
    """The resources `provision` created on a moto server that is already running (`make run`),
    found by name: for commands that work on that stack from another process (`make demo-data`)."""
    cognito = boto3.client("cognito-idp")
    try:
        listed = cognito.list_user_pools(MaxResults=60)["UserPools"]
    except EndpointConnectionError as exc:
        raise NoStack(f"nothing answers at {exc.kwargs.get('endpoint_url')}") from exc
    pools = [p["Id"] for p in listed if p["Name"] == USER_POOL_NAME]
    if not pools:
        raise NoStack(f"no user pool {USER_POOL_NAME!r} on the embedded AWS server")
    pool_id = pools[-1]
    clients = cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
    client_ids = [c["ClientId"] for c in clients if c["ClientName"] == USER_POOL_CLIENT_NAME]
    if not client_ids:
        raise NoStack(f"no app client {USER_POOL_CLIENT_NAME!r} in user pool {pool_id}")
    sqs = boto3.client("sqs")

    def queue(name: str) -> str:
        try:
            return sqs.get_queue_url(QueueName=name)["QueueUrl"]
        except ClientError as exc:
            raise NoStack(f"no queue {name!r} on the embedded AWS server") from exc

    return Provisioned(
        pool_id,
        client_ids[0],
        queue(config.task_queue_name),
        queue(config.task_queue_name + DEAD_LETTER_SUFFIX),
        queue(INBOUND_DEAD_LETTER_QUEUE),
        queue(config.jobs_queue_name),
    )


def _table(config: Settings) -> None:
    dynamodb = boto3.client("dynamodb")
    try:
        dynamodb.create_table(**create_table_request(config.table_name))
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceInUseException":
            raise
        return
    dynamodb.update_time_to_live(
        TableName=config.table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
    )


def _link_secret(config: Settings) -> None:
    """The secret that keys links, CSRF tokens and Message-IDs, random as `infra/` has AWS make it;
    the functions read it from Secrets Manager (adapters/secrets.py), here moto's."""
    try:
        boto3.client("secretsmanager").create_secret(
            Name=config.link_secret_id, SecretString=secrets.token_urlsafe(LINK_SECRET_BYTES)
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceExistsException":
            raise


def _queue_with_dead_letters(name: str) -> tuple[str, str]:
    sqs = boto3.client("sqs")
    dlq_url = sqs.create_queue(QueueName=name + DEAD_LETTER_SUFFIX)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_url = sqs.create_queue(
        QueueName=name,
        Attributes={
            "VisibilityTimeout": str(VISIBILITY_TIMEOUT_SECONDS),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES)}),
        },
    )["QueueUrl"]
    return queue_url, dlq_url


def _existing_user_pool() -> tuple[str, str] | None:
    """The pool and app client an earlier run made, if the state was kept."""
    cognito = boto3.client("cognito-idp")
    for pool in cognito.list_user_pools(MaxResults=60)["UserPools"]:
        if pool["Name"] != USER_POOL_NAME:
            continue
        clients = cognito.list_user_pool_clients(UserPoolId=pool["Id"], MaxResults=60)["UserPoolClients"]
        for client in clients:
            if client["ClientName"] == USER_POOL_CLIENT_NAME:
                return pool["Id"], client["ClientId"]
    return None


def _user_pool(demo_agents: dict[str, str]) -> tuple[str, str]:
    if existing := _existing_user_pool():
        return existing
    cognito = boto3.client("cognito-idp")
    pool_id = cognito.create_user_pool(
        PoolName=USER_POOL_NAME,
        AutoVerifiedAttributes=["email"],
        Policies={"PasswordPolicy": {"MinimumLength": 12}},
    )["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName=USER_POOL_CLIENT_NAME,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        # What the id token carries besides the groups (on AWS a client reads every attribute by default).
        ReadAttributes=["email", "zoneinfo"],
    )["UserPoolClient"]["ClientId"]
    teams = set(seeded_teams())
    for role in sorted(set(seeded_roles()) | set(demo_agents.values())):
        kind = TEAM if role in teams else ROLE
        group = Group(role, kind, f"Caseflow agents in the {role} {kind}")
        cognito.create_group(UserPoolId=pool_id, GroupName=role, Description=group_description(group))
    for username, role in demo_agents.items():
        cognito.admin_create_user(
            UserPoolId=pool_id,
            Username=username,
            UserAttributes=[
                {"Name": "email", "Value": f"{username}@agents.caseflow.test"},
                {"Name": "email_verified", "Value": "true"},
                *([{"Name": "zoneinfo", "Value": DEMO_TIME_ZONES[username]}] if username in DEMO_TIME_ZONES else []),
            ],
            MessageAction="SUPPRESS",
        )
        cognito.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=DEMO_PASSWORD, Permanent=True)
        cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=username, GroupName=role)
    return pool_id, client_id
