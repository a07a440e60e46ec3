"""Issues, customers and the timeline of what happened to an issue."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ulid import ULID

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


@dataclass
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

    @property
    def execution_name(self) -> str:
        return self.id if self.run == 1 else f"{self.id}-{self.run}"
