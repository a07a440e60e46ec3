"""One IAM role per Chalice function, each allowed what that function's code does and no more.

`FUNCTION_GRANTS` says, per function (by the logical id `chalice package` gives it), which of the
stack's capabilities it uses; `tests/infra/test_permissions.py` checks every AWS call the test
suite makes against the role of the function that made it, so a grant missing here fails a test
rather than a deployment.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct


class Grant(enum.Enum):
    """What a function may do, in the stack's words."""

    TABLE = "read and write items of the table and its indexes (no Scan)"
    MAIL_BUCKET = "read and write raw mail, attachments and models in the mail bucket"
    CONSUME_TASKS = "receive the task queue's messages (its event source mapping)"
    CONSUME_JOBS = "receive the jobs queue's messages (its event source mapping)"
    SEND_JOBS = "queue a job (a training run on request)"
    RUN_WORKFLOWS = "start, stop and watch executions, answer their task tokens"
    PUBLISH_WORKFLOWS = "create and update the issue types' state machines, handing them the workflow role"
    SEND_MAIL = "send email through SES"
    READ_AGENTS = "look up agents, their groups and the groups' members"
    MANAGE_AGENTS = "sign agents in and manage groups and memberships"
    SIGN_LINKS = "read the link secret"
    INBOUND_DEAD_LETTERS = "keep SES events the inbound handler failed on (Lambda's dead-letter queue)"
    READ_ENCODER_WEIGHTS = "read the sentence encoder's weights from S3 (functions without the weights layer)"


_WORKING = {Grant.TABLE, Grant.RUN_WORKFLOWS, Grant.SEND_MAIL, Grant.READ_AGENTS, Grant.SIGN_LINKS}

#: What each Chalice function uses (logical ids of app.py's functions).
FUNCTION_GRANTS: Mapping[str, frozenset[Grant]] = {
    "APIHandler": frozenset(
        _WORKING | {Grant.MAIL_BUCKET, Grant.SEND_JOBS, Grant.PUBLISH_WORKFLOWS, Grant.MANAGE_AGENTS}
    ),
    "OnTaskMessage": frozenset(_WORKING | {Grant.CONSUME_TASKS, Grant.MAIL_BUCKET, Grant.SEND_JOBS}),
    "OnInboundEmail": frozenset(_WORKING | {Grant.MAIL_BUCKET, Grant.SEND_JOBS, Grant.INBOUND_DEAD_LETTERS}),
    "OnJob": frozenset({Grant.TABLE, Grant.MAIL_BUCKET, Grant.CONSUME_JOBS, Grant.READ_ENCODER_WEIGHTS}),
    "NightlyRetraining": frozenset({Grant.TABLE, Grant.MAIL_BUCKET, Grant.SEND_JOBS, Grant.READ_ENCODER_WEIGHTS}),
    "HourlyOps": frozenset(_WORKING),
    "PublishIssueTypes": frozenset({Grant.TABLE, Grant.PUBLISH_WORKFLOWS, Grant.SEND_JOBS}),
}

_TABLE_ACTIONS = [
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
]
_CONSUME_ACTIONS = [
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
]
_READ_AGENTS_ACTIONS = [
    "cognito-idp:AdminGetUser",
    "cognito-idp:AdminListGroupsForUser",
    "cognito-idp:ListUsersInGroup",
    "cognito-idp:ListGroups",
    "cognito-idp:GetGroup",
]
_MANAGE_AGENTS_ACTIONS = [
    "cognito-idp:InitiateAuth",
    "cognito-idp:RespondToAuthChallenge",
    "cognito-idp:CreateGroup",
    "cognito-idp:AdminAddUserToGroup",
    "cognito-idp:AdminRemoveUserFromGroup",
]


@dataclass(frozen=True)
class Resources:
    """What the functions work on."""

    table: dynamodb.ITable
    mail_bucket: s3.IBucket
    task_queue: sqs.IQueue
    jobs_queue: sqs.IQueue
    inbound_dead_letters: sqs.IQueue
    user_pool: cognito.IUserPool
    link_secret: secretsmanager.ISecret
    workflow_role: iam.IRole
    state_machine_prefix: str
    #: The encoder's weights zip (decision 0041): its object alone may be read.
    encoder_weights: s3_assets.Asset


class FunctionRoles(Construct):
    """A role per function in FUNCTION_GRANTS, each with one policy (`policies`)."""

    def __init__(self, scope: Construct, construct_id: str, *, resources: Resources):
        super().__init__(scope, construct_id)
        self._resources = resources
        self.roles: dict[str, iam.Role] = {}
        self.policies: dict[str, iam.Policy] = {}
        for function, grants in FUNCTION_GRANTS.items():
            role = iam.Role(
                self,
                function,
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                description=f"Caseflow's {function} function",
            )
            policy = iam.Policy(self, f"{function}Permissions", roles=[role], statements=self._statements(grants))
            self.roles[function] = role
            self.policies[function] = policy

    def log_to(self, function: str, log_group: logs.ILogGroup) -> None:
        """Let the function write its own log group, and no other."""
        self.policies[function].add_statements(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn, f"{log_group.log_group_arn}:log-stream:*"],
            )
        )

    def _statements(self, grants: frozenset[Grant]) -> list[iam.PolicyStatement]:
        r = self._resources
        statements: list[iam.PolicyStatement] = []
        if Grant.TABLE in grants:
            statements.append(
                iam.PolicyStatement(
                    actions=_TABLE_ACTIONS, resources=[r.table.table_arn, f"{r.table.table_arn}/index/*"]
                )
            )
        if Grant.MAIL_BUCKET in grants:
            statements.append(
                iam.PolicyStatement(
                    actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"],
                    resources=[r.mail_bucket.bucket_arn, r.mail_bucket.arn_for_objects("*")],
                )
            )
        if Grant.CONSUME_TASKS in grants:
            statements.append(iam.PolicyStatement(actions=_CONSUME_ACTIONS, resources=[r.task_queue.queue_arn]))
        if Grant.CONSUME_JOBS in grants:
            statements.append(iam.PolicyStatement(actions=_CONSUME_ACTIONS, resources=[r.jobs_queue.queue_arn]))
        if Grant.SEND_JOBS in grants:
            statements.append(
                iam.PolicyStatement(actions=["sqs:SendMessage", "sqs:GetQueueUrl"], resources=[r.jobs_queue.queue_arn])
            )
        if Grant.INBOUND_DEAD_LETTERS in grants:
            statements.append(
                iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[r.inbound_dead_letters.queue_arn])
            )
        if Grant.READ_ENCODER_WEIGHTS in grants:
            weights = r.encoder_weights
            statements.append(
                iam.PolicyStatement(
                    actions=["s3:GetObject"], resources=[weights.bucket.arn_for_objects(weights.s3_object_key)]
                )
            )
        if Grant.RUN_WORKFLOWS in grants:
            statements.extend(self._run_workflows())
        if Grant.PUBLISH_WORKFLOWS in grants:
            statements.extend(self._publish_workflows())
        if Grant.SEND_MAIL in grants:
            statements.append(
                iam.PolicyStatement(
                    actions=["ses:SendRawEmail", "ses:SendEmail"],
                    resources=[cdk.Stack.of(self).format_arn(service="ses", resource="identity", resource_name="*")],
                )
            )
        if Grant.READ_AGENTS in grants or Grant.MANAGE_AGENTS in grants:
            actions = list(_READ_AGENTS_ACTIONS)
            if Grant.MANAGE_AGENTS in grants:
                actions += _MANAGE_AGENTS_ACTIONS
            statements.append(iam.PolicyStatement(actions=actions, resources=[r.user_pool.user_pool_arn]))
        if Grant.SIGN_LINKS in grants:
            statements.append(
                iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=[r.link_secret.secret_arn])
            )
        return statements

    def _machines(self) -> str:
        return cdk.Stack.of(self).format_arn(
            service="states",
            resource="stateMachine",
            resource_name=f"{self._resources.state_machine_prefix}-*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )

    def _executions(self) -> str:
        return cdk.Stack.of(self).format_arn(
            service="states",
            resource="execution",
            resource_name=f"{self._resources.state_machine_prefix}-*:*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )

    def _run_workflows(self) -> list[iam.PolicyStatement]:
        return [
            iam.PolicyStatement(
                actions=["states:StartExecution", "states:DescribeStateMachine"], resources=[self._machines()]
            ),
            iam.PolicyStatement(
                actions=["states:DescribeExecution", "states:StopExecution", "states:GetExecutionHistory"],
                resources=[self._executions()],
            ),
            # Task tokens and listing name no resource IAM could scope them to.
            iam.PolicyStatement(
                actions=[
                    "states:ListStateMachines",
                    "states:SendTaskSuccess",
                    "states:SendTaskFailure",
                    "states:SendTaskHeartbeat",
                ],
                resources=["*"],
            ),
        ]

    def _publish_workflows(self) -> list[iam.PolicyStatement]:
        return [
            iam.PolicyStatement(
                actions=[
                    "states:CreateStateMachine",
                    "states:UpdateStateMachine",
                    "states:DescribeStateMachine",
                    "states:TagResource",
                ],
                resources=[self._machines()],
            ),
            iam.PolicyStatement(actions=["states:ListStateMachines"], resources=["*"]),
            # The compiled workflows name the task queue by URL, looked up when publishing.
            iam.PolicyStatement(actions=["sqs:GetQueueUrl"], resources=[self._resources.task_queue.queue_arn]),
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self._resources.workflow_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "states.amazonaws.com"}},
            ),
        ]
