"""cdk-nag's AwsSolutions and Serverless packs over what CloudFormation really creates.

The synthesized template declares the Chalice functions and API with the SAM transform
(`AWS::Serverless::Function`, `AWS::Serverless::Api`), which cdk-nag does not see through. So the
template is first expanded as CloudFormation would (aws-sam-translator), then included into a
fresh stack (`CfnInclude`) and checked there. What a finding asks for and Caseflow does not do on
purpose is in SUPPRESSIONS, each with its reason; a suppression that no longer matches anything
is stale and `make nag` (and tests/infra/test_nag.py) say so.

Run: `make nag`, or `python -m infra.nag [TEMPLATE.json ...]` after `make synth`.
"""

from __future__ import annotations

import copy
import json
import re
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The stack and construct the expanded template is included under: finding paths start with it.
_NAG_STACK = "Nag"
_INCLUDED = "Template"
#: Lets synthesis finish and write validation-report.json instead of printing it and raising.
_FAIL_ON_VALIDATION_ERRORS = "@aws-cdk/core:failSynthOnValidationErrors"
DEFAULT_TEMPLATES = Path(__file__).resolve().parent / "cdk.out"


@dataclass(frozen=True)
class Suppression:
    """A finding Caseflow accepts: `rule` and `resource` match a finding's rule id (with its
    `[finding]` part, if any) and logical id; `*` stands for any run of characters."""

    rule: str
    resource: str
    reason: str

    def matches(self, finding: Finding) -> bool:
        return _glob(self.rule).fullmatch(finding.rule) is not None and (
            _glob(self.resource).fullmatch(finding.resource) is not None
        )


@dataclass(frozen=True)
class Finding:
    """One rule one resource breaks: `level` is "error" or "warning"; `resource` is the logical
    id in the expanded template (SAM's generated ones included, e.g. `RestAPIapiStage`)."""

    pack: str
    rule: str
    level: str
    resource: str
    description: str
    suppressed_by: Suppression | None = None

    def __str__(self) -> str:
        state = f"suppressed: {self.suppressed_by.reason}" if self.suppressed_by else self.description
        return f"{self.level.upper():7} {self.rule} {self.resource}: {state}"


def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")))


_SYNC_FUNCTIONS = ("APIHandler", "OnTaskMessage", "OnJob", "PublishIssueTypes")
_SCHEDULED_FUNCTIONS = ("HourlyOps", "NightlyRetraining")
_DEPLOY_TIME_FUNCTIONS = ("InboundMailRuleManager*", "PublishIssueTypesTrigger*", "AWSCDKTrigger*")
_PYTHON_FUNCTIONS = (
    *_SYNC_FUNCTIONS,
    *_SCHEDULED_FUNCTIONS,
    "OnInboundEmail",
    "InboundMailRuleManager*",
    "PublishIssueTypesTrigger*",
)
_RUNTIME = (
    "python3.13 is the newest runtime the pinned numpy 2.2 and the training layer's scipy and "
    "scikit-learn ship wheels for (decision 0035); it is a supported Lambda runtime"
)
_NO_TRACING = (
    "No X-Ray: every log line and EMF metric carries the issue id (Powertools), which is how ops "
    "follow an issue across functions; tracing would add a cost per request for no new question answered"
)

#: Every finding Caseflow accepts, with why. Keep each as narrow as the finding it answers.
SUPPRESSIONS: tuple[Suppression, ...] = (
    # --- IAM: wildcards that name a family of resources made at run time -----------------------
    Suppression(
        "AwsSolutions-IAM5[Resource::<*Logs*.Arn>:log-stream:*]",
        "FunctionRoles*",
        "Lambda names each log stream when it starts an instance; the grant is to the function's own log group",
    ),
    Suppression(
        "AwsSolutions-IAM5[Resource::<Table*.Arn>/index/*]",
        "FunctionRoles*",
        "The table's own global secondary indexes (schema.py), queried by name; no other table",
    ),
    Suppression(
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:identity/*]",
        "FunctionRoles*",
        "SES checks a send against the sender's identity, verified by hand outside the stack (README); "
        "the stack cannot name it, and the grant stays within this account and region",
    ),
    Suppression(
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:*:caseflow-*]",
        "FunctionRoles*",
        "Each published version of an issue type gets its own state machine at run time; the prefix "
        "limits the grant to this stage's machines and their executions",
    ),
    Suppression(
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:caseflow-*:*]",
        "FunctionRoles*",
        "Executions are named at run time, one per issue; the prefix limits the grant to this stage's",
    ),
    Suppression(
        "AwsSolutions-IAM5[Resource::*]",
        "FunctionRoles*",
        "Step Functions' task-token calls (SendTask*) and ListStateMachines take no resource in IAM",
    ),
    Suppression(
        "AwsSolutions-IAM5[Resource::*]",
        "InboundMailRuleManagerServiceRoleDefaultPolicy*",
        "SES's receipt rule and rule set actions support no resource-level permissions",
    ),
    Suppression(
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:*]",
        "ApiGatewayLoggingRole*",
        "API Gateway's account-wide logging role: API Gateway names the execution log groups itself",
    ),
    Suppression(
        "AwsSolutions-IAM5[Resource::<*.Arn>:*]",
        "*Trigger*",
        "The CDK's grant to invoke a function includes its versions (`:*`); the trigger invokes one version",
    ),
    Suppression(
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
        "*",
        "Only the CDK's deploy-time helpers (the post-deploy trigger, the receipt-rule manager) use it, "
        "to write their logs; they run during deployments only",
    ),
    # --- Lambda ------------------------------------------------------------------------------------
    *(Suppression("AwsSolutions-L1", f, _RUNTIME) for f in _PYTHON_FUNCTIONS),
    *(Suppression("Serverless-LambdaLatestVersion", f, _RUNTIME) for f in _PYTHON_FUNCTIONS),
    *(Suppression("Serverless-LambdaTracing", f, _NO_TRACING) for f in (*_PYTHON_FUNCTIONS, "AWSCDKTrigger*")),
    Suppression("Serverless-APIGWXrayEnabled", "RestAPIapiStage", _NO_TRACING),
    *(
        Suppression(
            "Serverless-LambdaDLQ",
            f,
            "Invoked synchronously (API Gateway, or an SQS event source whose queue has its own dead-letter "
            "queue): a Lambda dead-letter queue only catches asynchronous invocations",
        )
        for f in _SYNC_FUNCTIONS
    ),
    *(
        Suppression(
            "Serverless-LambdaDLQ",
            f,
            "Run by its schedule, with an event that carries nothing but the time: a dead-letter queue "
            "would keep nothing worth replaying; a failure raises the function's Errors alarm",
        )
        for f in _SCHEDULED_FUNCTIONS
    ),
    *(
        Suppression(
            "Serverless-LambdaDLQ",
            f,
            "Runs at deploy time for CloudFormation, which fails the deployment when it gets no answer",
        )
        for f in _DEPLOY_TIME_FUNCTIONS
    ),
    *(
        Suppression(
            "Serverless-EventBusDLQ",
            f"{f}{f}Event",
            "A schedule's event carries nothing but the time: nothing to replay; a failure raises the Errors alarm",
        )
        for f in _SCHEDULED_FUNCTIONS
    ),
    Suppression(
        "Serverless-EventBusDLQ",
        "ObservabilityFailedExecutions*",
        "Copies a failed execution's notice to the ops topic; the execution itself stays listed as failed "
        "in Step Functions and counted by the ExecutionsFailed alarm",
    ),
    Suppression(
        "Serverless-LambdaEventSourceMappingDestination",
        "*SqsEventSource",
        "An SQS event source takes no on-failure destination: the queue's redrive policy sends a message "
        "that failed 5 times to its dead-letter queue, which has an alarm",
    ),
    Suppression(
        "Serverless-SQSRedrivePolicy",
        "*DeadLetterQueue*",
        "A dead-letter queue itself: its messages wait there for a person (and raise an alarm)",
    ),
    # --- data, people, API -------------------------------------------------------------------------
    Suppression(
        "AwsSolutions-SMG4",
        "LinkSecret*",
        "Rotating the link secret would void every status and task link already sent (valid up to 90 "
        "days); it is replaced by hand if it leaks (README), and warm functions pick it up within the hour",
    ),
    Suppression(
        "AwsSolutions-COG2",
        "UserPool*",
        "MFA is optional: each agent enrols an authenticator app from the workspace's account page; "
        "requiring it would lock out every new agent before they could enrol",
    ),
    Suppression(
        "AwsSolutions-COG8",
        "UserPool*",
        "Essentials tier: the Plus tier's threat protection costs more per agent each month; sign-in "
        "already locks out repeated failures (Cognito) and agents may add a second factor",
    ),
    Suppression(
        "AwsSolutions-APIG2",
        "RestAPI",
        "Requests are validated by the application, which answers 400 naming the field in error "
        "(one place for every route, tested by the schemathesis suite); API Gateway's validator could not say more",
    ),
    Suppression(
        "AwsSolutions-APIG3",
        "RestAPIapiStage",
        "No WAF by default: the stage and the public intake are throttled and the forms rate-limit per "
        "address and email; a web ACL costs a monthly fee plus per request: add one when abuse shows",
    ),
)


def expand(template: dict[str, Any], region: str = "us-east-1") -> dict[str, Any]:
    """The template as CloudFormation will create it: the SAM transform applied offline."""
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator
    from samtranslator.utils.py27hash_fix import to_py27_compatible_template, undo_mark_unicode_str_in_template

    if "AWS::Serverless-2016-10-31" not in _transforms(template):
        return copy.deepcopy(template)
    sam = copy.deepcopy(template)
    parameter_values: dict[str, Any] = {}
    to_py27_compatible_template(sam, parameter_values)
    translator = Translator(None, Parser(), boto_session=boto3.Session(region_name=region))
    # Managed policies by name would be looked up in IAM; the stack names none, so nothing resolves.
    expanded = translator.translate(sam, parameter_values=parameter_values, get_managed_policy_map=dict)
    return undo_mark_unicode_str_in_template(expanded)


def _transforms(template: dict[str, Any]) -> list[str]:
    declared = template.get("Transform", [])
    return declared if isinstance(declared, list) else [declared]


def raw_findings(expanded: dict[str, Any]) -> list[Finding]:
    """Every finding of the AwsSolutions and Serverless packs on a plain CloudFormation template."""
    import aws_cdk as cdk
    from aws_cdk import cloudformation_include
    from cdk_nag import AwsSolutionsChecks, ServerlessChecks

    with tempfile.TemporaryDirectory(prefix="caseflow-nag-") as workdir:
        template_file = Path(workdir) / "expanded.template.json"
        template_file.write_text(json.dumps(expanded))
        outdir = Path(workdir) / "cdk.out"
        app = cdk.App(outdir=str(outdir), context={_FAIL_ON_VALIDATION_ERRORS: False})
        # The included template brings its own bootstrap-version parameter and rule.
        synthesizer = cdk.DefaultStackSynthesizer(generate_bootstrap_version_rule=False)
        stack = cdk.Stack(app, _NAG_STACK, synthesizer=synthesizer)
        cloudformation_include.CfnInclude(stack, _INCLUDED, template_file=str(template_file))
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
        app.synth()
        report = json.loads((outdir / "validation-report.json").read_text())
    prefix = f"{_NAG_STACK}/{_INCLUDED}/"
    return sorted(
        (
            Finding(
                pack=plugin["pluginName"],
                rule=violation["ruleName"],
                level=violation["severity"],
                resource=construct["constructPath"].removeprefix(prefix).split("/")[0],
                description=violation["description"],
            )
            for plugin in report["pluginReports"]
            for violation in plugin["violations"]
            for construct in violation["violatingConstructs"]
        ),
        key=lambda f: (f.level, f.pack, f.rule, f.resource),
    )


def findings(template: dict[str, Any], suppressions: Sequence[Suppression] = SUPPRESSIONS) -> list[Finding]:
    """cdk-nag's findings on a synthesized template, each marked with the suppression it falls
    under, if any."""
    return [
        Finding(
            f.pack, f.rule, f.level, f.resource, f.description, next((s for s in suppressions if s.matches(f)), None)
        )
        for f in raw_findings(expand(template))
    ]


def stale(found: Sequence[Finding], suppressions: Sequence[Suppression] = SUPPRESSIONS) -> list[Suppression]:
    """The suppressions that match none of the findings: what they answered is gone."""
    return [s for s in suppressions if not any(s.matches(f) for f in found)]


def report(found: Sequence[Finding], suppressions: Sequence[Suppression] = SUPPRESSIONS) -> str:
    """A printable account: unsuppressed findings, then suppressed ones, then stale suppressions."""
    open_ = [f for f in found if f.suppressed_by is None]
    errors = sum(f.level == "error" for f in open_)
    lines = [str(f) for f in open_]
    lines += [str(f) for f in found if f.suppressed_by is not None]
    lines += [f"STALE   {s.rule} {s.resource}: matches nothing ({s.reason})" for s in stale(found, suppressions)]
    lines.append(
        f"cdk-nag: {errors} errors and {len(open_) - errors} warnings unsuppressed, "
        f"{len(found) - len(open_)} suppressed, {len(stale(found, suppressions))} stale suppressions"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Prints the report for each template given (default: infra/cdk.out/*.template.json); fails
    on an unsuppressed error or a stale suppression."""
    paths = [Path(p) for p in (sys.argv[1:] if argv is None else argv)] or sorted(
        DEFAULT_TEMPLATES.glob("*.template.json")
    )
    if not paths:
        print(f"No template in {DEFAULT_TEMPLATES}: run `make synth` first", file=sys.stderr)
        return 2
    failed = False
    for path in paths:
        found = findings(json.loads(path.read_text()))
        print(f"{path}:\n{report(found)}")
        failed |= any(f.level == "error" and f.suppressed_by is None for f in found) or bool(stale(found))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
