"""Observability, built once: Powertools' Logger, the EMF metrics, and the Chalice middleware that
wires them into every invocation (`install`): API requests, queue messages, schedules and the plain
Lambda functions (SES receipts, the deploy trigger). Handlers log with `logger` and build nothing.

- Every log line of an invocation carries its Lambda context (function, request id, cold start),
  the keys Powertools' `inject_lambda_context` adds, kept per thread: the local runtime serves
  requests and pumps queues on threads of one process.
- Metrics are EMF lines, one blob per measurement (their dimension sets differ), printed when the
  measurement is recorded, so there is nothing to flush when an invocation ends. No `service`
  dimension: the alarms and the dashboard read the dimension sets of docs/kpis.md.
- No Tracer yet: Powertools' Tracer imports the X-Ray SDK, which the functions' bundle does not
  carry (requirements.txt), and the stack turns on no active tracing. It would go in `_invocation`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from chalice import Chalice
from chalice.app import Request

from chalicelib.domain.measurements import NAMESPACE, Measurement

SERVICE = "caseflow"
#: The one Logger: structured JSON on stdout, which Lambda ships to CloudWatch Logs.
logger = Logger(service=SERVICE)
_cold_start = True


def install(app: Chalice) -> None:
    """Wire observability into every handler of `app`, whatever invokes it."""
    app.register_middleware(_invocation, "all")


def emit(measurements: Iterable[Measurement]) -> None:
    """Print each measurement as an EMF blob of its own."""
    for measurement in measurements:
        with single_metric(
            name=measurement.name,
            unit=MetricUnit(measurement.unit),
            value=measurement.value,
            namespace=NAMESPACE,
            default_dimensions=dict(measurement.dimensions) or None,
        ):
            pass


def _invocation(event: Any, get_response: Callable[[Any], Any]) -> Any:
    keys = _context_keys(_lambda_context(event))
    logger.thread_safe_append_keys(**keys)
    try:
        return get_response(event)
    finally:
        logger.thread_safe_remove_keys(keys)


def _lambda_context(event: Any) -> Any:
    """The Lambda context of an invocation: a request's, or an event's (queue, schedule, plain)."""
    if event is None or isinstance(event, Request):
        return getattr(event, "lambda_context", None)
    return getattr(event, "context", None)


def _context_keys(context: Any) -> dict[str, Any]:
    global _cold_start
    keys: dict[str, Any] = {"cold_start": _cold_start}
    _cold_start = False
    for key, attribute in (
        ("function_name", "function_name"),
        ("function_memory_size", "memory_limit_in_mb"),
        ("function_arn", "invoked_function_arn"),
        ("function_request_id", "aws_request_id"),
    ):
        value = getattr(context, attribute, None)
        if value is not None:
            keys[key] = value
    return keys
