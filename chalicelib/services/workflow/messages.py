"""The state machine's messages to the task queue, typed.

Each Task state of a compiled workflow (`chalicelib.workflows.compiler`) sends one message and
waits on its token. `parse` turns the message's body into one frozen dataclass per kind; a body
this code cannot read raises `UnknownMessage`, and the message ends in the dead-letter queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.workflows import compiler


class UnknownMessage(ValueError):
    """A task queue message this code cannot handle; it ends in the dead-letter queue."""


@dataclass(frozen=True, kw_only=True)
class _Message:
    issue_id: str
    #: The token the workflow waits on.
    token: str
    #: The execution that sent it: a message from a workflow stopped since is ignored.
    execution: str = ""


@dataclass(frozen=True, kw_only=True)
class Acknowledge(_Message):
    """Acknowledge the customer's report (the first state)."""


@dataclass(frozen=True, kw_only=True)
class OpenStep(_Message):
    """Open a timed step's task and answer with its timers."""

    step: str
    #: When the workflow entered the step; the step opened then.
    entered_at: datetime | None = None
    #: The customer's segment when the issue was filed; empty: the customer's now.
    segment: str = ""


@dataclass(frozen=True, kw_only=True)
class Wait(_Message):
    """The workflow waits on the step again, with a new token; past the first wait, because a
    timer reached `checkpoint`."""

    step: str
    checkpoint: int = 0
    #: When the workflow entered this wait: a wait entered earlier has timed out, and its token with it.
    entered_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class MoveOn(_Message):
    """The step's last checkpoint moves the process past its task (an escalation's branch, auto-close)."""

    step: str
    checkpoint: int = 0


@dataclass(frozen=True, kw_only=True)
class EmailCustomer(_Message):
    """Send an `email_customer` step's email."""

    step: str


@dataclass(frozen=True, kw_only=True)
class Resolve(_Message):
    """Resolve the issue (the last state)."""


WorkflowMessage = Acknowledge | OpenStep | Wait | MoveOn | EmailCustomer | Resolve


def parse(body: Any) -> WorkflowMessage:
    """The message a task queue body carries; UnknownMessage if it is not one this code knows."""
    if not isinstance(body, dict):
        raise UnknownMessage(f"a message must be an object, not {type(body).__name__}")
    kind = body.get("kind")
    common = {
        "issue_id": _text(body, "issue_id"),
        "token": _text(body, "token"),
        "execution": _text(body, "execution", required=False),
    }
    if kind == compiler.KIND_ACKNOWLEDGE:
        return Acknowledge(**common)
    if kind == compiler.KIND_RESOLVE:
        return Resolve(**common)
    step = _text(body, "step")
    if kind == compiler.KIND_OPEN:
        segment = body.get("segment")
        return OpenStep(**common, step=step, entered_at=_moment(body.get("entered_at")), segment=str(segment or ""))
    if kind == compiler.KIND_WAIT:
        checkpoint = _index(body.get("checkpoint", 0))
        return Wait(**common, step=step, checkpoint=checkpoint, entered_at=_moment(body.get("entered_at")))
    if kind == compiler.KIND_MOVE_ON:
        return MoveOn(**common, step=step, checkpoint=_index(body.get("checkpoint", 0)))
    if kind == compiler.KIND_EMAIL_CUSTOMER:
        return EmailCustomer(**common, step=step)
    raise UnknownMessage(f"unknown message kind {kind!r}")


def _text(body: dict[str, Any], key: str, required: bool = True) -> str:
    value = body.get(key)
    if isinstance(value, str) and (value or not required):
        return value
    if value is None and not required:
        return ""
    raise UnknownMessage(f"a {body.get('kind')!r} message needs {key} as text, not {value!r}")


def _index(raw: Any) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError) as exc:
        raise UnknownMessage(f"a checkpoint is a number, not {raw!r}") from exc


def _moment(raw: Any) -> datetime | None:
    if not isinstance(raw, str) or not raw:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise UnknownMessage(f"entered_at is not a moment: {raw!r}") from exc
