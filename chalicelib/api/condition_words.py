"""Conditions (`when`, `shown_when`, `required_when`) written in words, for the people who read them.

A customer's form reads a field condition in the customer's voice ("you answered “Store”"); the
admin's process diagram reads every condition in the team's voice, answers given in earlier steps
and the customer's segment included. Values read as the field shows them (an option's label,
Yes/No), never as stored.
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain.conditions import CUSTOMER, FIELD, IS_SET, Condition, When
from chalicelib.domain.fields import FieldSpec
from chalicelib.domain.issue_types import IssueType

_OPERATOR_WORDS = {
    "equals": "is",
    "not_equals": "is not",
    "in": "is one of",
    "not_in": "is not one of",
    "greater_than": "is more than",
    "less_than": "is less than",
    "at_least": "is at least",
    "at_most": "is at most",
}


def for_customer(when: When | None, issue_type: IssueType) -> str:
    """The field conditions as a customer reads them, e.g. “Reason” is “I had cancelled the service”."""
    if when is None:
        return ""
    return " and ".join(_for_customer(c, issue_type) for c in when.conditions if c.subject == FIELD)


def for_team(when: When | None, issue_type: IssueType) -> str:
    """Every condition as the team reads it, e.g. “Severity” (Technical triage) is not “Sev 3”."""
    if when is None:
        return ""
    return " and ".join(_for_team(c, issue_type) for c in when.conditions)


def _for_customer(condition: Condition, issue_type: IssueType) -> str:
    spec = issue_type.field(condition.ref)
    label = spec.label if spec else condition.ref
    if condition.operator == IS_SET:
        return f"you answered “{label}”" if condition.value else f"you left “{label}” empty"
    return f"“{label}” {_comparison(condition, spec)}"


def _for_team(condition: Condition, issue_type: IssueType) -> str:
    if condition.subject == CUSTOMER:
        subject, spec = f"the customer's {condition.ref}", None
    elif condition.subject == FIELD:
        spec = issue_type.field(condition.ref)
        subject = f"“{spec.label if spec else condition.ref}”"
    else:
        step_id, _, field_id = condition.ref.partition(".")
        step = next((s for s in issue_type.all_steps() if s.id == step_id), None)
        spec = next((f for f in step.fields if f.id == field_id), None) if step else None
        label = spec.label if spec else field_id
        subject = f"“{label}” ({step.name if step else step_id})"
    if condition.operator == IS_SET:
        return f"{subject} is {'answered' if condition.value else 'empty'}"
    return f"{subject} {_comparison(condition, spec)}"


def _comparison(condition: Condition, spec: FieldSpec | None) -> str:
    values = condition.value if isinstance(condition.value, list) else [condition.value]
    shown = ", ".join(f"“{_shown_value(spec, v)}”" for v in values)
    words = _OPERATOR_WORDS.get(condition.operator, condition.operator.replace("_", " "))
    return f"{words} {shown}"


def _shown_value(spec: FieldSpec | None, value: Any) -> str:
    if spec is None:
        return str(value)
    return str(spec.display(value))
