"""What one issue costs on AWS: its requests counted on moto in-process, priced at list prices.

    python -m bench.cost_model [--timeout SECONDS]

For each seeded issue type, and each branch variant bench.transitions defines, one issue is driven
through its whole life by `bench.transitions.drive` (filed, every task completed as it opens, the
customer answering when a step waits for them) while everything AWS would bill is counted:

- API Gateway requests and Lambda invocations: each HTTP call the driver makes to the app is one
  of each; each task-queue message handled is one invocation, plus the ReceiveMessage and
  DeleteMessage of Lambda's event source mapping;
- Step Functions state transitions, from the execution's history;
- every request boto3 sends, from any thread (moto's Step Functions interpreter sends each human
  step's SQS message from its own), by wrapping botocore's `BaseClient._make_api_call`;
- DynamoDB request units by operation, from the items' sizes as DynamoDB computes them: a write
  reads its item before and after (through a separate client that is not counted) for its size
  and the global secondary indexes it changes; a read sizes what it returns;
- what the functions print, i.e. CloudWatch Logs ingestion: EMF blobs (the metrics) and log
  lines at Powertools' default level, INFO, as deployed; plus Lambda's own lines per invocation.

The driver's own look-ups (polling the issue and the execution, sign-ins) are not counted. After
the issues, each scheduled function is run once and priced by its runs a month, with the other
monthly costs that do not scale with issues: the custom-metric ceiling of docs/kpis.md and the
event source mappings' idle polling.

Assumptions: every per-issue invocation runs 100 ms at 512 MB (infra/stack.py's memory); a
scheduled run lasts what it took here, at least 100 ms; no free tiers; 730 hours a month. Tasks
are completed at once, so no SLA timer fires, and the customer's replies come through the agents'
API as in bench.transitions, not by email. Counts are stable between runs.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import re
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from bench.transitions import Run, drive, planned_runs
from harness import ROOT, InProcess, in_process

# AWS list prices for us-east-1, as assumed on 2026-11-23 from these pricing pages (not fetched;
# check them before quoting a figure). Named as the pages state them.
# "AWS Step Functions Pricing": Standard workflows.
STEP_FUNCTIONS_PER_1K_TRANSITIONS = 0.025
# "AWS Lambda Pricing": x86.
LAMBDA_PER_1M_REQUESTS = 0.20
LAMBDA_PER_GB_SECOND = 0.0000166667
# "Amazon API Gateway Pricing": REST APIs, first 333 million requests a month.
API_GATEWAY_REST_PER_1M_REQUESTS = 3.50
# "Amazon SQS Pricing": standard queues.
SQS_PER_1M_REQUESTS = 0.40
# "Amazon DynamoDB Pricing": on-demand, Standard table class.
DYNAMODB_PER_1M_WRU = 0.625
DYNAMODB_PER_1M_RRU = 0.125
# "Amazon SES Pricing": outbound email, each recipient an email.
SES_PER_1K_EMAILS = 0.10
# "Amazon CloudWatch Pricing": Logs standard ingestion, custom metrics (first 10,000), API requests.
CLOUDWATCH_LOGS_PER_GB = 0.50
CLOUDWATCH_PER_METRIC_MONTH = 0.30
CLOUDWATCH_PER_1K_API_REQUESTS = 0.01
# "Amazon S3 Pricing": S3 Standard requests.
S3_PER_1K_PUT = 0.005
S3_PER_1K_GET = 0.0004

# Assumptions.
LAMBDA_MEMORY_MB = 512  # infra/stack.py: lambda_memory_size
#: The training functions' memory (infra/stack.py: TRAINING_MEMORY_MB), by Chalice function name.
FUNCTION_MEMORY_MB = {"nightly_retraining": 3008, "on_job": 3008}
LAMBDA_MS_PER_INVOCATION = 100
#: Lambda's START, END and REPORT lines, ingested with every invocation's log.
LAMBDA_PLATFORM_LOG_BYTES = 300
#: Lambda's event source mapping keeps long-polling an idle queue with this many connections.
ESM_IDLE_POLLERS = 5
ESM_LONG_POLL_SECONDS = 20
ISSUES_PER_MONTH = 10_000
HOURS_PER_MONTH = 730
GB = 1024**3

#: S3 requests billed at the PUT rate; DELETE is free; every other request is billed at the GET rate.
S3_PUT_CLASS = frozenset(
    {"PutObject", "CopyObject", "PostObject", "ListObjects", "ListObjectsV2", "ListBuckets",
     "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"}
)  # fmt: skip
S3_FREE = frozenset({"DeleteObject", "DeleteObjects"})
KPIS_DOC = ROOT / "docs" / "kpis.md"


# Counting


@dataclass
class Counts:
    """What one issue's life (or one scheduled run) made AWS do."""

    api_requests: int = 0
    invocations: int = 0
    transitions: int = 0
    #: "service.Operation" (botocore's names) -> requests, every service.
    requests: Counter[str] = field(default_factory=Counter)
    #: DynamoDB operation -> request units.
    read_units: dict[str, float] = field(default_factory=dict)
    write_units: dict[str, float] = field(default_factory=dict)
    emails: int = 0
    emf_blobs: int = 0
    emf_bytes: int = 0
    log_bytes: int = 0

    def service_requests(self, service: str, operations: Collection[str] | None = None) -> int:
        """Requests to one service, or to some of its operations."""
        return sum(
            n
            for name, n in self.requests.items()
            if name.partition(".")[0] == service and (operations is None or name.partition(".")[2] in operations)
        )

    def s3_requests(self) -> tuple[int, int]:
        """(PUT-class, GET-class) S3 requests."""
        put, free = self.service_requests("s3", S3_PUT_CLASS), self.service_requests("s3", S3_FREE)
        return put, self.service_requests("s3") - put - free

    def ingested_bytes(self) -> int:
        """CloudWatch Logs ingestion: what the functions printed and Lambda's own lines."""
        return self.emf_bytes + self.log_bytes + self.invocations * LAMBDA_PLATFORM_LOG_BYTES


# DynamoDB request units (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html)

READ_MODES = {"eventual": 0.5, "strong": 1.0, "transactional": 2.0}
DYNAMODB_READS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"})
DYNAMODB_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})


def number_size(text: str) -> int:
    """A number's size: 1 byte per two significant digits, plus 1."""
    mantissa = re.split("[eE]", text.lstrip("+-"))[0].replace(".", "")
    significant = mantissa.strip("0") or "0"
    return math.ceil(len(significant) / 2) + 1


def attribute_size(value: dict[str, Any]) -> int:
    """The size of one attribute value in DynamoDB's JSON (`{"S": "text"}`), without its name."""
    [(kind, raw)] = value.items()
    if kind == "S":
        return len(raw.encode())
    if kind == "N":
        return number_size(raw)
    if kind == "B":
        return len(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in raw)
    if kind == "NS":
        return sum(number_size(n) for n in raw)
    if kind == "BS":
        return sum(len(b) for b in raw)
    if kind == "L":
        return 3 + sum(1 + attribute_size(v) for v in raw)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + attribute_size(v) for k, v in raw.items())
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def item_size(item: dict[str, Any] | None) -> int:
    """An item's size: its attribute names' UTF-8 bytes plus their values' sizes; 0 for no item."""
    return sum(len(name.encode()) + attribute_size(value) for name, value in (item or {}).items())


def read_units(size: int, mode: str = "eventual") -> float:
    """Read request units for `size` bytes read at once: per 4 KB started, at least one."""
    return max(1, math.ceil(size / 4096)) * READ_MODES[mode]


def write_units(size: int, transactional: bool = False) -> int:
    """Write request units for one item: per 1 KB started, at least one; twice in a transaction."""
    return max(1, math.ceil(size / 1024)) * (2 if transactional else 1)


def index_write_units(
    before: dict[str, Any] | None, after: dict[str, Any] | None, indexes: list[tuple[str, ...]]
) -> int:
    """The writes a table write causes in its global secondary indexes (each projecting ALL).

    An item is in an index when it has all of the index's key attributes. Entering or leaving an
    index is one write, a change of its index key two (delete and put), any other change one.
    """
    units = 0
    for keys in indexes:
        was = tuple(before.get(k) for k in keys) if before and all(k in before for k in keys) else None
        now = tuple(after.get(k) for k in keys) if after and all(k in after for k in keys) else None
        if was is None and now is None:
            continue
        if was is None:
            units += write_units(item_size(after))
        elif now is None:
            units += write_units(item_size(before))
        elif was != now:
            units += write_units(item_size(before)) + write_units(item_size(after))
        elif before != after:
            units += write_units(item_size(after))
    return units


# Pricing


def lambda_cost(
    invocations: float, memory_mb: int = LAMBDA_MEMORY_MB, milliseconds: float = LAMBDA_MS_PER_INVOCATION
) -> float:
    """Requests plus compute; Lambda bills each invocation's duration in whole milliseconds."""
    gb_seconds = memory_mb / 1024 * math.ceil(milliseconds) / 1000
    return invocations * (LAMBDA_PER_1M_REQUESTS / 1e6 + gb_seconds * LAMBDA_PER_GB_SECOND)


def cost_by_service(
    counts: Counts, memory_mb: int = LAMBDA_MEMORY_MB, milliseconds: float = LAMBDA_MS_PER_INVOCATION
) -> dict[str, float]:
    """Dollars per service for these counts; requests `priced` says are free cost nothing."""
    s3_put, s3_get = counts.s3_requests()
    return {
        "Step Functions": counts.transitions * STEP_FUNCTIONS_PER_1K_TRANSITIONS / 1e3,
        "Lambda": lambda_cost(counts.invocations, memory_mb, milliseconds),
        "API Gateway": counts.api_requests * API_GATEWAY_REST_PER_1M_REQUESTS / 1e6,
        "SQS": counts.service_requests("sqs") * SQS_PER_1M_REQUESTS / 1e6,
        "DynamoDB": (
            sum(counts.read_units.values()) * DYNAMODB_PER_1M_RRU / 1e6
            + sum(counts.write_units.values()) * DYNAMODB_PER_1M_WRU / 1e6
        ),
        "SES": counts.emails * SES_PER_1K_EMAILS / 1e3,
        "CloudWatch Logs": counts.ingested_bytes() / GB * CLOUDWATCH_LOGS_PER_GB,
        "CloudWatch API": counts.service_requests("cloudwatch") * CLOUDWATCH_PER_1K_API_REQUESTS / 1e3,
        "S3": s3_put * S3_PER_1K_PUT / 1e3 + s3_get * S3_PER_1K_GET / 1e3,
    }


def total_cost(
    counts: Counts, memory_mb: int = LAMBDA_MEMORY_MB, milliseconds: float = LAMBDA_MS_PER_INVOCATION
) -> float:
    return sum(cost_by_service(counts, memory_mb, milliseconds).values())


def monthly(cost_per_issue: float, issues: int = ISSUES_PER_MONTH) -> float:
    return cost_per_issue * issues


# Fixed monthly costs

_WEEKDAYS = {name: number for number, name in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], 1)}
_MONTHS = {name: number for number, name in enumerate(["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG",
                                                       "SEP", "OCT", "NOV", "DEC"], 1)}  # fmt: skip


def _cron_values(text: str, low: int, high: int, names: dict[str, int] | None = None) -> int:
    """How many values one field of an EventBridge cron expression takes (lists, ranges, steps, names)."""

    def number(token: str) -> int:
        return (names or {}).get(token.upper()) or int(token)

    values: set[int] = set()
    for part in text.split(","):
        body, _, step = part.partition("/")
        if body in ("*", "?"):
            start, end = low, high
        elif "-" in body:
            first, last = body.split("-")
            start, end = number(first), number(last)
        else:
            start = number(body)
            end = high if step else start
        values.update(range(start, end + 1, int(step or 1)))
    return len(values)


def runs_per_month(expression: str) -> float:
    """Runs a month of an EventBridge schedule, `rate(...)` or `cron(...)`, over 730 hours.

    ValueError for what this does not read (L, W, # in cron fields).
    """
    days_per_month = HOURS_PER_MONTH / 24
    if matched := re.fullmatch(r"rate\((\d+) (minute|hour|day)s?\)", expression.strip()):
        every = int(matched[1]) * {"minute": 1, "hour": 60, "day": 1440}[matched[2]]
        return HOURS_PER_MONTH * 60 / every
    if matched := re.fullmatch(r"cron\((.+)\)", expression.strip()):
        minutes, hours, day_of_month, month, day_of_week, _year = matched[1].split()
        per_day = _cron_values(minutes, 0, 59) * _cron_values(hours, 0, 23)
        if day_of_week not in ("*", "?"):
            days = days_per_month * _cron_values(day_of_week, 1, 7, _WEEKDAYS) / 7
        elif day_of_month not in ("*", "?"):
            days = _cron_values(day_of_month, 1, 31)
        else:
            days = days_per_month
        return per_day * days * _cron_values(month, 1, 12, _MONTHS) / 12
    raise ValueError(f"not a schedule expression this reads: {expression!r}")


def documented_metric_series(kpis_markdown: str) -> int:
    """The total custom-metric series of the Metrics (EMF) table in docs/kpis.md."""
    [total] = re.findall(r"^\| \*\*Total\*\* \|.*\| \*\*(\d+)\*\* \|$", kpis_markdown, re.MULTILINE)
    return int(total)


def idle_polling_requests(hours: float = HOURS_PER_MONTH) -> float:
    """SQS requests an event source mapping makes in `hours` on an empty queue."""
    return ESM_IDLE_POLLERS * hours * 3600 / ESM_LONG_POLL_SECONDS


@dataclass
class Schedule:
    """A scheduled function, run once here."""

    name: str
    expression: str
    counts: Counts
    seconds: float
    problem: str = ""


def fixed_monthly_costs(metric_series: int, schedules: list[Schedule], queues: list[str]) -> list[tuple[str, float]]:
    """(what, dollars a month) of the costs that do not scale with issues.

    Custom metrics at their ceiling (every series has data every hour); each schedule's runs at
    what one run cost, its duration as measured (at least the assumed per-invocation time) and its
    function's memory; each queue with an event source polled while idle.
    """
    lines = [
        (
            f"custom metrics, ceiling: {metric_series} series (docs/kpis.md) x {_dollars(CLOUDWATCH_PER_METRIC_MONTH)}",
            metric_series * CLOUDWATCH_PER_METRIC_MONTH,
        )
    ]
    for schedule in schedules:
        if schedule.problem:
            continue
        runs = runs_per_month(schedule.expression)
        memory = FUNCTION_MEMORY_MB.get(schedule.name, LAMBDA_MEMORY_MB)
        milliseconds = max(LAMBDA_MS_PER_INVOCATION, schedule.seconds * 1000)
        each = total_cost(schedule.counts, memory, milliseconds)
        lines.append(
            (
                f"schedule {schedule.name}, {schedule.expression}: {runs:,.1f} runs x {_dollars(each, 6)} "
                f"({memory} MB x {milliseconds / 1000:.2f} s, {sum(schedule.counts.requests.values())} AWS requests)",
                runs * each,
            )
        )
    polling = idle_polling_requests()
    lines.append(
        (
            f"idle polling of {len(queues)} queues with event sources ({', '.join(queues)}): "
            f"{polling:,.0f} SQS requests each",
            len(queues) * polling * SQS_PER_1M_REQUESTS / 1e6,
        )
    )
    return lines


def priced(name: str) -> bool:
    """Whether a request ("service.Operation") is billed per request, and so priced here."""
    service, _, operation = name.partition(".")
    if service == "dynamodb":
        return operation in DYNAMODB_READS | DYNAMODB_WRITES
    if service in ("ses", "sesv2"):
        return operation.startswith("Send")
    if service == "s3":
        return operation not in S3_FREE
    return service in ("sqs", "cloudwatch")


def _dollars(value: float, places: int = 2) -> str:
    return f"${value:,.{places}f}"


# Measuring on moto


class Meter:
    """Records into `target` the AWS requests and output of the app and of moto's interpreter.

    Other threads (moto's Step Functions interpreter) are always counted. The main thread is the
    driver's: it counts only inside `counting()`, i.e. while the app handles a request or a queue
    message, and never inside `not_counting()` (the driver's sign-ins). Clients in `ignored` (the
    driver's own, the probe that reads items' sizes) are never counted.
    """

    def __init__(self) -> None:
        self.target: Counts | None = None
        self.ignored: set[int] = set()
        self.probe: Any = None
        self._local = threading.local()
        self._lock = threading.Lock()
        self._tables: dict[str, tuple[tuple[str, ...], list[tuple[str, ...]]]] = {}

    @contextmanager
    def recording(self, counts: Counts) -> Iterator[Counts]:
        self.target = counts
        try:
            yield counts
        finally:
            self.target = None

    @contextmanager
    def counting(self, on: bool = True) -> Iterator[None]:
        name = "on" if on else "off"
        setattr(self._local, name, getattr(self._local, name, 0) + 1)
        try:
            yield
        finally:
            setattr(self._local, name, getattr(self._local, name) - 1)

    def not_counting(self) -> Any:
        return self.counting(on=False)

    def counts_here(self) -> Counts | None:
        """The counts this thread's activity goes to now, or None."""
        if threading.current_thread() is not threading.main_thread():
            return self.target
        if getattr(self._local, "on", 0) and not getattr(self._local, "off", 0):
            return self.target
        return None

    def add(self, api_requests: int = 0, invocations: int = 0, requests: dict[str, int] | None = None) -> None:
        if (counts := self.counts_here()) is not None:
            with self._lock:
                counts.api_requests += api_requests
                counts.invocations += invocations
                counts.requests.update(requests or {})

    # boto3

    @contextmanager
    def installed(self) -> Iterator[None]:
        """Wrap every boto3 request while inside."""
        from botocore.client import BaseClient

        original = BaseClient._make_api_call
        meter = self

        def metered(client: Any, operation: str, params: dict[str, Any]) -> Any:
            counts = meter.counts_here() if id(client) not in meter.ignored else None
            if counts is None:
                return original(client, operation, params)
            service = client.meta.service_model.service_name
            writes = service == "dynamodb" and operation in DYNAMODB_WRITES
            before = meter._images(operation, params) if writes else []
            response: dict[str, Any] = {}
            try:
                response = original(client, operation, params)
                return response
            finally:
                meter._record(counts, service, operation, params, response, before)

        BaseClient._make_api_call = metered  # type: ignore[method-assign]
        try:
            yield
        finally:
            BaseClient._make_api_call = original  # type: ignore[method-assign]

    def _record(
        self,
        counts: Counts,
        service: str,
        operation: str,
        params: dict[str, Any],
        response: dict[str, Any],
        before: list,
    ) -> None:
        reads: float = 0
        writes: float = 0
        if service == "dynamodb":
            if operation in DYNAMODB_WRITES:
                writes = self._write_units(operation, params, before)
            else:
                reads = self._read_units(operation, params, response)
        with self._lock:
            counts.requests[f"{service}.{operation}"] += 1
            if reads:
                counts.read_units[operation] = counts.read_units.get(operation, 0) + reads
            if writes:
                counts.write_units[operation] = counts.write_units.get(operation, 0) + writes
            if service in ("ses", "sesv2") and operation.startswith("Send"):
                counts.emails += _recipients(params)

    # DynamoDB

    def _table(self, name: str) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
        """The table's key attributes and each global secondary index's."""
        if name not in self._tables:
            table = self.probe.describe_table(TableName=name)["Table"]

            def keys(schema: list[dict[str, str]]) -> tuple[str, ...]:
                return tuple(k["AttributeName"] for k in sorted(schema, key=lambda k: k["KeyType"]))

            indexes = [keys(i["KeySchema"]) for i in table.get("GlobalSecondaryIndexes", [])]
            self._tables[name] = (keys(table["KeySchema"]), indexes)
        return self._tables[name]

    def _targets(self, operation: str, params: dict[str, Any]) -> list[tuple[str, dict[str, Any], bool]]:
        """(table, key, transactional) of each item a write request names."""
        named: list[tuple[str, dict[str, Any], bool]] = []
        if operation == "TransactWriteItems":
            for entry in params["TransactItems"]:
                [body] = entry.values()
                named.append((body["TableName"], body.get("Item") or body["Key"], True))
        elif operation == "BatchWriteItem":
            for table, requests in params["RequestItems"].items():
                for request in requests:
                    body = request.get("PutRequest") or request["DeleteRequest"]
                    named.append((table, body.get("Item") or body["Key"], False))
        else:
            named.append((params["TableName"], params.get("Item") or params["Key"], False))
        found = []
        for table, item, transactional in named:
            key_names, _ = self._table(table)
            found.append((table, {k: item[k] for k in key_names}, transactional))
        return found

    def _images(self, operation: str, params: dict[str, Any]) -> list[dict[str, Any] | None]:
        return [
            self.probe.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
            for table, key, _ in self._targets(operation, params)
        ]

    def _write_units(self, operation: str, params: dict[str, Any], before: list[dict[str, Any] | None]) -> float:
        units = 0
        for (table, _, transactional), old, new in zip(
            self._targets(operation, params), before, self._images(operation, params), strict=True
        ):
            units += write_units(max(item_size(old), item_size(new)), transactional)
            units += index_write_units(old, new, self._table(table)[1])
        return units

    def _read_units(self, operation: str, params: dict[str, Any], response: dict[str, Any]) -> float:
        mode = "strong" if params.get("ConsistentRead") else "eventual"
        if operation == "GetItem":
            return read_units(item_size(response.get("Item")), mode)
        if operation in ("Query", "Scan"):
            items = response.get("Items")
            if params.get("Select") == "COUNT":
                # A count reads the items as a query does; ask the probe for them to size them.
                recount = {k: v for k, v in params.items() if k != "Select"}
                items = getattr(self.probe, operation.lower())(**recount).get("Items")
            return read_units(sum(map(item_size, items or [])), mode)
        if operation == "BatchGetItem":
            units = 0.0
            for table, request in params["RequestItems"].items():
                found = (response.get("Responses") or {}).get(table, [])
                table_mode = "strong" if request.get("ConsistentRead") else "eventual"
                units += sum(read_units(item_size(i), table_mode) for i in found)
                units += (len(request["Keys"]) - len(found)) * read_units(0, table_mode)
            return units
        if operation == "TransactGetItems":
            found = response.get("Responses") or []
            return sum(read_units(item_size(r.get("Item")), "transactional") for r in found)
        return 0.0

    # Output

    def printed(self, line: str) -> None:
        if not line or (counts := self.counts_here()) is None:
            return
        size = len(line.encode())
        with self._lock:
            if line.startswith('{"_aws"'):
                counts.emf_blobs += 1
                counts.emf_bytes += size
            else:
                counts.log_bytes += size


def _recipients(params: dict[str, Any]) -> int:
    if "Destinations" in params:
        return len(params["Destinations"])
    destination = params.get("Destination") or {}
    return sum(len(destination.get(k, [])) for k in ("ToAddresses", "CcAddresses", "BccAddresses")) or 1


class StdoutTap(io.TextIOBase):
    """Stands in for sys.stdout while the stack runs: keeps the functions' output off the screen and
    hands it to the meter line by line (Powertools prints EMF blobs and log records there)."""

    def __init__(self, meter: Meter):
        self.meter = meter
        self._partial = threading.local()

    def write(self, text: str) -> int:
        *lines, self._partial.text = (getattr(self._partial, "text", "") + text).split("\n")
        for line in lines:
            self.meter.printed(line)
        return len(text)

    def writable(self) -> bool:
        return True


class MeteredStack(InProcess):
    """The in-process stack that bills the driver's requests to the app and the queue messages it
    delivers; the driver's reads (polling the issue) and sign-ins are not billed."""

    def __init__(self, stack: InProcess, meter: Meter):
        super().__init__(stack.client, stack.resources, stack.services)
        self.meter = meter
        meter.ignored.update({id(self.sqs), id(self.sfn)})

    def token(self, username: str) -> str:
        with self.meter.not_counting():
            return super().token(username)

    def post(self, path: str, body: Any = None, token: str | None = None, headers: dict[str, str] | None = None) -> Any:
        with self.meter.counting():
            self.meter.add(api_requests=1, invocations=1)
            return super().post(path, body, token, headers)

    def view_issue(self, issue_id: str, username: str = "sue") -> Any:
        """An agent opening the issue's page: one billed GET."""
        token = self.token(username)
        with self.meter.counting():
            self.meter.add(api_requests=1, invocations=1)
            return self.get(f"/agent/issues/{issue_id}", token)

    def pump(self) -> int:
        """As InProcess.pump; each message handled also costs the event source's receive and delete."""
        with self.meter.counting():
            handled = super().pump()
            self.meter.add(invocations=handled, requests={"sqs.ReceiveMessage": handled, "sqs.DeleteMessage": handled})
        return handled

    def run_scheduled(self, name: str) -> float:
        """Invoke a scheduled function as EventBridge would; the seconds it took."""
        event = self.client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[], region="us-east-1"
        )
        with self.meter.counting():
            self.meter.add(invocations=1)
            started = time.monotonic()
            self.client.lambda_.invoke(name, event)
            return time.monotonic() - started


@dataclass
class Measured:
    """One issue's run, what its life cost, and what an agent's look at it afterwards cost."""

    run: Run
    counts: Counts
    view: Counts


def measure(timeout: float) -> tuple[list[Measured], list[Schedule], list[str]]:
    """Drive every planned run on moto in-process, counting each; then run each schedule once.

    Also returns the queues the app has event sources on.
    """
    meter = Meter()
    real_stdout, sys.stdout = sys.stdout, StdoutTap(meter)
    # As deployed: infra sets no level, and Powertools logs at INFO by default.
    os.environ["POWERTOOLS_LOG_LEVEL"] = "INFO"
    measured: list[Measured] = []
    schedules: list[Schedule] = []
    queues: list[str] = []
    try:
        with in_process(stage="bench") as plain, meter.installed():
            import boto3

            from chalicelib.local.provision import DEMO_AGENTS

            stack = MeteredStack(plain, meter)
            meter.probe = boto3.client("dynamodb")
            meter.ignored.add(id(meter.probe))
            for user in DEMO_AGENTS:
                stack.token(user)
            for number, (run, type_id) in enumerate(planned_runs(stack), 1):
                counts, view = Counts(), Counts()
                measured.append(Measured(run, counts, view))
                if not type_id:
                    continue
                with meter.recording(counts):
                    drive(stack, run, type_id, number, timeout)
                    while stack.pump():  # the last step's message can outlive the execution
                        pass
                counts.transitions = run.transitions
                if run.issue_id:
                    with meter.recording(view):
                        stack.view_issue(run.issue_id)
            schedules = measure_schedules(stack, meter)
            queues = event_source_queues()
    finally:
        sys.stdout = real_stdout
    return measured, schedules, queues


def measure_schedules(stack: MeteredStack, meter: Meter) -> list[Schedule]:
    from chalice.app import ScheduledEventConfig

    from app import app

    found = []
    for source in app.event_sources:
        if not isinstance(source, ScheduledEventConfig):
            continue
        expression = source.schedule_expression
        text = expression.to_string() if hasattr(expression, "to_string") else str(expression)
        schedule = Schedule(source.name, text, Counts(), 0.0)
        with meter.recording(schedule.counts):
            try:
                schedule.seconds = stack.run_scheduled(source.name)
            except Exception as error:  # noqa: BLE001 - reported, the other costs still count
                schedule.problem = f"{type(error).__name__}: {error}"
        found.append(schedule)
    return found


def event_source_queues() -> list[str]:
    from chalice.app import SQSEventConfig

    from app import app

    return sorted({s.queue for s in app.event_sources if isinstance(s, SQSEventConfig)})


# Report


def _units(values: dict[str, float]) -> str:
    return f"{sum(values.values()):g}"


def report(measured: list[Measured], schedules: list[Schedule], queues: list[str], took: float) -> None:
    print("Cost per issue at AWS list prices (us-east-1), counted on moto in-process")
    print(
        f"assumed: {LAMBDA_MEMORY_MB} MB x {LAMBDA_MS_PER_INVOCATION} ms per invocation, no free tiers, "
        f"{ISSUES_PER_MONTH:,} issues a month; prices in bench/cost_model.py\n"
    )
    header = (
        f"{'type':<17} {'variant':<32} {'API':>3} {'fn':>3} {'trans':>5} {'SQS':>4} {'RRU':>5} {'WRU':>4} "
        f"{'mail':>4} {'S3':>3} {'EMF':>4} {'log KB':>6} {'$/issue':>9} {'$/10k/mo':>8}"
    )
    print(header)
    print("-" * len(header))
    for item in measured:
        run, counts = item.run, item.counts
        cost = total_cost(counts)
        print(
            f"{run.type_id:<17} {run.variant.label:<32} {counts.api_requests:>3} {counts.invocations:>3} "
            f"{counts.transitions:>5} {counts.service_requests('sqs'):>4} {_units(counts.read_units):>5} "
            f"{_units(counts.write_units):>4} {counts.emails:>4} {sum(counts.s3_requests()):>3} "
            f"{counts.emf_blobs:>4} {counts.ingested_bytes() / 1024:>6.1f} {cost:>9.7f} {monthly(cost):>8.3f}"
        )

    print(
        "API: API Gateway requests; fn: Lambda invocations; trans: state transitions; SQS: requests, the event "
        "source's included; RRU/WRU: DynamoDB request units; mail: SES emails; EMF: metric blobs; log KB: "
        "CloudWatch Logs ingestion"
    )

    services = list(cost_by_service(Counts()))
    shown = [s for s in services if any(cost_by_service(m.counts)[s] for m in measured)]
    print(f"\n$ per {ISSUES_PER_MONTH:,} issues a month, by service")
    header = f"{'type':<17} {'variant':<32} " + " ".join(f"{s:>{max(len(s), 6)}}" for s in shown)
    print(header)
    print("-" * len(header))
    for item in measured:
        by_service = cost_by_service(item.counts)
        cells = " ".join(f"{monthly(by_service[s]):>{max(len(s), 6)}.3f}" for s in shown)
        print(f"{item.run.type_id:<17} {item.run.variant.label:<32} {cells}")

    print("\nDynamoDB per issue: requests (request units) by operation")
    for item in measured:
        counts = item.counts
        parts = []
        for name, requests in sorted(counts.requests.items()):
            service, _, operation = name.partition(".")
            if service != "dynamodb":
                continue
            units = counts.read_units.get(operation) or counts.write_units.get(operation) or 0
            kind = "WRU" if operation in DYNAMODB_WRITES else "RRU"
            parts.append(f"{operation} {requests} ({units:g} {kind})")
        print(f"  {item.run.type_id} / {item.run.variant.label}: {', '.join(parts)}")

    unpriced: dict[str, list[int]] = defaultdict(list)
    for item in measured:
        for name, requests in item.counts.requests.items():
            if not priced(name):
                unpriced[name].append(requests)
    if unpriced:
        listed = ", ".join(f"{name} {min(n)}-{max(n)}" for name, n in sorted(unpriced.items()))
        print(f"\nalso called per issue, not priced (no per-request charge): {listed}")

    views = [m.view for m in measured if m.view.api_requests]
    if views:
        view_costs = [total_cost(v) for v in views]
        view_rru = [sum(v.read_units.values()) for v in views]
        print(
            f"\nan agent opening a finished issue (GET /agent/issues/{{id}}, not in the table): "
            f"{min(view_rru):g}-{max(view_rru):g} RRU, {_dollars(monthly(min(view_costs)), 3)}-"
            f"{_dollars(monthly(max(view_costs)), 3)} per {ISSUES_PER_MONTH:,} views"
        )

    report_fixed(schedules, queues)

    print(
        "\nnotes: every task is completed as soon as it opens, so no SLA warning, deadline or escalation "
        "fires (each would add a transition, a queue message and its handling); customer replies go "
        "through the agents' API, as in bench.transitions, not through SES receiving; DynamoDB storage, "
        "S3 storage and data transfer are not counted."
    )
    for item in measured:
        for problem in item.run.problems:
            print(f"problem: {item.run.type_id} ({item.run.variant.label}): {problem}")
    print(f"\n{len(measured)} issues driven in {took:.1f} s")


def report_fixed(schedules: list[Schedule], queues: list[str]) -> None:
    print("\nFixed monthly costs (do not scale with issues)")
    lines = fixed_monthly_costs(documented_metric_series(KPIS_DOC.read_text()), schedules, queues)
    width = max(len(text) for text, _ in lines)
    for text, dollars in lines:
        print(f"  {text:<{width}} {_dollars(dollars):>8}")
    print(f"  {'total':<{width}} {_dollars(sum(d for _, d in lines)):>8}")
    for schedule in schedules:
        if schedule.problem:
            print(f"  schedule {schedule.name} ({schedule.expression}) not measured: {schedule.problem}")
    print(
        "  a schedule's reads grow with the data it sweeps and rolls up: measured here after the issues above; "
        "its duration is its time here on moto"
    )
    print(
        "  not counted: Cognito (billed per monthly active user, the first 10,000 free), the CloudWatch "
        "dashboard and alarms, the Secrets Manager secret; EventBridge schedule rules are free"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=60, help="seconds to wait for each execution")
    args = parser.parse_args()
    begun = time.monotonic()
    measured, schedules, queues = measure(args.timeout)
    report(measured, schedules, queues, time.monotonic() - begun)


if __name__ == "__main__":
    main()
