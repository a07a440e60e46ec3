"""Issues, customers and the timeline of what happened to an issue.

An issue changes only through its transitions (`Issue.open`, `enter_step`, `raise_priority`,
`resolve`, `reopen`, `change_type`, `with_execution`): pure functions of the issue that return the
new issue, or raise `TransitionRefused` when its state does not allow the change. Storing the result
is the repository's business (decision 0021).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ulid import ULID

from chalicelib.domain.errors import Conflict

OPEN = "open"
RESOLVED = "resolved"

WEB = "web"
EMAIL = "email"

# A reference is read out on the phone and typed from emails: no 0/O, 1/I/L lookalikes.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REFERENCE_PREFIX = "CF-"


def new_id() -> str:
    return str(ULID())


def new_reference() -> str:
    """A short human code such as CF-7K3Q9; uniqueness is enforced when the issue is stored."""
    return REFERENCE_PREFIX + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(5))


def looks_like_reference(text: str) -> bool:
    """Whether `text` is a reference as someone might type it (`cf-7k3q9`, ` CF-7K3Q9 `)."""
    code = text.strip().upper()
    return (
        len(code) == len(REFERENCE_PREFIX) + 5
        and code.startswith(REFERENCE_PREFIX)
        and all(c in REFERENCE_ALPHABET for c in code[len(REFERENCE_PREFIX) :])
    )


def normalise_email(address: str) -> str:
    return address.strip().lower()


STANDARD_SEGMENT = "standard"
PRIORITIES = ("low", "normal", "high", "urgent")
NORMAL_PRIORITY = "normal"


def raised(priority: str) -> str:
    """The next priority up; urgent stays urgent."""
    index = PRIORITIES.index(priority) if priority in PRIORITIES else 1
    return PRIORITIES[min(index + 1, len(PRIORITIES) - 1)]


@dataclass
class Customer:
    id: str
    email: str
    name: str = ""
    segment: str = STANDARD_SEGMENT
    #: The language the customer reads (en, de, fr, es, tr): the one they reported in or last switched
    #: to on their status page; every later email is in it. Empty: not known (English).
    language: str = ""
    #: Their IANA time zone, as their browser said on the report form; empty: not known.
    time_zone: str = ""


@dataclass
class TimelineEvent:
    """One entry on an issue's timeline (and the customer's history across issues)."""

    at: datetime
    kind: str
    text: str
    actor: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "kind": self.kind,
            "actor": self.actor,
            "text": self.text,
            "data": self.data,
        }


class TransitionRefused(Conflict):
    """The issue's state does not allow the change (e.g. reopening an issue that is not resolved)."""


class StaleIssue(Conflict):
    """The issue was changed by someone else since this copy of it was read: nothing was written."""


@dataclass(frozen=True)
class Issue:
    id: str
    reference: str
    type_id: str
    type_version: int
    status: str
    channel: str
    customer_id: str
    fields: dict[str, Any]
    created_at: datetime
    execution_arn: str = ""
    current_step: str = ""
    priority: str = NORMAL_PRIORITY
    resolved_at: datetime | None = None
    #: Why no automatic reply may go to the message that opened the issue (loop protection).
    auto_reply_blocked: str = ""
    #: What the classifier said when it chose the type, or sent the issue to triage.
    classification: dict[str, Any] | None = None
    #: How many workflows the issue has had: a change of type or a reopening starts the next one.
    run: int = 1
    #: The first resolution (resolution time, FCR and reopen rate count from it), and how many
    #: times the issue was reopened since.
    first_resolved_at: datetime | None = None
    reopenings: int = 0
    #: Whether the customer had written once when it was first resolved (first-contact resolution).
    resolved_with_one_contact: bool | None = None
    #: When the customer last wrote to us after opening the issue (a reply by email or on the status
    #: page, a file they added), and when an agent last wrote back to them: a task's holder sees
    #: "customer replied" while the first is later than the second (decision 0030).
    customer_wrote_at: datetime | None = None
    answered_at: datetime | None = None
    #: The stored version this copy was read at, for optimistic locking; 0 before it was first
    #: written under a version. Not part of what the issue is: equal issues may differ in it.
    version: int = field(default=0, compare=False)

    @property
    def execution_name(self) -> str:
        return self.id if self.run == 1 else f"{self.id}-{self.run}"

    # Transitions: each returns the issue as it is after the change, or raises TransitionRefused.

    @classmethod
    def open(
        cls,
        *,
        id: str,
        reference: str,
        type_id: str,
        type_version: int,
        channel: str,
        customer_id: str,
        fields: dict[str, Any],
        created_at: datetime,
        execution_arn: str = "",
        auto_reply_blocked: str = "",
        classification: dict[str, Any] | None = None,
    ) -> Issue:
        """A new issue: open, of normal priority, in its first run, never resolved."""
        return cls(
            id=id,
            reference=reference,
            type_id=type_id,
            type_version=type_version,
            status=OPEN,
            channel=channel,
            customer_id=customer_id,
            fields=fields,
            created_at=created_at,
            execution_arn=execution_arn,
            auto_reply_blocked=auto_reply_blocked,
            classification=classification,
        )

    def enter_step(self, step_id: str) -> Issue:
        """The workflow reached a step that waits (a task, or the customer's reply)."""
        return replace(self, current_step=step_id)

    def raise_priority(self) -> Issue:
        """One priority up (an escalation level may ask for it); urgent stays urgent."""
        return replace(self, priority=raised(self.priority))

    def resolve(self, now: datetime, *, one_contact: bool) -> Issue:
        """Resolved now. The first resolution is the one resolution time, first-contact resolution
        and the reopen rate count from: it alone records `first_resolved_at` and whether the customer
        had written once (`one_contact`, ignored by a later resolution). Refused if resolved already."""
        if self.status == RESOLVED:
            raise TransitionRefused(f"issue {self.reference} is resolved already")
        resolved = replace(self, status=RESOLVED, resolved_at=now, current_step="")
        if self.first_resolved_at is not None:
            return resolved
        return replace(resolved, first_resolved_at=now, resolved_with_one_contact=one_contact)

    def reopen(self, run: int | None = None) -> Issue:
        """Open again, counted as a reopening, as the next run of its process (see `next_run`).

        Refused unless the issue is resolved, and, with `run`, still in that run (the one in which
        the decision to reopen was taken: a concurrent reopening and resolution moved it on).
        """
        if self.status != RESOLVED or (run is not None and self.run != run):
            raise TransitionRefused(f"issue {self.reference} is not resolved; only a resolved issue can be reopened")
        return replace(self, status=OPEN, reopenings=self.reopenings + 1).next_run()

    def change_type(self, type_id: str, type_version: int, fields: dict[str, Any], run: int | None = None) -> Issue:
        """Of another type (and version) with the fields carried over, as the next run of its process.

        Refused for a resolved issue (it keeps its type), for the type it has, and, with `run`, once
        the issue is no longer in that run (a concurrent change moved it on).
        """
        if self.status == RESOLVED:
            raise TransitionRefused("a resolved issue keeps its type")
        if type_id == self.type_id or (run is not None and self.run != run):
            raise TransitionRefused(f"issue {self.reference} changed meanwhile; reload it and try again")
        return replace(self, type_id=type_id, type_version=type_version, fields=fields).next_run()

    def next_run(self) -> Issue:
        """The process starts again from its first step as the issue's next run (`<id>-<run>`); no
        execution runs it until `with_execution` records one."""
        return replace(self, run=self.run + 1, current_step="", execution_arn="")

    def with_execution(self, execution_arn: str) -> Issue:
        """The workflow execution that runs the issue's current run."""
        return replace(self, execution_arn=execution_arn)

    def customer_wrote(self, at: datetime) -> Issue:
        """The customer wrote to us again (a reply, a message on the status page, a file)."""
        if self.customer_wrote_at is not None and self.customer_wrote_at >= at:
            return self
        return replace(self, customer_wrote_at=at)

    def answered(self, at: datetime) -> Issue:
        """An agent wrote to the customer in the issue's thread."""
        if self.answered_at is not None and self.answered_at >= at:
            return self
        return replace(self, answered_at=at)
