"""Synthesizes the CDK stack offline, checks what the template creates, and lints it with cfn-lint.

Synthesis runs `infra/app.py` in a subprocess, as CI and `cdk synth` do, with AWS_DEFAULT_REGION
as the only AWS setting: no account, no credentials. It runs `chalice package`, which pip-installs
requirements.txt into the Lambda zip (from the package registry, cached under
.chalice/deployments/ afterwards): about 20 s the first time, under 10 s after.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib import settings
from chalicelib.adapters.cognito import TEAM_MARKER
from chalicelib.adapters.dynamodb import schema
from chalicelib.domain.agents import SESSION_HOURS
from chalicelib.local.provision import (
    DEMO_AGENTS,
    INBOUND_DEAD_LETTER_QUEUE,
    MAX_RECEIVES,
    USER_POOL_CLIENT_NAME,
    USER_POOL_NAME,
)
from tests.infra.conftest import INFRA_DIR, Synthesis

pytestmark = pytest.mark.infra

ROLES = {
    "agent",
    "admin",
    "ops",
    "store-manager",
    "regional-manager",
    "hr",
    "hr-lead",
    "logistics",
    "logistics-lead",
    "returns",
    "returns-lead",
    "billing",
    "finance",
    "finance-lead",
    "tech-support",
    "tech-lead",
    "engineering",
    "engineering-oncall",
    "legal",
    "comms",
    "supervisor",
    "cs-lead",
}
#: Every variable the stack must set for the functions (the rest of settings are local-only).
FUNCTION_ENVIRONMENT = {
    settings.STAGE,
    settings.LINK_SECRET,
    settings.PUBLIC_URL,
    settings.TABLE_NAME,
    settings.TASK_QUEUE_NAME,
    settings.JOBS_QUEUE_NAME,
    settings.MAIL_BUCKET,
    settings.USER_POOL_ID,
    settings.USER_POOL_CLIENT_ID,
    settings.SENDER_ADDRESS,
    settings.SUPPORT_ADDRESS,
    settings.WORKFLOW_ROLE_ARN,
    settings.STATE_MACHINE_PREFIX,
}
#: What the Chalice functions call on AWS (chalicelib/adapters), besides the table and bucket.
FUNCTION_ACTIONS = {
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
    "states:CreateStateMachine",
    "states:DescribeStateMachine",
    "states:ListStateMachines",
    "states:StartExecution",
    "states:DescribeExecution",
    "states:SendTaskSuccess",
    "states:SendTaskFailure",
    "states:SendTaskHeartbeat",
    "iam:PassRole",
    "ses:SendRawEmail",
    "ses:SendEmail",
    "cognito-idp:InitiateAuth",
    "cognito-idp:AdminGetUser",
    "cognito-idp:AdminListGroupsForUser",
    "cognito-idp:ListGroups",
    "cognito-idp:GetGroup",
    "cognito-idp:CreateGroup",
    "cognito-idp:ListUsersInGroup",
    "cognito-idp:AdminAddUserToGroup",
    "cognito-idp:AdminRemoveUserFromGroup",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
    "s3:GetObject",
    "s3:PutObject",
}


def _ref(logical_id: str) -> dict[str, str]:
    return {"Ref": logical_id}


def _get_att(logical_id: str, attribute: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, attribute]}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _chalice_functions(synthesis: Synthesis) -> dict[str, dict[str, Any]]:
    return synthesis.of_type("AWS::Serverless::Function")


def _statements(policy: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from policy["Properties"]["PolicyDocument"]["Statement"]


def _references(value: Any, logical_id: str) -> bool:
    """Whether an intrinsic-function value mentions the resource anywhere."""
    return logical_id in json.dumps(value)


def test_synthesis_leaves_the_source_tree_alone(synthesis: Synthesis) -> None:
    assert not (INFRA_DIR / "chalice.out").exists()
    assert not (INFRA_DIR / "cdk.out").exists()


def test_table_is_built_from_the_schema(synthesis: Synthesis) -> None:
    _, table = synthesis.one("AWS::DynamoDB::Table")
    properties = table["Properties"]
    assert properties["KeySchema"] == [
        {"AttributeName": schema.PARTITION_KEY, "KeyType": "HASH"},
        {"AttributeName": schema.SORT_KEY, "KeyType": "RANGE"},
    ]
    indexes = {index["IndexName"]: index for index in properties["GlobalSecondaryIndexes"]}
    assert set(indexes) == set(schema.GLOBAL_SECONDARY_INDEXES)
    for name, (hash_key, range_key) in schema.GLOBAL_SECONDARY_INDEXES.items():
        assert indexes[name]["KeySchema"] == [
            {"AttributeName": hash_key, "KeyType": "HASH"},
            {"AttributeName": range_key, "KeyType": "RANGE"},
        ]
    assert indexes[schema.OPEN_ISSUES_INDEX]["Projection"] == {
        "ProjectionType": "INCLUDE",
        "NonKeyAttributes": ["type_id", "channel", "created_at"],
    }
    assert indexes[schema.OPENED_ISSUES_INDEX]["Projection"] == {
        "ProjectionType": "INCLUDE",
        "NonKeyAttributes": ["type_id", "channel", "status", "current_step"],
    }
    for name in set(schema.GLOBAL_SECONDARY_INDEXES) - {schema.OPEN_ISSUES_INDEX, schema.OPENED_ISSUES_INDEX}:
        assert indexes[name]["Projection"] == {"ProjectionType": "ALL"}
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["TimeToLiveSpecification"] == {"AttributeName": schema.TTL_ATTRIBUTE, "Enabled": True}
    assert table["DeletionPolicy"] == "Retain"


def test_task_queue_redrives_to_a_dead_letter_queue(synthesis: Synthesis) -> None:
    queues = synthesis.of_type("AWS::SQS::Queue")
    [(queue_id, queue)] = [
        (name, q) for name, q in queues.items() if q["Properties"].get("QueueName") == settings.DEFAULT_TASK_QUEUE_NAME
    ]
    redrive = queue["Properties"]["RedrivePolicy"]
    dead_letter_id = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
    assert dead_letter_id in queues and dead_letter_id != queue_id
    assert int(redrive["maxReceiveCount"]) == MAX_RECEIVES == 5

    handler = _chalice_functions(synthesis)["OnTaskMessage"]
    assert queue["Properties"]["VisibilityTimeout"] >= 6 * handler["Properties"]["Timeout"]
    [event] = handler["Properties"]["Events"].values()
    assert event["Type"] == "SQS"
    assert event["Properties"]["BatchSize"] == 1
    assert event["Properties"]["Queue"]["Fn::Sub"].endswith(":" + settings.DEFAULT_TASK_QUEUE_NAME)
    # The event source names the queue by ARN, not Ref: the stack orders the two explicitly.
    assert queue_id in _as_list(handler["DependsOn"])


def test_mail_bucket_is_private_encrypted_and_tls_only(synthesis: Synthesis) -> None:
    bucket_id, bucket = synthesis.one("AWS::S3::Bucket")
    properties = bucket["Properties"]
    assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert all(properties["PublicAccessBlockConfiguration"].values())
    _, bucket_policy = synthesis.one("AWS::S3::BucketPolicy")
    assert bucket_policy["Properties"]["Bucket"] == _ref(bucket_id)
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in _statements(bucket_policy)
    )


def test_ses_stores_inbound_mail_in_the_bucket_then_invokes_the_handler_with_a_dead_letter_queue(
    synthesis: Synthesis,
) -> None:
    bucket_id, _ = synthesis.one("AWS::S3::Bucket")
    _, rule = synthesis.one("AWS::SES::ReceiptRule")
    properties = rule["Properties"]["Rule"]
    assert properties["Enabled"] is True and properties["ScanEnabled"] is True
    assert properties["Recipients"] == ["example.com"]
    store, invoke = properties["Actions"]
    assert store["S3Action"]["BucketName"] == _ref(bucket_id)
    assert store["S3Action"]["ObjectKeyPrefix"] == settings.INBOUND_MAIL_PREFIX
    assert _references(invoke["LambdaAction"]["FunctionArn"], "OnInboundEmail")
    assert invoke["LambdaAction"]["InvocationType"] == "Event"
    _, bucket_policy = synthesis.one("AWS::S3::BucketPolicy")
    assert any(s.get("Principal") == {"Service": "ses.amazonaws.com"} for s in _statements(bucket_policy))
    permissions = synthesis.of_type("AWS::Lambda::Permission").values()
    assert any(p["Properties"]["Principal"] == "ses.amazonaws.com" for p in permissions)

    queues = synthesis.of_type("AWS::SQS::Queue")
    [dead_letters] = [n for n, q in queues.items() if q["Properties"].get("QueueName") == INBOUND_DEAD_LETTER_QUEUE]
    handler = _chalice_functions(synthesis)["OnInboundEmail"]
    assert handler["Properties"]["DeadLetterQueue"] == {"Type": "SQS", "TargetArn": _get_att(dead_letters, "Arn")}
    assert any(
        "AwsCustomResource" in json.dumps(r) or "setActiveReceiptRuleSet" in json.dumps(r)
        for r in synthesis.of_type("Custom::AWS").values()
    )


def test_training_runs_nightly_and_on_request_with_the_training_layer_alone(synthesis: Synthesis) -> None:
    functions = _chalice_functions(synthesis)
    [(layer_id, _)] = synthesis.of_type("AWS::Lambda::LayerVersion").items()
    trainers = {name for name, f in functions.items() if f["Properties"].get("Layers") == [_ref(layer_id)]}
    assert trainers == {"OnJob", "NightlyRetraining"}
    assert all(functions[name]["Properties"]["Timeout"] == 900 for name in trainers)
    [nightly] = [e for e in functions["NightlyRetraining"]["Properties"]["Events"].values()]
    assert nightly["Type"] == "Schedule" and nightly["Properties"]["Schedule"] == "cron(0 3 * * ? *)"
    queues = synthesis.of_type("AWS::SQS::Queue")
    [(jobs_id, jobs)] = [(n, q) for n, q in queues.items() if q["Properties"].get("QueueName") == "caseflow-jobs"]
    assert jobs["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0] in queues
    assert jobs["Properties"]["VisibilityTimeout"] >= 6 * 900
    assert jobs_id in _as_list(functions["OnJob"]["DependsOn"])


def test_the_functions_bundle_has_every_runtime_requirement(synthesis: Synthesis) -> None:
    """`chalice package` leaves out a requirement without a wheel for Lambda's platform, silently."""
    import zipfile

    [bundle] = [p for p in synthesis.template_path.parent.glob("asset.*.zip") if zipfile.is_zipfile(p)]
    names = {name.split("/")[0] for name in zipfile.ZipFile(bundle).namelist()}
    for package in ("numpy", "pynamodb", "jinja2", "yaml", "jwt", "ulid", "holidays", "aws_lambda_powertools"):
        assert package in names, f"{package} is missing from the functions' bundle"


def test_user_pool_has_a_password_client_and_a_group_per_role(synthesis: Synthesis) -> None:
    pool_id, pool = synthesis.one("AWS::Cognito::UserPool")
    assert pool["Properties"]["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert pool["Properties"]["UserPoolName"] == USER_POOL_NAME, "the name make demo-data finds it by"
    # Agents and admins may add an authenticator app (TOTP); no SMS codes.
    assert pool["Properties"]["MfaConfiguration"] == "OPTIONAL"
    assert pool["Properties"]["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]

    _, client = synthesis.one("AWS::Cognito::UserPoolClient")
    assert client["Properties"]["UserPoolId"] == _ref(pool_id)
    assert client["Properties"]["ClientName"] == USER_POOL_CLIENT_NAME
    assert set(client["Properties"]["ExplicitAuthFlows"]) == {"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}
    # A refresh token lives no longer than the desk's browser session keeps it.
    validity = client["Properties"]["RefreshTokenValidity"]
    unit = client["Properties"]["TokenValidityUnits"]["RefreshToken"]
    assert {"minutes": validity / 60, "hours": validity, "days": validity * 24}[unit] == SESSION_HOURS

    groups = synthesis.of_type("AWS::Cognito::UserPoolGroup").values()
    assert sorted(g["Properties"]["GroupName"] for g in groups) == sorted(ROLES)
    assert all(g["Properties"]["UserPoolId"] == _ref(pool_id) for g in groups)
    # A team is told from a role by its description (decision 0028); the seeds' one team is one here.
    teams = [g["Properties"]["GroupName"] for g in groups if g["Properties"]["Description"].startswith(TEAM_MARKER)]
    assert teams == ["engineering-oncall"]
    # The local runtime's demo agents have roles the cloud pool knows too.
    assert set(DEMO_AGENTS.values()) <= ROLES


def test_functions_get_every_setting(synthesis: Synthesis) -> None:
    functions = _chalice_functions(synthesis)
    assert {"APIHandler", "OnTaskMessage", "PublishIssueTypes"} <= set(functions)
    for name, function in functions.items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert set(variables) >= FUNCTION_ENVIRONMENT, f"{name} lacks {FUNCTION_ENVIRONMENT - set(variables)}"

    variables = functions["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert variables[settings.STAGE] == "prod"
    assert variables[settings.TASK_QUEUE_NAME] == settings.DEFAULT_TASK_QUEUE_NAME
    assert variables[settings.STATE_MACHINE_PREFIX] == "caseflow"
    assert variables[settings.SENDER_ADDRESS] == "support@example.com"
    assert variables[settings.TABLE_NAME] == _ref(synthesis.one("AWS::DynamoDB::Table")[0])
    assert variables[settings.MAIL_BUCKET] == _ref(synthesis.one("AWS::S3::Bucket")[0])
    assert variables[settings.USER_POOL_ID] == _ref(synthesis.one("AWS::Cognito::UserPool")[0])
    assert variables[settings.USER_POOL_CLIENT_ID] == _ref(synthesis.one("AWS::Cognito::UserPoolClient")[0])


def test_workflow_role_lets_state_machines_post_to_the_task_queue(synthesis: Synthesis) -> None:
    roles = synthesis.of_type("AWS::IAM::Role")
    [role_id] = [
        name
        for name, role in roles.items()
        if any(
            s["Principal"].get("Service") == "states.amazonaws.com"
            for s in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        )
    ]
    granted = {
        action
        for policy in synthesis.of_type("AWS::IAM::Policy").values()
        if _ref(role_id) in policy["Properties"]["Roles"]
        for statement in _statements(policy)
        for action in _as_list(statement["Action"])
    }
    assert "sqs:SendMessage" in granted


def test_functions_role_may_do_what_the_adapters_do(synthesis: Synthesis) -> None:
    functions = _chalice_functions(synthesis)
    role_ids = {f["Properties"]["Role"]["Fn::GetAtt"][0] for f in functions.values()}
    assert len(role_ids) == 1
    [role_id] = role_ids
    attached = {
        name: policy
        for name, policy in synthesis.of_type("AWS::IAM::Policy").items()
        if _references(policy["Properties"]["Roles"], role_id)
    }
    granted = {
        action
        for policy in attached.values()
        for statement in _statements(policy)
        for action in _as_list(statement["Action"])
    }
    assert granted >= FUNCTION_ACTIONS, f"missing {sorted(FUNCTION_ACTIONS - granted)}"
    # No function starts before its permissions exist.
    for name, function in functions.items():
        assert set(attached) <= set(_as_list(function.get("DependsOn", []))), name


def test_issue_types_are_published_after_each_deploy(synthesis: Synthesis) -> None:
    _, trigger = synthesis.one("Custom::Trigger")
    assert trigger["Properties"]["InvocationType"] == "RequestResponse"
    assert "PublishIssueTypes" in trigger["DependsOn"]
    version_id = trigger["Properties"]["HandlerArn"]["Ref"]
    invoker_id = synthesis.resources[version_id]["Properties"]["FunctionName"]["Ref"]
    invoker = synthesis.resources[invoker_id]["Properties"]
    assert invoker["Environment"]["Variables"]["TARGET_FUNCTION_ARN"] == _get_att("PublishIssueTypes", "Arn")
    # Publishing gets more time than a request, and the trigger waits for it.
    functions = _chalice_functions(synthesis)
    publish_timeout = functions["PublishIssueTypes"]["Properties"]["Timeout"]
    assert publish_timeout > functions["APIHandler"]["Properties"]["Timeout"]
    assert invoker["Timeout"] > publish_timeout
    assert int(trigger["Properties"]["Timeout"]) >= 1000 * invoker["Timeout"]


def test_outputs_name_the_api_and_the_user_pool(synthesis: Synthesis) -> None:
    outputs = synthesis.template["Outputs"]
    assert "execute-api" in json.dumps(outputs["ApiUrl"]["Value"])
    assert outputs["UserPoolId"]["Value"] == _ref(synthesis.one("AWS::Cognito::UserPool")[0])
    assert outputs["UserPoolClientId"]["Value"] == _ref(synthesis.one("AWS::Cognito::UserPoolClient")[0])


def test_cfn_lint_finds_no_errors(synthesis: Synthesis) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from cfnlint.runner import main; sys.exit(main())"]
        + ["--format", "json", str(synthesis.template_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.stdout.strip(), f"cfn-lint printed nothing (exit {result.returncode}):\n{result.stderr}"
    matches = json.loads(result.stdout)
    findings = [
        f"{m['Level']} {m['Rule']['Id']} {'/'.join(map(str, m['Location']['Path']))}: {m['Message']}" for m in matches
    ]
    errors = [finding for match, finding in zip(matches, findings, strict=True) if match["Level"] == "Error"]
    assert not errors, "\n".join(errors)
    for finding in findings:
        warnings.warn(f"cfn-lint: {finding}", UserWarning, stacklevel=1)
