"""How an email about a task reads: in words, from the same view the agents' API gives the holder.

The email says what the customer wrote (when they wrote back), where the task lives in the agents'
workspace, the issue and step, the deadline and next checkpoint in the reader's time zone beside
UTC, what the customer told us (option labels, not codes), what the step asks, and what earlier
steps answered (`task_views.holder_view`, so the email and `GET /agent/tasks/{id}` say the same).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from chalicelib.domain.local_times import in_words

_INDENT = "    "


def task_email(
    subject: str,
    view: Mapping[str, Any],
    *,
    holder: str,
    link: str,
    time_zone: str,
    words: str = "",
    wrote_at: datetime | None = None,
    earlier: bool = True,
) -> str:
    """The body of an email about the task `view` shows; `link` (a line or two) says where to act,
    `holder` who holds it, and `words` what the customer wrote at `wrote_at`. Without `earlier`,
    the earlier steps' answers are left out (an outside party sees no internal answers)."""
    issue = view["issue"]
    lines = [subject, ""]
    lines += _customer_wrote(words, wrote_at, time_zone)
    lines += [link, ""]
    lines.append(f"Issue {issue['reference']}: {issue['type_name']} (reported by {issue['channel']})")
    lines.append(f"Step: {view['step_name']}, held by {holder}")
    lines.append(f"Due: {in_words(datetime.fromisoformat(view['due_at']), time_zone)}")
    if view.get("next_checkpoint_at"):
        lines.append(f"Next checkpoint: {in_words(datetime.fromisoformat(view['next_checkpoint_at']), time_zone)}")
    if view.get("breached"):
        lines.append("The deadline has passed.")
    lines.append("")
    lines += _facts(issue["fields"])
    lines += _asks(view["form"]["fields"])
    if earlier:
        lines += _earlier(view["earlier_answers"], time_zone)
    lines.append(f"Task id: {view['id']}")
    return "\n".join(lines) + "\n"


def issue_email(
    subject: str,
    facts: Mapping[str, Any],
    *,
    link: str,
    first_step: str,
    time_zone: str,
    words: str = "",
    wrote_at: datetime | None = None,
) -> str:
    """The body of an email about an issue with no task open now: to whoever is given it first."""
    lines = [subject, ""]
    lines += _customer_wrote(words, wrote_at, time_zone)
    lines += [link, ""]
    lines.append(f"Issue {facts['reference']}: {facts['type_name']} (reported by {facts['channel']})")
    lines.append(f"No task of this issue is open now; you are the first to handle it ({first_step}).")
    lines.append("")
    lines += _facts(facts["fields"])
    return "\n".join(lines) + "\n"


def _customer_wrote(words: str, wrote_at: datetime | None, time_zone: str) -> list[str]:
    if not words:
        return []
    when = f" ({in_words(wrote_at, time_zone)})" if wrote_at else ""
    return [f"The customer wrote{when}:", *_quoted(words), ""]


def _facts(fields: Iterable[Mapping[str, Any]]) -> list[str]:
    shown = [line for f in fields for line in _labelled(f["label"], f["value"])]
    return ["What the customer told us:", *shown, ""] if shown else []


def _asks(fields: Iterable[Mapping[str, Any]]) -> list[str]:
    asked = []
    for spec in fields:
        notes = ["required"] if spec.get("required") else []
        if spec.get("options"):
            notes.append("one of: " + ", ".join(o["label"] for o in spec["options"]))
        elif spec.get("type") == "yes_no":
            notes.append("yes or no")
        asked.append(f"  - {spec['label']}" + (f" ({'; '.join(notes)})" if notes else ""))
        if spec.get("help"):
            asked.append(f"    {spec['help']}")
    return ["What this step asks:", *asked, ""] if asked else []


def _earlier(answers: Iterable[Mapping[str, Any]], time_zone: str) -> list[str]:
    lines = []
    for step in answers:
        by = f"by {step['completed_by']}" if step.get("completed_by") else ""
        at = in_words(datetime.fromisoformat(step["completed_at"]), time_zone) if step.get("completed_at") else ""
        said = ", ".join(part for part in (by, at) if part)
        lines.append(f"  {step['step_name']}" + (f" ({said})" if said else "") + ":")
        lines += [_INDENT + line for answer in step["answers"] for line in _labelled(answer["label"], answer["value"])]
    return ["Earlier answers:", *lines, ""] if lines else []


def _labelled(label: str, value: Any) -> list[str]:
    """`  Label: value`, a value of several lines indented under its label."""
    text = str(value).strip()
    if "\n" not in text:
        return [f"  {label}: {text}"]
    return [f"  {label}:", *(_INDENT + line for line in text.splitlines())]


def _quoted(words: str) -> list[str]:
    return [f"  > {line}".rstrip() for line in words.strip().splitlines()] or ["  >"]
