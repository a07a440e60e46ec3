"""The seeded issue types' emails to customers, rendered for every answer our team can give: they
speak to the customer, and quote only what our team wrote knowing the customer would read it."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from chalicelib.domain.fields import FieldSpec
from chalicelib.domain.issue_types import EMAIL_CUSTOMER, WAIT_FOR_CUSTOMER, IssueType, Step, parse_issue_type
from chalicelib.domain.issue_types import with_shared_calendars as with_calendars
from chalicelib.domain.templates import render
from chalicelib.workflows.seeds import load_seed_definitions, load_shared_calendars

_QUOTED_RESULT = re.compile(r"results\.([a-z0-9_]+)\.([a-z0-9_]+)")


def seeded_types() -> list[IssueType]:
    shared = load_shared_calendars()
    return [
        parse_issue_type(json.loads(json.dumps(with_calendars(d, shared), default=str)))
        for d in load_seed_definitions()
    ]


def emails(issue_type: IssueType) -> list[Step]:
    """Every message the type sends the customer: its acknowledgement, emails and reminders."""
    found = [s for s in issue_type.all_steps() if s.kind in (EMAIL_CUSTOMER, WAIT_FOR_CUSTOMER)]
    return [*([issue_type.acknowledgement] if issue_type.acknowledgement else []), *found]


def sample(spec: FieldSpec, option: int = 0) -> Any:
    if spec.options:
        chosen = spec.options[option % len(spec.options)].value
        return [chosen] if spec.type == "multi_choice" else chosen
    return {"number": 120, "yes_no": option % 2 == 0, "date": "2026-11-20"}.get(spec.type, f"[{spec.id}]")


def contexts(issue_type: IssueType) -> list[dict[str, Any]]:
    """A context per answer of every choice our team makes (each option once), the rest filled in."""
    steps = [s for s in issue_type.all_steps() if s.fields]
    widest = max([len(f.options) for s in steps for f in s.fields] + [2])
    found = []
    for option in range(widest):
        fields = {f.id: sample(f) for f in issue_type.fields}
        results = {}
        for step in steps:
            values: dict[str, Any] = {f.id: sample(f, option) for f in step.fields}
            values.update({f"{f.id}_label": f.display(values[f.id]) for f in step.fields})
            results[step.id] = values
        found.append(
            {
                "issue": {
                    "id": "01ISSUE",
                    "reference": "CF-ABCDE",
                    "type": issue_type.id,
                    "type_name": issue_type.name,
                },
                "customer": {"name": "Jo Bloggs", "email": "jo@example.com", "segment": "standard"},
                "fields": fields,
                "shown": {f.id: f.display(v) for f in issue_type.fields if (v := fields.get(f.id)) is not None},
                "results": results,
            }
        )
    return found


@pytest.mark.parametrize("issue_type", seeded_types(), ids=lambda t: t.id)
def test_customer_emails_speak_to_the_customer_not_about_them(issue_type: IssueType) -> None:
    for step in emails(issue_type):
        for context in contexts(issue_type):
            text = f"{render(step.subject, context)}\n{render(step.body, context)}"
            assert "the customer" not in text.lower(), f"{issue_type.id}.{step.id} reads like a note:\n{text}"


@pytest.mark.parametrize("issue_type", seeded_types(), ids=lambda t: t.id)
def test_customer_emails_quote_only_answers_written_for_the_customer(issue_type: IssueType) -> None:
    """An agent's free text reaches the customer only from a field whose label says so."""
    for step in emails(issue_type):
        for step_id, field_id in _QUOTED_RESULT.findall(step.subject + step.body):
            source = issue_type.step(step_id)
            if source.kind == WAIT_FOR_CUSTOMER:
                continue  # the customer's own reply
            spec = next(f for f in source.fields if f.id == field_id.removesuffix("_label"))
            if spec.type in ("text", "long_text"):
                assert "customer" in spec.label.lower(), (
                    f"{issue_type.id}.{step.id} emails {step_id}.{field_id} to the customer, "
                    f"but its label {spec.label!r} does not tell {step_id}'s holder that the customer reads it"
                )
