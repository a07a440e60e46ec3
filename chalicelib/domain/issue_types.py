"""Issue types as data: the customer's fields and the ordered steps of the process.

A definition arrives as plain data (a YAML seed or JSON from the admin API) and is parsed into
these immutable objects; every problem is reported with the path where it occurs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from chalicelib.domain.durations import parse_duration
from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.fields import DefinitionProblems, FieldSpec, parse_field_specs
from chalicelib.domain.templates import template_problem

HUMAN_TASK = "task"
EMAIL_CUSTOMER = "email_customer"
STEP_KINDS = (HUMAN_TASK, EMAIL_CUSTOMER)
MAX_ESCALATION_LEVELS = 4
#: Names of the states the compiler adds around the steps.
RESERVED_STEP_IDS = ("acknowledge", "resolve", "resolved")
_TYPE_ID = re.compile(r"^[a-z][a-z0-9-]{1,40}$")
_STEP_ID = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
_ROLE = re.compile(r"^[a-z][a-z0-9-]{0,40}$")


@dataclass(frozen=True)
class Assignment:
    """Who holds a task at one level of its escalation ladder, and for how long."""

    role: str
    deadline: timedelta


@dataclass(frozen=True)
class Step:
    id: str
    name: str
    kind: str
    role: str = ""
    deadline: timedelta | None = None
    fields: tuple[FieldSpec, ...] = ()
    escalation: tuple[Assignment, ...] = ()
    subject: str = ""
    body: str = ""

    @property
    def levels(self) -> tuple[Assignment, ...]:
        """Level 0 is the step's own assignee; each escalation adds a level."""
        if self.kind != HUMAN_TASK or self.deadline is None:
            return ()
        return (Assignment(self.role, self.deadline), *self.escalation)


@dataclass(frozen=True)
class IssueType:
    id: str
    name: str
    description: str
    fields: tuple[FieldSpec, ...]
    steps: tuple[Step, ...]

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def roles(self) -> set[str]:
        """Every role that can hold one of this type's tasks, escalation levels included."""
        return {level.role for step in self.steps for level in step.levels}

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "fields": [f.as_dict() for f in self.fields],
        }


@dataclass(frozen=True)
class PublishedType:
    """A version as stored: the definition as submitted and its state machine."""

    type_id: str
    version: int
    definition: dict[str, Any]
    state_machine_arn: str


def parse_issue_type(raw: Any) -> IssueType:
    """Validate a definition and build the issue type; raise ValidationFailed listing every problem."""
    problems = DefinitionProblems()
    if not isinstance(raw, Mapping):
        problems.add("", "an issue type must be a mapping")
        raise ValidationFailed(problems.errors)
    type_id = raw.get("id")
    if not isinstance(type_id, str) or not _TYPE_ID.match(type_id):
        problems.add("id", "must be lower-kebab-case, 2 to 41 characters")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.add("name", "is required")
    fields = parse_field_specs(raw.get("fields"), "fields", problems)
    steps = _parse_steps(raw.get("steps"), problems)
    if problems.errors:
        raise ValidationFailed(problems.errors)
    return IssueType(
        id=type_id,
        name=name.strip(),
        description=str(raw.get("description", "")).strip(),
        fields=fields,
        steps=steps,
    )


def _parse_steps(raw: Any, problems: DefinitionProblems) -> tuple[Step, ...]:
    if not isinstance(raw, list) or not raw:
        problems.add("steps", "must be a non-empty list")
        return ()
    steps: list[Step] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        path = f"steps[{index}]"
        if not isinstance(item, Mapping):
            problems.add(path, "must be a mapping")
            continue
        step = _parse_step(item, path, problems)
        if step is None:
            continue
        if step.id in seen:
            problems.add(f"{path}.id", f"duplicate step id {step.id!r}")
        seen.add(step.id)
        steps.append(step)
    return tuple(steps)


def _parse_step(item: Mapping[str, Any], path: str, problems: DefinitionProblems) -> Step | None:
    before = len(problems.errors)
    step_id = item.get("id")
    if not isinstance(step_id, str) or not _STEP_ID.match(step_id):
        problems.add(f"{path}.id", "must be lower_snake_case, starting with a letter")
    elif step_id in RESERVED_STEP_IDS:
        problems.add(f"{path}.id", f"{step_id!r} is reserved; reserved ids: {', '.join(RESERVED_STEP_IDS)}")
    kind = item.get("kind", HUMAN_TASK)
    if kind not in STEP_KINDS:
        problems.add(f"{path}.kind", f"must be one of {', '.join(STEP_KINDS)}")
        return None
    name = str(item.get("name") or step_id)
    if kind == EMAIL_CUSTOMER:
        for key in ("subject", "body"):
            text = item.get(key)
            if not isinstance(text, str) or not text.strip():
                problems.add(f"{path}.{key}", "is required for an email_customer step")
            elif problem := template_problem(text):
                problems.add(f"{path}.{key}", problem)
        if len(problems.errors) > before:
            return None
        return Step(id=step_id, name=name, kind=kind, subject=item["subject"], body=item["body"])
    role = _parse_role(item.get("role"), f"{path}.role", problems)
    deadline = _parse_deadline(item.get("deadline"), f"{path}.deadline", problems)
    fields = parse_field_specs(item.get("fields"), f"{path}.fields", problems)
    escalation = _parse_escalation(item.get("escalation"), f"{path}.escalation", problems)
    if len(problems.errors) > before:
        return None
    return Step(
        id=step_id,
        name=name,
        kind=kind,
        role=role,
        deadline=deadline,
        fields=fields,
        escalation=escalation,
    )


def _parse_escalation(raw: Any, path: str, problems: DefinitionProblems) -> tuple[Assignment, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.add(path, "must be a list of levels")
        return ()
    if len(raw) > MAX_ESCALATION_LEVELS:
        problems.add(path, f"at most {MAX_ESCALATION_LEVELS} levels")
    levels = []
    for index, item in enumerate(raw):
        level_path = f"{path}[{index}]"
        if not isinstance(item, Mapping):
            problems.add(level_path, "must be a mapping with role and deadline")
            continue
        role = _parse_role(item.get("role"), f"{level_path}.role", problems)
        deadline = _parse_deadline(item.get("deadline"), f"{level_path}.deadline", problems)
        if role and deadline:
            levels.append(Assignment(role, deadline))
    return tuple(levels)


def _parse_role(raw: Any, path: str, problems: DefinitionProblems) -> str:
    if not isinstance(raw, str) or not _ROLE.match(raw):
        problems.add(path, "must be a role name in lower-kebab-case")
        return ""
    return raw


def _parse_deadline(raw: Any, path: str, problems: DefinitionProblems) -> timedelta | None:
    if raw is None:
        problems.add(path, "is required")
        return None
    try:
        return parse_duration(raw)
    except ValueError as exc:
        problems.add(path, str(exc))
        return None
