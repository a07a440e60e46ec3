"""The Caseflow stack: the Chalice app (functions and API) and the AWS resources it runs on.

What the stack creates mirrors what `chalicelib/local/provision.py` creates on moto for the local
runtime; the environment variable names come from `chalicelib.settings` and the table's keys from
`chalicelib.adapters.dynamodb.schema`, so nothing here retypes them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ses as ses
from aws_cdk import aws_ses_actions as ses_actions
from aws_cdk import aws_sqs as sqs
from aws_cdk import custom_resources as custom
from aws_cdk import triggers
from chalice.cdk import Chalice
from constructs import Construct

from chalicelib import settings
from chalicelib.adapters.cognito import group_description
from chalicelib.adapters.dynamodb import schema
from chalicelib.domain.agent_groups import Group
from chalicelib.domain.agents import SESSION_HOURS
from chalicelib.domain.assignees import ROLE, TEAM
from chalicelib.local.provision import (
    DEAD_LETTER_SUFFIX,
    INBOUND_DEAD_LETTER_QUEUE,
    MAX_RECEIVES,
    USER_POOL_CLIENT_NAME,
    USER_POOL_NAME,
)
from chalicelib.workflows.seeds import seeded_roles, seeded_teams
from infra.observability import Observability

#: The agents' roles and teams, one Cognito group each (the API reads them from the token's `cognito:groups`).
ROLES = seeded_roles()
TEAMS = seeded_teams()
STAGE = "prod"
STATE_MACHINE_PREFIX = "caseflow"
SENDER_CONTEXT_KEY = "senderAddress"
DEFAULT_SENDER_ADDRESS = "support@example.com"
#: The address customers write to; SES must receive mail for its domain (an MX record to SES).
SUPPORT_CONTEXT_KEY = "supportAddress"
#: Where outside parties' signed links point: the API's URL or a custom domain in front of it.
#: (The API's own URL cannot be passed in: the functions' environment would depend on the API
#: that depends on the functions.)
PUBLIC_URL_CONTEXT_KEY = "publicUrl"
DEFAULT_PUBLIC_URL = "https://support.example.com"
#: The agents' workspace that task emails link to (`<it>/agent/tasks/<id>`); the public URL if unset.
WORKSPACE_URL_CONTEXT_KEY = "workspaceUrl"

#: Timeout of every Chalice function but the post-deploy one.
FUNCTION_TIMEOUT = cdk.Duration.seconds(30)
#: AWS's advice for a queue that feeds a Lambda function: visibility >= 6 x the function's timeout.
QUEUE_VISIBILITY_TIMEOUT = cdk.Duration.seconds(6 * FUNCTION_TIMEOUT.to_seconds())
#: Publishing the seeded issue types creates a few state machines: more than a request's time.
PUBLISH_TIMEOUT = cdk.Duration.minutes(3)

# Logical ids that `chalice package` gives the resources of app.py (CamelCase of the Python names).
CHALICE_ROLE = "DefaultRole"
TASK_HANDLER = "OnTaskMessage"
JOB_HANDLER = "OnJob"
#: The functions that train the classifier (logical ids): they alone get the training layer.
TRAINING_FUNCTIONS = (JOB_HANDLER, "NightlyRetraining")
TRAINING_TIMEOUT = cdk.Duration.minutes(15)
TRAINING_MEMORY_MB = 3008
LAYERS_DIR = Path(__file__).resolve().parents[1] / "layers"
INBOUND_MAIL_HANDLER = "OnInboundEmail"
PUBLISH_HANDLER = "PublishIssueTypes"
CHALICE_API_URL_OUTPUT = "EndpointURL"
SERVERLESS_FUNCTION = "AWS::Serverless::Function"

#: Runs in the post-deploy trigger: invokes the Chalice function `publish_issue_types` and fails
#: the deployment if it failed (a plain asynchronous invoke or SDK call would not notice).
_INVOKE_AND_CHECK = """
import json
import os

import boto3


def handler(event, context):
    target = os.environ["TARGET_FUNCTION_ARN"]
    response = boto3.client("lambda").invoke(FunctionName=target, InvocationType="RequestResponse")
    payload = response["Payload"].read().decode("utf-8")
    if response.get("FunctionError"):
        raise RuntimeError(f"{target} failed: {payload}")
    print(payload)
    return json.loads(payload or "null")
"""


class CaseflowStack(cdk.Stack):
    """Caseflow on AWS: the single DynamoDB table, the task queue, the mail bucket, the agents'
    user pool, the workflows' role, and the Chalice app wired to all of them."""

    def __init__(self, scope: Construct, construct_id: str, *, source_dir: Path, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)
        _require_default_task_queue_name()
        sender_address = str(self.node.try_get_context(SENDER_CONTEXT_KEY) or DEFAULT_SENDER_ADDRESS)
        support_address = str(self.node.try_get_context(SUPPORT_CONTEXT_KEY) or sender_address)

        self.table = self._table()
        self.mail_bucket = self._mail_bucket()
        self.task_queue = self._task_queue()
        self.user_pool, self.user_pool_client = self._user_pool()
        self._user_groups()
        self._sender_identity(sender_address)
        self.workflow_role = self._workflow_role()
        self.link_secret = secretsmanager.Secret(
            self,
            "LinkSecret",
            description="Signs the links that outside parties use to answer Caseflow tasks",
            generate_secret_string=secretsmanager.SecretStringGenerator(password_length=48, exclude_punctuation=True),
        )

        self.jobs_queue = self._queue_with_dead_letters(
            "JobsQueue", settings.DEFAULT_JOBS_QUEUE_NAME, cdk.Duration.seconds(6 * TRAINING_TIMEOUT.to_seconds())
        )
        self.training_layer = self._training_layer()
        self.inbound_dead_letters = sqs.Queue(
            self,
            "InboundMailDeadLetterQueue",
            queue_name=INBOUND_DEAD_LETTER_QUEUE,
            retention_period=cdk.Duration.days(14),
            enforce_ssl=True,
        )

        self.api = self._chalice_app(source_dir, self._environment(sender_address, support_address))
        permissions = self._function_permissions()
        self._receive_mail(support_address)
        self._publish_issue_types_after_deploy(permissions)
        self.observability = Observability(
            self,
            "Observability",
            dead_letter_queues=[
                self.task_queue.dead_letter_queue.queue,
                self.jobs_queue.dead_letter_queue.queue,
                self.inbound_dead_letters,
            ],
            functions={function.node.id: function.ref for function in self._chalice_functions()},
            state_machine_prefix=STATE_MACHINE_PREFIX,
        )
        self._outputs()

    # --- data and messaging -------------------------------------------------------------------

    def _table(self) -> dynamodb.Table:
        """The single table, keys and GSIs from schema.py; retained when the stack goes."""
        table = dynamodb.Table(
            self,
            "Table",
            partition_key=_string_attribute(schema.PARTITION_KEY),
            sort_key=_string_attribute(schema.SORT_KEY),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=schema.TTL_ATTRIBUTE,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        for index_name, (hash_key, range_key) in schema.GLOBAL_SECONDARY_INDEXES.items():
            projection = schema.projection(index_name)
            table.add_global_secondary_index(
                index_name=index_name,
                partition_key=_string_attribute(hash_key),
                sort_key=_string_attribute(range_key),
                projection_type=dynamodb.ProjectionType(projection["ProjectionType"]),
                non_key_attributes=projection.get("NonKeyAttributes"),
            )
        return table

    def _mail_bucket(self) -> s3.Bucket:
        """Raw inbound emails (.eml) and attachments: private, encrypted, TLS only, retained."""
        return s3.Bucket(
            self,
            "MailBucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

    def _task_queue(self) -> sqs.Queue:
        """The workflows' human-step queue, with a dead-letter queue for poison messages.

        Its name is fixed: app.py binds the SQS event source to a queue *name* when imported.
        """
        return self._queue_with_dead_letters("TaskQueue", settings.DEFAULT_TASK_QUEUE_NAME, QUEUE_VISIBILITY_TIMEOUT)

    def _queue_with_dead_letters(self, construct_id: str, name: str, visibility: cdk.Duration) -> sqs.Queue:
        dead_letters = sqs.Queue(
            self,
            construct_id.replace("Queue", "DeadLetterQueue"),
            queue_name=name + DEAD_LETTER_SUFFIX,
            retention_period=cdk.Duration.days(14),
            enforce_ssl=True,
        )
        return sqs.Queue(
            self,
            construct_id,
            queue_name=name,
            visibility_timeout=visibility,
            dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=MAX_RECEIVES),
            enforce_ssl=True,
        )

    def _training_layer(self) -> lambda_.LayerVersion:
        """scikit-learn for the training functions only, pip-installed for Lambda's platform at
        synthesis (`layers/README.md`); the serving path needs numpy alone."""
        return lambda_.LayerVersion(
            self,
            "TrainingLayer",
            code=lambda_.Code.from_asset(
                str(LAYERS_DIR / "training"),
                bundling=cdk.BundlingOptions(
                    image=lambda_.Runtime.PYTHON_3_11.bundling_image,
                    command=["bash", "-c", "pip install -r requirements.txt -t /asset-output/python"],
                    local=_PipInstallForLambda(),
                ),
            ),
            compatible_runtimes=[lambda_.Runtime.PYTHON_3_11],
            description="scikit-learn and scipy for Caseflow's classifier training",
        )

    # --- people and mail ----------------------------------------------------------------------

    def _user_pool(self) -> tuple[cognito.UserPool, cognito.UserPoolClient]:
        """The agents' pool (admins create accounts) and the API's client (password sign-in)."""
        pool = cognito.UserPool(
            self,
            "UserPool",
            user_pool_name=USER_POOL_NAME,
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(username=True, email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            password_policy=cognito.PasswordPolicy(min_length=12),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            # Each agent may add an authenticator app; SMS codes would need an SNS role and a spend limit.
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        client = pool.add_client(
            "ApiClient",
            user_pool_client_name=USER_POOL_CLIENT_NAME,
            # USER_PASSWORD_AUTH; CDK always adds ALLOW_REFRESH_TOKEN_AUTH.
            auth_flows=cognito.AuthFlow(user_password=True),
            generate_secret=False,
            disable_o_auth=True,
            prevent_user_existence_errors=True,
            # A browser session lasts a working day (the desk's refresh cookie); a refresh token
            # taken from it is worth no more than that.
            refresh_token_validity=cdk.Duration.hours(SESSION_HOURS),
            enable_token_revocation=True,
        )
        return pool, client

    def _user_groups(self) -> None:
        """One group per role or team the seeds name: a user's groups are the roles the API checks.
        A team's description carries the marker that tells it from a role (decision 0028)."""
        for role in ROLES:
            kind = TEAM if role in TEAMS else ROLE
            cognito.CfnUserPoolGroup(
                self,
                "Group" + "".join(part.capitalize() for part in role.split("-")),
                user_pool_id=self.user_pool.user_pool_id,
                group_name=role,
                description=group_description(Group(role, kind, f"Caseflow agents in the {role} {kind}")),
            )

    def _sender_identity(self, sender_address: str) -> None:
        """The address Caseflow sends from. SES mails it a verification link once, on creation."""
        ses.EmailIdentity(self, "SenderIdentity", identity=ses.Identity.email(sender_address))

    def _workflow_role(self) -> iam.Role:
        """The role the issue types' state machines run as: their human steps post to the queue."""
        role = iam.Role(
            self,
            "WorkflowRole",
            assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
            description="Caseflow issue-type state machines",
        )
        self.task_queue.grant_send_messages(role)
        return role

    # --- the Chalice app ----------------------------------------------------------------------

    def _environment(self, sender_address: str, support_address: str) -> dict[str, str]:
        """The functions' environment, keyed by the names chalicelib.settings reads.

        The queue name is the literal, not `task_queue.queue_name`: `chalice package` puts these
        values into this process's os.environ before importing app.py, and app.py binds the SQS
        event source to the name it reads there, so a token would end up inside an ARN.
        """
        return {
            settings.STAGE: STAGE,
            settings.TABLE_NAME: self.table.table_name,
            settings.TASK_QUEUE_NAME: settings.DEFAULT_TASK_QUEUE_NAME,
            settings.JOBS_QUEUE_NAME: settings.DEFAULT_JOBS_QUEUE_NAME,
            settings.MAIL_BUCKET: self.mail_bucket.bucket_name,
            settings.USER_POOL_ID: self.user_pool.user_pool_id,
            settings.USER_POOL_CLIENT_ID: self.user_pool_client.user_pool_client_id,
            settings.SENDER_ADDRESS: sender_address,
            settings.SUPPORT_ADDRESS: support_address,
            settings.WORKFLOW_ROLE_ARN: self.workflow_role.role_arn,
            settings.STATE_MACHINE_PREFIX: STATE_MACHINE_PREFIX,
            # Resolved by CloudFormation at deploy time (a dynamic reference), never in the template.
            settings.LINK_SECRET: self.link_secret.secret_value.unsafe_unwrap(),
            settings.PUBLIC_URL: str(self.node.try_get_context(PUBLIC_URL_CONTEXT_KEY) or DEFAULT_PUBLIC_URL),
            settings.WORKSPACE_URL: str(
                self.node.try_get_context(WORKSPACE_URL_CONTEXT_KEY)
                or self.node.try_get_context(PUBLIC_URL_CONTEXT_KEY)
                or DEFAULT_PUBLIC_URL
            ),
        }

    def _chalice_app(self, source_dir: Path, environment: dict[str, str]) -> Chalice:
        """Package app.py with `chalice package` and include its SAM template in this stack.

        Chalice writes its package under `chalice.out/` in the working directory; it is pointed at
        the cloud assembly's directory so that synthesis leaves nothing in the source tree.
        """
        stage_config = {
            "api_gateway_stage": "api",
            "lambda_timeout": int(FUNCTION_TIMEOUT.to_seconds()),
            "lambda_memory_size": 512,
            "environment_variables": environment,
        }
        with _working_directory(Path(cdk.Stage.of(self).outdir)):
            api = Chalice(self, "Api", source_dir=str(source_dir), stage_config=stage_config)
        # Chalice reads per-function settings from .chalice/config.json only, not from stage_config.
        api.get_resource(PUBLISH_HANDLER).add_property_override("Timeout", int(PUBLISH_TIMEOUT.to_seconds()))
        # The event source mapping names the queue through an ARN built from its name, not a Ref,
        # so CloudFormation would not know to create the queue first.
        api.get_resource(TASK_HANDLER).add_resource_dependency(self.task_queue.node.default_child)
        api.get_resource(JOB_HANDLER).add_resource_dependency(self.jobs_queue.node.default_child)
        for trainer in TRAINING_FUNCTIONS:
            function = api.get_resource(trainer)
            function.add_property_override("Layers", [self.training_layer.layer_version_arn])
            function.add_property_override("Timeout", int(TRAINING_TIMEOUT.to_seconds()))
            function.add_property_override("MemorySize", TRAINING_MEMORY_MB)
        # SES invokes the inbound handler asynchronously: Lambda retries twice, then keeps the event here.
        api.get_resource(INBOUND_MAIL_HANDLER).add_property_override(
            "DeadLetterQueue", {"Type": "SQS", "TargetArn": self.inbound_dead_letters.queue_arn}
        )
        return api

    def _function_permissions(self) -> iam.Policy:
        """What the functions do on AWS, attached to the role Chalice creates for them.

        Chalice's own policy for that role covers logging and reading SQS queues (it analyses
        app.py, which makes no AWS calls itself). Each function depends on this policy, so that no
        function (the post-deploy trigger's included) runs before its permissions exist.
        """
        policy = iam.Policy(
            self,
            "FunctionPermissions",
            roles=[self.api.get_role(CHALICE_ROLE)],
            statements=[
                *self._table_statements(),
                *self._queue_statements(),
                iam.PolicyStatement(
                    actions=["sqs:SendMessage", "sqs:GetQueueUrl"],
                    resources=[self.inbound_dead_letters.queue_arn, self.jobs_queue.queue_arn],
                ),
                *self._state_machine_statements(),
                self._mail_bucket_statement(),
                iam.PolicyStatement(
                    actions=["ses:SendRawEmail", "ses:SendEmail"],
                    resources=[self.format_arn(service="ses", resource="identity", resource_name="*")],
                ),
                iam.PolicyStatement(
                    actions=[
                        "cognito-idp:InitiateAuth",
                        "cognito-idp:AdminGetUser",
                        "cognito-idp:AdminListGroupsForUser",
                        # Roles and teams (the admin API, chalicelib/adapters/cognito.py).
                        "cognito-idp:ListGroups",
                        "cognito-idp:GetGroup",
                        "cognito-idp:CreateGroup",
                        "cognito-idp:ListUsersInGroup",
                        "cognito-idp:AdminAddUserToGroup",
                        "cognito-idp:AdminRemoveUserFromGroup",
                    ],
                    resources=[self.user_pool.user_pool_arn],
                ),
            ],
        )
        for function in self._chalice_functions():
            function.add_resource_dependency(policy.node.default_child)
        return policy

    def _table_statements(self) -> list[iam.PolicyStatement]:
        """Item reads and writes (transactions included) on the table and its indexes; no Scan."""
        return [
            iam.PolicyStatement(
                actions=[
                    "dynamodb:BatchGetItem",
                    "dynamodb:BatchWriteItem",
                    "dynamodb:ConditionCheckItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:DescribeTable",
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:Query",
                    "dynamodb:UpdateItem",
                ],
                resources=[self.table.table_arn, f"{self.table.table_arn}/index/*"],
            )
        ]

    def _queue_statements(self) -> list[iam.PolicyStatement]:
        """Consume the task queue (for the event source mapping) and look up its URL."""
        return [
            iam.PolicyStatement(
                actions=[
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "sqs:ChangeMessageVisibility",
                    "sqs:GetQueueAttributes",
                    "sqs:GetQueueUrl",
                ],
                resources=[self.task_queue.queue_arn, self.jobs_queue.queue_arn],
            )
        ]

    def _state_machine_statements(self) -> list[iam.PolicyStatement]:
        """Publish the issue types' state machines, start and watch executions, answer tasks."""
        machines = self.format_arn(
            service="states",
            resource="stateMachine",
            resource_name=f"{STATE_MACHINE_PREFIX}-*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        executions = self.format_arn(
            service="states",
            resource="execution",
            resource_name=f"{STATE_MACHINE_PREFIX}-*:*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        return [
            iam.PolicyStatement(
                actions=["states:CreateStateMachine", "states:DescribeStateMachine", "states:StartExecution"],
                resources=[machines],
            ),
            iam.PolicyStatement(actions=["states:DescribeExecution"], resources=[executions]),
            # Neither listing nor task tokens can be scoped to a resource.
            iam.PolicyStatement(
                actions=[
                    "states:ListStateMachines",
                    "states:SendTaskSuccess",
                    "states:SendTaskFailure",
                    "states:SendTaskHeartbeat",
                ],
                resources=["*"],
            ),
            # CreateStateMachine hands the workflow role to Step Functions.
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self.workflow_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "states.amazonaws.com"}},
            ),
        ]

    def _mail_bucket_statement(self) -> iam.PolicyStatement:
        """Read and write raw mail and attachments."""
        return iam.PolicyStatement(
            actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"],
            resources=[self.mail_bucket.bucket_arn, self.mail_bucket.arn_for_objects("*")],
        )

    def _receive_mail(self, support_address: str) -> None:
        """SES receives mail for the support address's domain: the raw message goes to the mail
        bucket (up to 40 MB), then the inbound handler is invoked with the receipt.

        The rule names the domain, which covers the plus-addresses (`support+CF-7K3Q9@…`) that
        threading relies on; the handler quarantines mail for other addresses of the domain. A
        region keeps one active rule set, so the stack activates its own on deployment.
        """
        domain = support_address.rpartition("@")[2]
        handler = self.api.get_function(INBOUND_MAIL_HANDLER)
        # The handler is known by ARN only, so the rule's action cannot grant SES the invocation itself.
        may_invoke = lambda_.CfnPermission(
            self,
            "SesMayInvokeInboundHandler",
            action="lambda:InvokeFunction",
            function_name=handler.function_arn,
            principal="ses.amazonaws.com",
            source_account=self.account,
        )
        rule_set = ses.ReceiptRuleSet(self, "InboundMailRules", receipt_rule_set_name="caseflow-inbound")
        rule = rule_set.add_rule(
            "ToSupport",
            recipients=[domain],
            scan_enabled=True,
            tls_policy=ses.TlsPolicy.OPTIONAL,
            actions=[
                ses_actions.S3(bucket=self.mail_bucket, object_key_prefix=settings.INBOUND_MAIL_PREFIX),
                ses_actions.Lambda(function=handler, invocation_type=ses_actions.LambdaInvocationType.EVENT),
            ],
        )
        rule.node.add_dependency(may_invoke)
        activate = custom.AwsSdkCall(
            service="SES",
            action="setActiveReceiptRuleSet",
            parameters={"RuleSetName": rule_set.receipt_rule_set_name},
            physical_resource_id=custom.PhysicalResourceId.of("caseflow-inbound-active"),
        )
        custom.AwsCustomResource(
            self,
            "ActivateInboundMailRules",
            on_create=activate,
            on_update=activate,
            on_delete=custom.AwsSdkCall(service="SES", action="setActiveReceiptRuleSet", parameters={}),
            policy=custom.AwsCustomResourcePolicy.from_statements(
                [iam.PolicyStatement(actions=["ses:SetActiveReceiptRuleSet"], resources=["*"])]
            ),
        ).node.add_dependency(rule_set)

    def _chalice_functions(self) -> Iterator[cdk.CfnResource]:
        """The AWS::Serverless::Function resources of the included Chalice template."""
        for child in self.api.sam_template.node.children:
            if isinstance(child, cdk.CfnResource) and child.cfn_resource_type == SERVERLESS_FUNCTION:
                yield child

    def _publish_issue_types_after_deploy(self, permissions: iam.Policy) -> None:
        """Run `publish_issue_types` at the end of each deployment that changes the app.

        `triggers.Trigger` needs a `lambda_.Function` it owns (it invokes the function's current
        version), and Chalice's functions are only known by ARN; so a small trigger function
        invokes Chalice's. It carries the hash of the app's code asset, which makes it a new
        version, and so run again, whenever the app's code or the issue type seeds change.
        """
        publish = self.api.get_function(PUBLISH_HANDLER)
        code_asset = self.api.node.find_child("ChaliceAppCode")
        trigger = triggers.TriggerFunction(
            self,
            "PublishIssueTypesTrigger",
            runtime=lambda_.Runtime.PYTHON_3_11,
            handler="index.handler",
            code=lambda_.Code.from_inline(_INVOKE_AND_CHECK),
            timeout=PUBLISH_TIMEOUT.plus(cdk.Duration.seconds(30)),
            environment={"TARGET_FUNCTION_ARN": publish.function_arn, "APP_CODE_HASH": code_asset.asset_hash},
            execute_after=[self.api, permissions],
        )
        publish.grant_invoke(trigger)

    def _outputs(self) -> None:
        api_url = self.api.sam_template.get_output(CHALICE_API_URL_OUTPUT).value
        cdk.CfnOutput(self, "ApiUrl", value=api_url, description="Base URL of the Caseflow API")
        cdk.CfnOutput(self, "UserPoolId", value=self.user_pool.user_pool_id)
        cdk.CfnOutput(self, "UserPoolClientId", value=self.user_pool_client.user_pool_client_id)


@jsii.implements(cdk.ILocalBundling)
class _PipInstallForLambda:
    """Builds the training layer with this machine's pip, for Lambda's platform (no Docker needed).

    numpy is left out: every function's bundle already has the same pinned numpy (requirements.txt),
    and a function with its layers must stay under 250 MB unzipped.
    """

    def try_bundle(self, output_dir: str, *, image: Any = None, **options: Any) -> bool:
        target = Path(output_dir) / "python"
        subprocess.run(
            [
                sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                "--target", str(target), "--only-binary=:all:", "--platform", "manylinux2014_x86_64",
                "--implementation", "cp", "--python-version", "3.11",
                "-r", str(LAYERS_DIR / "training" / "requirements.txt"),
            ],
            check=True,
        )
        for path in [*target.glob("numpy*"), *target.rglob("tests"), *target.rglob("__pycache__")]:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
        return True


def _string_attribute(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


def _require_default_task_queue_name() -> None:
    """Fail early if this shell sets another task queue name.

    app.py binds the SQS event source to the name in the environment when imported, and the
    queue this stack creates has the default name (see `_environment`).
    """
    name = os.environ.get(settings.TASK_QUEUE_NAME, settings.DEFAULT_TASK_QUEUE_NAME)
    if name != settings.DEFAULT_TASK_QUEUE_NAME:
        raise ValueError(
            f"{settings.TASK_QUEUE_NAME}={name!r} is set; unset it to synthesize "
            f"(the stack's queue is {settings.DEFAULT_TASK_QUEUE_NAME!r})"
        )


@contextlib.contextmanager
def _working_directory(path: Path) -> Iterator[None]:
    """Change the working directory for the duration of the block."""
    previous = Path.cwd()
    path.mkdir(parents=True, exist_ok=True)
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)
