"""AWS calls per issue, by operation and by function, and what they mean for quotas and cost.

    python -m bench.aws_calls_per_issue [--issues 20] [--timeout SECONDS]

Drives `--issues` issues of the seeded types (cycling through bench.transitions' types and branch
variants) through their whole lives on moto in-process, with `bench.transitions.drive`: filed,
every task completed by a demo agent as it opens, the customer answering when a step waits for
them. `chalicelib.local.aws_calls.AwsCallRecorder` records every AWS call and the Chalice function
(or the workflow role, for the calls Step Functions makes) that made it. Counted per issue:

- AWS calls by "service:Operation" and by function, the workflow's own SQS messages included;
- Lambda invocations by function: each HTTP request the issue's life needs is one of the API's,
  each task-queue message one of the queue handler's (plus its event source's receive and delete);
- emails (SES bills and throttles each recipient) and state transitions (from the execution's history).

Not counted: the driver's own look-ups (polling the issue as an agent, sign-ins, reading the
execution), which stand in for agents' browsing; SLA timers (tasks are answered at once).

From these counts it prints each rate-limited call's rate at 10 and 100 issues a second against its
default quota (the table QUOTAS: us-east-1, with its source), and the cost per 10,000 issues at the
list prices of bench.cost_model plus Secrets Manager's. Counts are stable between runs; durations are
moto's and only bound the Lambda compute, which is priced at the larger of them and 100 ms.
"""

from __future__ import annotations

import argparse
import io
import itertools
import os
import statistics
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from bench.cost_model import (
    API_GATEWAY_REST_PER_1M_REQUESTS,
    CLOUDWATCH_LOGS_PER_GB,
    DYNAMODB_PER_1M_RRU,
    DYNAMODB_PER_1M_WRU,
    DYNAMODB_READS,
    DYNAMODB_WRITES,
    FUNCTION_MEMORY_MB,
    GB,
    LAMBDA_MEMORY_MB,
    LAMBDA_MS_PER_INVOCATION,
    LAMBDA_PLATFORM_LOG_BYTES,
    S3_FREE,
    S3_PER_1K_GET,
    S3_PER_1K_PUT,
    S3_PUT_CLASS,
    SES_PER_1K_EMAILS,
    SQS_PER_1M_REQUESTS,
    STEP_FUNCTIONS_PER_1K_TRANSITIONS,
    lambda_cost,
)
from bench.transitions import Run, drive, planned_runs
from harness import InProcess, in_process

# "AWS Secrets Manager Pricing" (us-east-1, as assumed on 2026-12-06, not fetched): per 10,000 API
# calls, and per secret a month. The other prices are bench.cost_model's (2026-11-23).
SECRETS_MANAGER_PER_10K_CALLS = 0.05
SECRETS_MANAGER_PER_SECRET_MONTH = 0.40
ISSUES = 10_000


@dataclass(frozen=True)
class Quota:
    """A default per-account, per-region rate quota that some calls per issue draw on."""

    name: str
    per_second: float
    #: What draws on it: "service:Operation" calls, or one of the counts EMAILS, TRANSITIONS, API_REQUESTS.
    draws: tuple[str, ...]
    note: str


EMAILS, TRANSITIONS, API_REQUESTS = "emails (recipients)", "state transitions", "API requests"
#: Default quotas in us-east-1 (also us-west-2 and eu-west-1 for Step Functions), as documented on
#: 2026-12-06: "Step Functions service quotas" (Developer Guide), "Quotas in Amazon Cognito"
#: (user pools API operation categories), "Service quotas in Amazon SES", "Amazon API Gateway
#: quotas". Refill rates, not bucket sizes: what holds up for more than a burst.
QUOTAS = (
    Quota("SES sending, sandbox", 1, (EMAILS,), "also 200 a day; verified recipients only"),
    Quota("SES sending, new production account", 14, (EMAILS,), "raised on request (Service Quotas)"),
    Quota("Cognito UserList", 30, ("cognito-idp:ListUsersInGroup", "cognito-idp:ListUsers"), "not adjustable"),
    Quota("Cognito UserResourceRead", 50, ("cognito-idp:AdminListGroupsForUser",), "adjustable"),
    Quota("Cognito UserRead", 120, ("cognito-idp:AdminGetUser",), "adjustable"),
    Quota(
        "Cognito UserPoolResourceRead", 20, ("cognito-idp:GetGroup", "cognito-idp:ListGroups"), "and 5/s per user pool"
    ),
    Quota("Step Functions StartExecution", 300, ("states:StartExecution",), "bucket 1,300; 150 in other regions"),
    Quota("Step Functions SendTaskSuccess", 500, ("states:SendTaskSuccess",), "bucket 3,000; 300 in other regions"),
    Quota("Step Functions SendTaskFailure", 500, ("states:SendTaskFailure",), "bucket 3,000; 300 in other regions"),
    Quota("Step Functions StopExecution", 200, ("states:StopExecution",), "bucket 1,000; 25 in other regions"),
    Quota("Step Functions StateTransition", 5000, (TRANSITIONS,), "800 in other regions"),
    Quota("API Gateway, account", 10000, (API_REQUESTS,), "burst 5,000; the stack throttles POST /issues lower"),
)
RATES = (10, 100)
#: Who Lambda's event source mapping's own receive and delete are counted for.
EVENT_SOURCE = "(event source mapping)"
#: Set on the recorder while the driver looks (its calls are not the issue's).
DRIVER = "driver"
#: Set while the driver raises an issue Caseflow raises itself (on AWS, within an API request).
RAISED = "raised"


@dataclass
class Issue:
    """One issue's life, as counted."""

    run: Run
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)  # (function, "service:Operation")
    invocations: Counter[str] = field(default_factory=Counter)
    api_requests: int = 0
    emails: int = 0
    log_bytes: int = 0
    #: Function -> seconds each of its invocations took here.
    durations: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def by_call(self) -> Counter[str]:
        counted: Counter[str] = Counter()
        for (_, call), n in self.calls.items():
            counted[call] += n
        return counted

    def draws(self, name: str) -> int:
        """How many units of a quota's draw this issue took."""
        if name == EMAILS:
            return self.emails
        if name == TRANSITIONS:
            return self.run.transitions
        if name == API_REQUESTS:
            return self.api_requests
        return self.by_call()[name]


class LogTap(io.TextIOBase):
    """Stands in for sys.stdout: counts what the functions print (CloudWatch Logs ingestion on AWS)."""

    def __init__(self) -> None:
        self.bytes = 0
        self.paused = False
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        if not self.paused:
            with self._lock:
                self.bytes += len(text.encode())
        return len(text)

    def writable(self) -> bool:
        return True


class CountingStack(InProcess):
    """The in-process stack, counting what each issue's life costs: the driver's polls and sign-ins
    are marked as the driver's; requests, queue messages and their durations are counted."""

    def __init__(self, stack: InProcess, recorder: Any, tap: LogTap):
        from chalice.utils import to_cfn_resource_name

        super().__init__(stack.client, stack.resources, stack.services)
        self.recorder = recorder
        self.tap = tap
        self.issue: Issue | None = None
        self._queue_handler = to_cfn_resource_name("on_task_message")
        self._raise_internally(stack.services.intake)

    @contextmanager
    def driver(self) -> Iterator[None]:
        self.recorder.during, self.tap.paused = DRIVER, True
        try:
            yield
        finally:
            self.recorder.during, self.tap.paused = None, False

    def token(self, username: str) -> str:
        with self.driver():
            return super().token(username)

    def get(self, path: str, token: str | None = None, headers: dict[str, str] | None = None) -> Any:
        with self.driver():
            return super().get(path, token, headers)

    def _send(self, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
        if self.recorder.during == DRIVER or self.issue is None:
            return super()._send(method, path, body, headers)
        from chalicelib.local.aws_calls import API_HANDLER

        self.issue.api_requests += 1
        with self._invocation(API_HANDLER):
            return super()._send(method, path, body, headers)

    def pump(self) -> int:
        """As InProcess.pump, but one message at a time, each an invocation of the queue handler
        with its event source's receive and delete."""
        if self.issue is None:
            return super().pump()
        from chalicelib import settings

        handled = 0
        while True:
            response = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=0)
            messages = response.get("Messages", [])
            if not messages:
                return handled
            [message] = messages
            event = self.client.events.generate_sqs_event(
                message_bodies=[message["Body"]], queue_name=settings.get().task_queue_name
            )
            with self._invocation(self._queue_handler):
                self.client.lambda_.invoke("on_task_message", event)
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
            self.issue.calls[(EVENT_SOURCE, "sqs:ReceiveMessage")] += 1
            self.issue.calls[(EVENT_SOURCE, "sqs:DeleteMessage")] += 1
            handled += 1

    @contextmanager
    def _invocation(self, function: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            if self.issue is not None:
                self.issue.invocations[function] += 1
                self.issue.durations[function].append(time.monotonic() - started)

    def _raise_internally(self, intake: Any) -> None:
        """Calls of `open_internal` (the driver raising triage and service-recovery issues, as the API
        does on AWS) are marked RAISED and so counted as the API's."""
        original = intake.open_internal
        recorder = self.recorder

        def open_internal(*args: Any, **kwargs: Any) -> Any:
            recorder.during = RAISED
            try:
                return original(*args, **kwargs)
            finally:
                recorder.during = None

        intake.open_internal = open_internal


def issue_calls(recorder: Any) -> Counter[tuple[str, str]]:
    """The recorded calls that belong to the issue's life, by (function, call)."""
    from chalicelib.local.aws_calls import API_HANDLER, WORKFLOW_ROLE

    counted: Counter[tuple[str, str]] = Counter()
    for call in recorder:
        function = call.function
        if call.during == DRIVER and function != WORKFLOW_ROLE:
            continue  # the driver's look (a workflow call made meanwhile is the issue's)
        if function is None:
            if call.during != RAISED:
                continue  # outside any function: the driver, the harness, the event source's polling
            function = API_HANDLER
        counted[(function, call.call)] += 1
    return counted


def ses_recipients() -> int:
    """Recipients of every email moto's SES was asked to send so far (moto lists the Destinations
    and then the message's To and Cc again: each address counts once)."""
    from email.utils import parseaddr

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    from harness.environment import REGION

    sent = ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages
    return sum(len({parseaddr(a)[1].lower() for a in m.destinations}) for m in sent)


def measure(issues: int, timeout: float) -> tuple[list[Issue], int]:
    """Drive `issues` issues, each counted on its own; also returns Secrets Manager reads at start-up."""
    tap = LogTap()
    real_stdout, sys.stdout = sys.stdout, tap  # before the app's logger is made: it keeps the stream
    os.environ["POWERTOOLS_LOG_LEVEL"] = "INFO"  # as deployed: infra sets no level
    counted: list[Issue] = []
    try:
        with in_process(stage="bench") as plain:
            from app import app
            from chalicelib.local.aws_calls import AwsCallRecorder
            from chalicelib.local.provision import DEMO_AGENTS

            with AwsCallRecorder(app) as recorder:
                stack = CountingStack(plain, recorder, tap)
                for user in DEMO_AGENTS:
                    stack.token(user)
                plans = [(run, type_id) for run, type_id in planned_runs(stack) if type_id]
                secret_reads = sum(1 for call in recorder if call.call == "secretsmanager:GetSecretValue")
                for number, (planned, type_id) in zip(range(1, issues + 1), itertools.cycle(plans), strict=False):
                    issue = Issue(Run(planned.type_id, planned.variant))
                    recorder.clear()
                    tap.bytes, sent = 0, ses_recipients()
                    stack.issue = issue
                    drive(stack, issue.run, type_id, number, timeout)
                    while stack.pump():  # the last step's message can outlive the execution
                        pass
                    stack.issue = None
                    issue.calls.update(issue_calls(recorder))
                    issue.emails = ses_recipients() - sent
                    issue.log_bytes = tap.bytes
                    counted.append(issue)
    finally:
        sys.stdout = real_stdout
    return counted, secret_reads


# Report


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _span(values: list[int]) -> str:
    return f"{min(values)}-{max(values)}" if min(values) != max(values) else str(min(values))


def cost_per_issue(issue: Issue) -> dict[str, float]:
    """Dollars for one issue by service. DynamoDB: 1 request unit per call (bench.cost_model sizes items)."""
    calls = issue.by_call()

    def service(name: str, operations: frozenset[str] | None = None) -> int:
        return sum(
            n
            for call, n in calls.items()
            if call.partition(":")[0] == name and (operations is None or call.partition(":")[2] in operations)
        )

    s3_put = service("s3", S3_PUT_CLASS)
    s3_get = service("s3") - s3_put - service("s3", S3_FREE)
    compute = sum(
        lambda_cost(
            n,
            FUNCTION_MEMORY_MB.get(function, LAMBDA_MEMORY_MB),
            max(LAMBDA_MS_PER_INVOCATION, 1000 * mean(issue.durations.get(function, []))),
        )
        for function, n in issue.invocations.items()
    )
    logs = issue.log_bytes + sum(issue.invocations.values()) * LAMBDA_PLATFORM_LOG_BYTES
    return {
        "Lambda": compute,
        "API Gateway": issue.api_requests * API_GATEWAY_REST_PER_1M_REQUESTS / 1e6,
        "DynamoDB": service("dynamodb", DYNAMODB_READS) * DYNAMODB_PER_1M_RRU / 1e6
        + service("dynamodb", DYNAMODB_WRITES) * DYNAMODB_PER_1M_WRU / 1e6,
        "Step Functions": issue.run.transitions * STEP_FUNCTIONS_PER_1K_TRANSITIONS / 1e3,
        "SQS": service("sqs") * SQS_PER_1M_REQUESTS / 1e6,
        "SES": issue.emails * SES_PER_1K_EMAILS / 1e3,
        "S3": s3_put * S3_PER_1K_PUT / 1e3 + s3_get * S3_PER_1K_GET / 1e3,
        "Secrets Manager": service("secretsmanager") * SECRETS_MANAGER_PER_10K_CALLS / 1e4,
        "CloudWatch Logs": logs / GB * CLOUDWATCH_LOGS_PER_GB,
    }


def report(counted: list[Issue], secret_reads: int, took: float) -> None:
    n = len(counted)
    problems = [(i, p) for i in counted for p in i.run.problems] + [
        (i, f"ended {i.run.status}") for i in counted if i.run.status != "SUCCEEDED"
    ]
    types = Counter(i.run.type_id for i in counted)
    print(f"AWS calls per issue, mean over {n} issues driven to resolution on moto in-process ({took:.0f} s)")
    print("types: " + ", ".join(f"{t} {c}" for t, c in sorted(types.items())) + "\n")

    per_call: dict[str, list[int]] = defaultdict(list)
    per_function: dict[str, list[int]] = defaultdict(list)
    for issue in counted:
        calls = issue.by_call()
        functions: Counter[str] = Counter()
        for (function, _), c in issue.calls.items():
            functions[function] += c
        for name in {c for i in counted for c in i.by_call()}:
            per_call[name].append(calls[name])
        for name in {f for i in counted for (f, _) in i.calls}:
            per_function[name].append(functions[name])

    print(f"{'service:Operation':<42} {'per issue':>9} {'min-max':>8}")
    for name, values in sorted(per_call.items(), key=lambda kv: (-mean(kv[1]), kv[0])):
        print(f"  {name:<40} {mean(values):>9.2f} {_span(values):>8}")
    print(f"  {'all':<40} {mean([sum(i.by_call().values()) for i in counted]):>9.2f}")

    print(f"\n{'calls by function (IAM role)':<42} {'per issue':>9} {'min-max':>8}")
    for name, values in sorted(per_function.items(), key=lambda kv: -mean(kv[1])):
        print(f"  {name:<40} {mean(values):>9.2f} {_span(values):>8}")

    print(f"\n{'Lambda invocations by function':<42} {'per issue':>9} {'min-max':>8} {'ms here (median)':>17}")
    functions = sorted({f for i in counted for f in i.invocations})
    for function in functions:
        values = [i.invocations[function] for i in counted]
        durations = [d for i in counted for d in i.durations.get(function, [])]
        median = 1000 * statistics.median(durations) if durations else 0.0
        print(f"  {function:<40} {mean(values):>9.2f} {_span(values):>8} {median:>17.0f}")
    totals = [sum(i.invocations.values()) for i in counted]
    print(f"  {'all':<40} {mean(totals):>9.2f} {_span(totals):>8}")
    for label, values in (
        ("API requests", [i.api_requests for i in counted]),
        ("emails (recipients)", [i.emails for i in counted]),
        ("state transitions", [i.run.transitions for i in counted]),
    ):
        print(f"  {label:<40} {mean(values):>9.2f} {_span(values):>8}")
    reads = secret_reads + sum(i.by_call()["secretsmanager:GetSecretValue"] for i in counted)
    print(
        f"  Secrets Manager: {reads} read(s) of the link secret in all (here one process serves every function;"
        "\n    on AWS, one per cold start of each function that signs links, then cached for an hour)"
    )

    print(
        "\nRate-limited calls at a steady 10 and 100 issues a second (each issue's calls, spread over its life,"
        "\nadd up to issues/s x calls per issue); default quotas in us-east-1, per account and region"
    )
    header = f"{'quota':<36} {'per s':>6} {'per issue':>9} {'at 10/s':>8} {'at 100/s':>8}  note"
    print(header)
    for quota in QUOTAS:
        per_issue = mean([sum(i.draws(d) for d in quota.draws) for i in counted])
        if not per_issue:
            print(f"  {quota.name:<34} {quota.per_second:>6g} {0:>9} {'-':>8} {'-':>8}  {quota.note}")
            continue
        cells = []
        for rate in RATES:
            demand = rate * per_issue
            cells.append(f"{demand:>7.0f}{'!' if demand > quota.per_second else ' '}")
        print(f"  {quota.name:<34} {quota.per_second:>6g} {per_issue:>9.2f} {cells[0]:>8} {cells[1]:>8}  {quota.note}")
    print("  ! over the default quota: throttled unless raised")

    costs = [cost_per_issue(i) for i in counted]
    services = list(costs[0])
    print(f"\nCost per {ISSUES:,} issues (us-east-1 list prices; mean of these issues)")
    for name in services:
        print(f"  {name:<20} ${mean([c[name] for c in costs]) * ISSUES:>8.2f}")
    totals_cost = [sum(c.values()) * ISSUES for c in costs]
    print(f"  {'total':<20} ${mean(totals_cost):>8.2f}  (by issue: ${min(totals_cost):.2f}-${max(totals_cost):.2f})")
    print(
        "  assumed: Lambda at 512 MB (training 3008 MB), each invocation billed the larger of 100 ms and its\n"
        "  median here; DynamoDB 1 request unit per read or write call (item sizes ignored: bench.cost_model\n"
        "  sizes them); CloudWatch Logs = what the functions printed at INFO + 300 bytes per invocation; no\n"
        "  free tiers. Not per issue: Cognito (agents are monthly active users; the first 10,000 free), the\n"
        f"  link secret (${SECRETS_MANAGER_PER_SECRET_MONTH:.2f} a month), custom metrics, schedules and idle"
        " polling (bench.cost_model)."
    )
    for issue, problem in problems:
        print(f"problem: {issue.run.type_id} ({issue.run.variant.label}): {problem}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=20, help="issues to drive, cycling through the seeded types")
    parser.add_argument("--timeout", type=float, default=60, help="seconds to wait for each execution")
    args = parser.parse_args()
    begun = time.monotonic()
    counted, secret_reads = measure(args.issues, args.timeout)
    report(counted, secret_reads, time.monotonic() - begun)


if __name__ == "__main__":
    main()
