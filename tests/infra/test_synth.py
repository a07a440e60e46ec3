"""Synthesizes the CDK stack offline, checks what the template creates, and lints it with cfn-lint.

Synthesis runs `infra/app.py` in a subprocess, as CI and `cdk synth` do, with AWS_DEFAULT_REGION
as the only AWS setting: no account, no credentials. It runs `chalice package`, which pip-installs
requirements.txt into the Lambda zip (from the package registry, cached under
.chalice/deployments/ afterwards): about 20 s the first time, under 10 s after.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib import settings
from chalicelib.adapters.cognito import TEAM_MARKER
from chalicelib.adapters.dynamodb import schema
from chalicelib.domain.agents import SESSION_HOURS
from chalicelib.local.provision import DEMO_AGENTS, MAX_RECEIVES, USER_POOL_CLIENT_NAME
from infra.function_roles import FUNCTION_GRANTS
from tests.infra.conftest import INFRA_DIR, Synthesis

pytestmark = pytest.mark.infra

#: What the stack names its resources after when no `stage` is given.
NAMES = "caseflow-prod"
TASK_QUEUE = f"{NAMES}-tasks"
JOBS_QUEUE = f"{NAMES}-jobs"

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
    settings.LINK_SECRET_ID,
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


def _mail_bucket(synthesis: Synthesis) -> tuple[str, dict[str, Any]]:
    [(bucket_id, bucket)] = [
        (n, b) for n, b in synthesis.of_type("AWS::S3::Bucket").items() if n.startswith("MailBucket")
    ]
    return bucket_id, bucket


def _mail_bucket_policy(synthesis: Synthesis) -> dict[str, Any]:
    bucket_id, _ = _mail_bucket(synthesis)
    [policy] = [
        p for p in synthesis.of_type("AWS::S3::BucketPolicy").values() if p["Properties"]["Bucket"] == _ref(bucket_id)
    ]
    return policy


def _statements(policy: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from policy["Properties"]["PolicyDocument"]["Statement"]


def _references(value: Any, logical_id: str) -> bool:
    """Whether an intrinsic-function value mentions the resource anywhere."""
    return logical_id in json.dumps(value)


def test_synthesis_leaves_the_source_tree_alone(synthesis: Synthesis) -> None:
    assert not (INFRA_DIR / "chalice.out").exists()


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
    [(queue_id, queue)] = [(name, q) for name, q in queues.items() if q["Properties"].get("QueueName") == TASK_QUEUE]
    redrive = queue["Properties"]["RedrivePolicy"]
    dead_letter_id = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
    assert dead_letter_id in queues and dead_letter_id != queue_id
    assert int(redrive["maxReceiveCount"]) == MAX_RECEIVES == 5

    handler = _chalice_functions(synthesis)["OnTaskMessage"]
    assert queue["Properties"]["VisibilityTimeout"] >= 6 * handler["Properties"]["Timeout"]
    [event] = handler["Properties"]["Events"].values()
    assert event["Type"] == "SQS"
    assert event["Properties"]["BatchSize"] == 1
    assert event["Properties"]["Queue"]["Fn::Sub"].endswith(":" + TASK_QUEUE)
    # The event source names the queue by ARN, not Ref: the stack orders the two explicitly.
    assert queue_id in _as_list(handler["DependsOn"])


def test_mail_bucket_is_private_encrypted_and_tls_only(synthesis: Synthesis) -> None:
    bucket_id, bucket = _mail_bucket(synthesis)
    properties = bucket["Properties"]
    assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert all(properties["PublicAccessBlockConfiguration"].values())
    bucket_policy = _mail_bucket_policy(synthesis)
    assert bucket_policy["Properties"]["Bucket"] == _ref(bucket_id)
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in _statements(bucket_policy)
    )
    # Every read and write of customers' mail is logged, in a bucket of its own.
    logs_id = properties["LoggingConfiguration"]["DestinationBucketName"]["Ref"]
    assert logs_id != bucket_id and synthesis.resources[logs_id]["Type"] == "AWS::S3::Bucket"


def test_ses_stores_inbound_mail_in_the_bucket_then_invokes_the_handler_with_a_dead_letter_queue(
    synthesis: Synthesis,
) -> None:
    bucket_id, _ = _mail_bucket(synthesis)
    _, rule = synthesis.one("Custom::SesReceiptRule")
    properties = rule["Properties"]
    assert properties["Domain"] == "example.com"
    assert properties["Bucket"] == _ref(bucket_id)
    assert properties["Prefix"] == settings.INBOUND_MAIL_PREFIX
    assert _references(properties["FunctionArn"], "OnInboundEmail")
    # A stage's rule and its own rule set (used only when the region has no active one) carry its name.
    assert properties["RuleName"] == properties["OwnRuleSet"] == NAMES
    bucket_policy = _mail_bucket_policy(synthesis)
    assert any(s.get("Principal") == {"Service": "ses.amazonaws.com"} for s in _statements(bucket_policy))
    permissions = synthesis.of_type("AWS::Lambda::Permission").values()
    assert any(p["Properties"]["Principal"] == "ses.amazonaws.com" for p in permissions)

    handler = _chalice_functions(synthesis)["OnInboundEmail"]
    dead_letters = handler["Properties"]["DeadLetterQueue"]["TargetArn"]["Fn::GetAtt"][0]
    assert synthesis.resources[dead_letters]["Type"] == "AWS::SQS::Queue"


def _layer_ids(synthesis: Synthesis) -> dict[str, str]:
    """Each layer's logical id by its construct's name (TrainingLayer, EncoderRuntimeLayer, EncoderWeightsLayer)."""
    names = ("TrainingLayer", "EncoderRuntimeLayer", "EncoderWeightsLayer", "PagesLayer")
    return {
        name: layer_id
        for layer_id in synthesis.of_type("AWS::Lambda::LayerVersion")
        for name in names
        if layer_id.startswith(name)
    }


def test_training_runs_nightly_and_on_request_with_the_training_layer_alone(synthesis: Synthesis) -> None:
    functions = _chalice_functions(synthesis)
    layer_ids = _layer_ids(synthesis)
    training = _ref(layer_ids["TrainingLayer"])
    trainers = {name for name, f in functions.items() if training in f["Properties"].get("Layers", [])}
    assert trainers == {"OnJob", "NightlyRetraining"}
    assert all(functions[name]["Properties"]["Timeout"] == 900 for name in trainers)
    [nightly] = [e for e in functions["NightlyRetraining"]["Properties"]["Events"].values()]
    assert nightly["Type"] == "Schedule" and nightly["Properties"]["Schedule"] == "cron(0 3 * * ? *)"
    queues = synthesis.of_type("AWS::SQS::Queue")
    [(jobs_id, jobs)] = [(n, q) for n, q in queues.items() if q["Properties"].get("QueueName") == JOBS_QUEUE]
    assert jobs["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0] in queues
    assert jobs["Properties"]["VisibilityTimeout"] >= 6 * 900
    assert jobs_id in _as_list(functions["OnJob"]["DependsOn"])


def test_the_functions_bundle_has_every_runtime_requirement(synthesis: Synthesis) -> None:
    """`chalice package` leaves out a requirement without a wheel for Lambda's platform, silently."""
    import zipfile

    [bundle] = [p for p in synthesis.template_path.parent.glob("asset.*.zip") if zipfile.is_zipfile(p)]
    names = {name.split("/")[0] for name in zipfile.ZipFile(bundle).namelist()}
    packages = ("numpy", "pynamodb", "jinja2", "yaml", "jwt", "ulid", "holidays", "aws_lambda_powertools", "boto3")
    for package in (*packages, "botocore"):
        assert package in names, f"{package} is missing from the functions' bundle"
    # Compiled for the functions' runtime, not for the Python that synthesized.
    extensions = [n for n in zipfile.ZipFile(bundle).namelist() if n.endswith(".so") and "cpython-3" in n]
    assert extensions and all("cpython-313-" in n for n in extensions), sorted(extensions)[:5]


def test_user_pool_has_a_password_client_and_a_group_per_role(synthesis: Synthesis) -> None:
    pool_id, pool = synthesis.one("AWS::Cognito::UserPool")
    assert pool["Properties"]["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert pool["Properties"]["UserPoolName"] == f"{NAMES}-agents"
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
    assert variables[settings.TASK_QUEUE_NAME] == TASK_QUEUE
    assert variables[settings.JOBS_QUEUE_NAME] == JOBS_QUEUE
    assert variables[settings.STATE_MACHINE_PREFIX] == NAMES
    # The link secret is named, never given (it is read from Secrets Manager when first needed).
    assert variables[settings.LINK_SECRET_ID] == _ref(synthesis.one("AWS::SecretsManager::Secret")[0])
    assert "resolve:secretsmanager" not in json.dumps(synthesis.template)
    assert variables[settings.SENDER_ADDRESS] == "support@example.com"
    assert variables[settings.TABLE_NAME] == _ref(synthesis.one("AWS::DynamoDB::Table")[0])
    assert variables[settings.MAIL_BUCKET] == _ref(_mail_bucket(synthesis)[0])
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


def _granted(synthesis: Synthesis, role_id: str) -> tuple[dict[str, dict[str, Any]], set[str]]:
    attached = {
        name: policy
        for name, policy in synthesis.of_type("AWS::IAM::Policy").items()
        if _references(policy["Properties"]["Roles"], role_id)
    }
    actions = {
        action
        for policy in attached.values()
        for statement in _statements(policy)
        for action in _as_list(statement["Action"])
    }
    return attached, actions


def test_each_function_has_its_own_role_allowed_what_it_uses(synthesis: Synthesis) -> None:
    functions = _chalice_functions(synthesis)
    assert set(functions) == set(FUNCTION_GRANTS)
    role_ids = {name: f["Properties"]["Role"]["Fn::GetAtt"][0] for name, f in functions.items()}
    assert len(set(role_ids.values())) == len(functions), "one role per function"
    granted = {}
    for name, function in functions.items():
        attached, granted[name] = _granted(synthesis, role_ids[name])
        # No function starts before its permissions exist.
        assert set(attached) <= set(_as_list(function.get("DependsOn", []))), name
        # It writes its own log group, which exists before it runs.
        assert {"logs:CreateLogStream", "logs:PutLogEvents"} <= granted[name], name
        assert "logs:CreateLogGroup" not in granted[name], name
    everyone = set.union(*granted.values())
    assert everyone >= FUNCTION_ACTIONS, f"missing {sorted(FUNCTION_ACTIONS - everyone)}"
    # Only what it uses: the trainer reads no secret and starts no workflow; only the API manages agents.
    assert not {a for a in granted["OnJob"] if a.startswith(("secretsmanager:", "states:", "ses:", "cognito-idp:"))}
    signers = {name for name, actions in granted.items() if "secretsmanager:GetSecretValue" in actions}
    assert signers == {"APIHandler", "OnTaskMessage", "OnInboundEmail", "HourlyOps"}
    assert {name for name, actions in granted.items() if "cognito-idp:AdminAddUserToGroup" in actions} == {"APIHandler"}
    assert "states:StopExecution" in granted["APIHandler"]
    assert "cognito-idp:AdminGetUser" in granted["OnTaskMessage"]
    # No queue may be consumed by a function it does not feed.
    consumers = {name for name, actions in granted.items() if "sqs:ReceiveMessage" in actions}
    assert consumers == {"OnTaskMessage", "OnJob"}


def test_logs_are_kept_for_a_while_and_the_api_logs_and_throttles(synthesis: Synthesis) -> None:
    groups = synthesis.of_type("AWS::Logs::LogGroup").values()
    assert all(g["Properties"].get("RetentionInDays") for g in groups)
    names = {g["Properties"].get("LogGroupName") for g in groups}
    assert {f"/aws/lambda/{NAMES}-{name}" for name in FUNCTION_GRANTS} <= names
    _, api = synthesis.one("AWS::Serverless::Api")
    assert api["Properties"]["AccessLogSetting"]["DestinationArn"]["Fn::GetAtt"][1] == "Arn"
    settings_by_route = {(m["ResourcePath"], m["HttpMethod"]): m for m in api["Properties"]["MethodSettings"]}
    everything, intake = settings_by_route[("/*", "*")], settings_by_route[("/~1issues", "POST")]
    assert everything["LoggingLevel"] == "ERROR"
    assert intake["ThrottlingRateLimit"] < everything["ThrottlingRateLimit"]
    # Execution logs need API Gateway's CloudWatch role, set before the API's stage.
    account_id, _ = synthesis.one("AWS::ApiGateway::Account")
    assert account_id in _as_list(api["DependsOn"])


def test_data_is_protected_and_mail_expires(synthesis: Synthesis) -> None:
    _, table = synthesis.one("AWS::DynamoDB::Table")
    assert table["Properties"]["DeletionProtectionEnabled"] is True
    assert table["DeletionPolicy"] == "Retain"
    _, bucket = _mail_bucket(synthesis)
    rules = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    assert {r["Prefix"]: r["ExpirationInDays"] for r in rules} == {
        "inbound/": 365,
        "attachments/": 365,
        "uploads/": 365,
    }


def test_every_function_runs_on_a_current_python(synthesis: Synthesis) -> None:
    runtimes = {f["Properties"]["Runtime"] for f in _chalice_functions(synthesis).values()}
    runtimes |= {f["Properties"]["Runtime"] for f in synthesis.of_type("AWS::Lambda::Function").values()}
    # The CDK's own trigger provider is in Node.js; every function of ours is in Python 3.13.
    assert {r for r in runtimes if not r.startswith("nodejs")} == {"python3.13"}
    layers = synthesis.of_type("AWS::Lambda::LayerVersion").values()
    assert len(layers) == 4
    assert all(layer["Properties"]["CompatibleRuntimes"] == ["python3.13"] for layer in layers)


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


def test_the_functions_that_encode_carry_the_encoder_and_the_trainers_fetch_its_weights(synthesis: Synthesis) -> None:
    """Decision 0041: the encoder's runtime and weights in layers where text is encoded, and for the
    training functions (no room for the weights layer) the weights as an S3 zip they alone may read."""
    functions = _chalice_functions(synthesis)
    layer_ids = _layer_ids(synthesis)
    runtime, weights = _ref(layer_ids["EncoderRuntimeLayer"]), _ref(layer_ids["EncoderWeightsLayer"])
    locale = _ref(layer_ids["PagesLayer"])
    carrying = {name for name, f in functions.items() if f["Properties"].get("Layers") == [locale, runtime, weights]}
    assert carrying == {"APIHandler", "OnInboundEmail", "OnTaskMessage"}
    # Every function that may serve a page or an email has Babel and Markdown; the training ones have no room.
    speaking = {name for name, f in functions.items() if locale in f["Properties"].get("Layers", [])}
    assert speaking == set(functions) - {"OnJob", "NightlyRetraining"}
    assert functions["APIHandler"]["Properties"]["MemorySize"] == 1769
    for trainer in ("OnJob", "NightlyRetraining"):
        properties = functions[trainer]["Properties"]
        assert runtime in properties["Layers"] and weights not in properties["Layers"]
        variables = properties["Environment"]["Variables"]
        key = variables["CASEFLOW_ENCODER_WEIGHTS_KEY"]
        assert key.endswith(".zip") and variables["CASEFLOW_ENCODER_WEIGHTS_BUCKET"]
        role = properties["Role"]["Fn::GetAtt"][0]
        policies = [p for p in synthesis.of_type("AWS::IAM::Policy").values() if _references(p, role)]
        statements = [s for policy in policies for s in policy["Properties"]["PolicyDocument"]["Statement"]]
        assert any(s["Action"] == "s3:GetObject" and key in json.dumps(s["Resource"]) for s in statements)
    for other in ("APIHandler", "HourlyOps"):
        assert "CASEFLOW_ENCODER_WEIGHTS_KEY" not in functions[other]["Properties"]["Environment"]["Variables"]
