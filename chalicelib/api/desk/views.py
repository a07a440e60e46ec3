"""How the desk shows what the services return: countdowns to a task's next checkpoint, moments
in the agent's time zone, timeline entries by who they are for, holders and attachments in words.

Plain functions of plain data, so the templates stay loops and each decision is tested without HTML.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.local_times import in_words
from chalicelib.reporting.formats import duration

ON_TIME, SOON, OVERDUE = "on-time", "soon", "overdue"
#: Without a warning of its own, a task this close to its deadline is shown as due soon.
SOON_WITHOUT_WARNINGS = timedelta(hours=1)
#: How each kind of timeline entry is labelled, and who it is for (its CSS class and its words).
_ENTRY_KINDS: Mapping[str, tuple[str, str]] = {
    "issue_opened": ("customer", "Report"),
    "customer_message": ("customer", "Customer"),
    "attachment_added": ("customer", "File from the customer"),
    "survey_answered": ("customer", "Survey"),
    "email_sent": ("to-customer", "Email to the customer"),
    "email_failed": ("problem", "Email not sent"),
    "email_delayed": ("problem", "Email delayed"),
    "email_suppressed": ("problem", "Email held back"),
    "internal_note": ("internal", "Internal note"),
}
_IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
_IMAGE_ENDINGS = (".png", ".jpg", ".jpeg", ".gif", ".webp")


@dataclass(frozen=True)
class Countdown:
    """A task's deadline as a queue reads it: the words and the state they are coloured by."""

    text: str
    state: str
    #: The next checkpoint after the deadline (an escalation), in words; "" when there is none.
    then: str = ""


def moment(value: str | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def countdown(task: Mapping[str, Any], now: datetime) -> Countdown:
    """“Due in 2 h 10 min”, “Due soon: in 20 min” once a warning has passed, “Overdue by 35 min”
    (with the escalation to come, if any)."""
    due = moment(task["due_at"])
    assert due is not None
    if now >= due:
        following = moment(task.get("next_checkpoint_at"))
        then = f"escalates in {duration((following - now).total_seconds())}" if following and following > now else ""
        return Countdown(f"Overdue by {duration((now - due).total_seconds())}", OVERDUE, then)
    left = due - now
    warnings = [moment(m) for m in task.get("checkpoints", [])[1:]]
    warned = any(m is not None and m < due and m <= now for m in warnings)
    has_warnings = any(m is not None and m < due for m in warnings)
    if warned or (not has_warnings and left <= SOON_WITHOUT_WARNINGS):
        return Countdown(f"Due soon: in {duration(left.total_seconds())}", SOON)
    return Countdown(f"Due in {duration(left.total_seconds())}", ON_TIME)


def when(value: str | datetime | None, zone: str) -> str:
    """A moment in the agent's zone, with UTC beside it (`local_times.in_words`); "" for none."""
    found = moment(value)
    return in_words(found, zone) if found else ""


def holder(assignee: Mapping[str, str] | None) -> str:
    """Who holds a task, in words: “sam”, “the role hr”, “the team hr-leeds”, “york.manager@…”."""
    if not assignee:
        return ""
    kind, name = assignee.get("kind", ""), assignee.get("name", "")
    if kind == "user":
        return name
    if kind in ("role", "team"):
        return f"the {kind} {name}"
    if kind == "customer":
        return "the customer"
    return name


@dataclass(frozen=True)
class Entry:
    at: str
    who: str
    kind: str
    label: str
    text: str


def timeline(entries: Iterable[Mapping[str, Any]], zone: str) -> list[Entry]:
    """The issue's timeline, newest last, each entry with who it is for: `customer` (what they
    told us), `to-customer` (what we sent them), `problem` (an email not sent, and why),
    `internal` (notes, never shown to the customer) or `process` (tasks, escalations, warnings)."""
    shown = []
    for entry in entries:
        kind, label = _ENTRY_KINDS.get(entry.get("kind", ""), ("process", _words(entry.get("kind", ""))))
        data = entry.get("data") or {}
        channel = data.get("channel") or (data.get("email") and "email") or ""
        if kind == "customer" and channel:
            label = f"{label} ({channel.replace('_', ' ')})"
        text = entry.get("text", "")
        if kind == "problem" and data.get("reason"):
            text = f"{text} ({data['reason']})"
        shown.append(Entry(when(entry.get("at"), zone), entry.get("actor", ""), kind, label, text))
    return shown


def is_image(attachment: Mapping[str, Any]) -> bool:
    content_type = str(attachment.get("content_type") or "").lower()
    return content_type in _IMAGE_TYPES or str(attachment.get("name", "")).lower().endswith(_IMAGE_ENDINGS)


def _words(kind: str) -> str:
    return kind.replace("_", " ").capitalize()
