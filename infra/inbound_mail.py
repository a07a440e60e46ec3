"""SES receives the support address's mail: a receipt rule stores it in the mail bucket, then
invokes the inbound handler.

A region has at most one active receipt rule set, and other systems of the account may already
receive mail through it. So the rule goes into the active set when there is one, and only when
there is none does Caseflow create its own set and activate it. That choice is made at deploy time,
by a small custom resource (`_RULE_HANDLER`), which also removes exactly what it added on delete.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

#: Runs at deploy: puts the rule into the active rule set, or into a new one it activates.
#: The physical id is "<rule set>/<rule>/<own|shared>", so an update or delete knows what it made.
_RULE_HANDLER = """
import json

import boto3
import cfnresponse


def _rule(props):
    actions = [
        {"S3Action": {"BucketName": props["Bucket"], "ObjectKeyPrefix": props["Prefix"]}},
        {"LambdaAction": {"FunctionArn": props["FunctionArn"], "InvocationType": "Event"}},
    ]
    return {
        "Name": props["RuleName"], "Enabled": True, "TlsPolicy": "Optional", "ScanEnabled": True,
        "Recipients": [props["Domain"]], "Actions": actions,
    }


def _add(ses, props):
    active = ses.describe_active_receipt_rule_set().get("Metadata")
    if active:
        rule_set, own = active["Name"], "shared"
    else:
        rule_set, own = props["OwnRuleSet"], "own"
        ses.create_receipt_rule_set(RuleSetName=rule_set)
    ses.create_receipt_rule(RuleSetName=rule_set, Rule=_rule(props))
    if own == "own":
        ses.set_active_receipt_rule_set(RuleSetName=rule_set)
    return f"{rule_set}/{props['RuleName']}/{own}"


def _remove(ses, physical_id):
    parts = physical_id.split("/")
    if len(parts) != 3:
        return
    rule_set, rule, own = parts
    try:
        ses.delete_receipt_rule(RuleSetName=rule_set, RuleName=rule)
    except ses.exceptions.RuleSetDoesNotExistException:
        return
    if own == "own":
        active = ses.describe_active_receipt_rule_set().get("Metadata") or {}
        if active.get("Name") == rule_set:
            ses.set_active_receipt_rule_set()
        ses.delete_receipt_rule_set(RuleSetName=rule_set)


def handler(event, context):
    print(json.dumps({k: v for k, v in event.items() if k != "ResponseURL"}))
    ses = boto3.client("ses")
    physical_id = event.get("PhysicalResourceId", "none")
    try:
        if event["RequestType"] == "Create":
            physical_id = _add(ses, event["ResourceProperties"])
        elif event["RequestType"] == "Update":
            rule_set, old_name, _ = physical_id.split("/")
            props = event["ResourceProperties"]
            if old_name == props["RuleName"]:
                ses.update_receipt_rule(RuleSetName=rule_set, Rule=_rule(props))
            else:
                physical_id = _add(ses, props)
        else:
            _remove(ses, physical_id)
        cfnresponse.send(event, context, cfnresponse.SUCCESS, {}, physical_id)
    except Exception as exc:
        print(f"failed: {exc!r}")
        cfnresponse.send(event, context, cfnresponse.FAILED, {"Error": str(exc)}, physical_id, reason=str(exc))
"""


class InboundMail(Construct):
    """The receipt rule for `domain` (covering the plus-addresses threading uses: the handler
    quarantines mail for other addresses of the domain), storing mail under `prefix` (up to 40 MB)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        domain: str,
        bucket: s3.IBucket,
        prefix: str,
        handler_arn: str,
        name: str,
        retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        # SES's permission to write to the bucket and invoke the handler, for this account's rules only.
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("ses.amazonaws.com")],
                actions=["s3:PutObject"],
                resources=[bucket.arn_for_objects(f"{prefix}*")],
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            )
        )
        may_invoke = lambda_.CfnPermission(
            self,
            "SesMayInvokeHandler",
            action="lambda:InvokeFunction",
            function_name=handler_arn,
            principal="ses.amazonaws.com",
            source_account=stack.account,
        )
        log_group = logs.LogGroup(self, "RuleManagerLogs", retention=retention)
        manager = lambda_.Function(
            self,
            "RuleManager",
            runtime=lambda_.Runtime.PYTHON_3_13,
            handler="index.handler",
            code=lambda_.Code.from_inline(_RULE_HANDLER),
            timeout=cdk.Duration.seconds(60),
            memory_size=128,
            log_group=log_group,
            description="Adds Caseflow's receipt rule to the region's active SES rule set",
        )
        manager.add_to_role_policy(
            iam.PolicyStatement(
                actions=[
                    "ses:DescribeActiveReceiptRuleSet",
                    "ses:CreateReceiptRuleSet",
                    "ses:DeleteReceiptRuleSet",
                    "ses:SetActiveReceiptRuleSet",
                    "ses:CreateReceiptRule",
                    "ses:UpdateReceiptRule",
                    "ses:DeleteReceiptRule",
                ],
                # SES's receipt rule actions take no resource-level permissions.
                resources=["*"],
            )
        )
        rule = cdk.CustomResource(
            self,
            "Rule",
            service_token=manager.function_arn,
            resource_type="Custom::SesReceiptRule",
            properties={
                "RuleName": name,
                "OwnRuleSet": name,
                "Domain": domain,
                "Bucket": bucket.bucket_name,
                "Prefix": prefix,
                "FunctionArn": handler_arn,
            },
        )
        rule.node.add_dependency(may_invoke)
        if bucket.policy is not None:
            rule.node.add_dependency(bucket.policy)
