"""Conditions in issue type definitions: when a step runs, when a field is shown or required.

A condition compares one subject with a value: a customer field (`field: amount`), an answer
given in an earlier step (`result: hr_decision.decision`) or the customer's segment
(`customer: segment`). A list of conditions holds when all of them do. The same conditions are
evaluated here (form fields) and compiled to Step Functions `Choice` rules (steps).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.problems import DefinitionProblems

FIELD = "field"
RESULT = "result"
CUSTOMER = "customer"
SUBJECTS = (FIELD, RESULT, CUSTOMER)
CUSTOMER_ATTRIBUTES = ("segment",)

EQUALS = "equals"
NOT_EQUALS = "not_equals"
IN = "in"
NOT_IN = "not_in"
GREATER_THAN = "greater_than"
LESS_THAN = "less_than"
AT_LEAST = "at_least"
AT_MOST = "at_most"
IS_SET = "is_set"
OPERATORS = (EQUALS, NOT_EQUALS, IN, NOT_IN, GREATER_THAN, LESS_THAN, AT_LEAST, AT_MOST, IS_SET)
ORDERING = (GREATER_THAN, LESS_THAN, AT_LEAST, AT_MOST)


@dataclass(frozen=True)
class Condition:
    subject: str  # field | result | customer
    ref: str  # field id, "<step>.<field>", or a customer attribute
    operator: str
    value: Any

    def describe(self) -> str:
        return f"{self.subject} {self.ref} {self.operator.replace('_', ' ')} {self.value!r}"

    def holds(self, actual: Any) -> bool:
        """Evaluate against the subject's value; a missing value only satisfies negative tests."""
        missing = actual is None or actual == "" or actual == []
        if self.operator == IS_SET:
            return missing != bool(self.value)
        if self.operator == NOT_EQUALS:
            return missing or actual != self.value
        if self.operator == NOT_IN:
            return missing or actual not in self.value
        if missing:
            return False
        if self.operator == EQUALS:
            return actual == self.value
        if self.operator == IN:
            return actual in self.value
        try:
            if self.operator == GREATER_THAN:
                return actual > self.value
            if self.operator == LESS_THAN:
                return actual < self.value
            if self.operator == AT_LEAST:
                return actual >= self.value
            return actual <= self.value
        except TypeError:
            return False


@dataclass(frozen=True)
class When:
    """All of these conditions must hold."""

    conditions: tuple[Condition, ...]

    def holds(self, values: Mapping[str, Any]) -> bool:
        """Evaluate against customer field values (conditions on other subjects are not known here)."""
        return all(c.holds(values.get(c.ref)) for c in self.conditions if c.subject == FIELD)

    def describe(self) -> str:
        return " and ".join(c.describe() for c in self.conditions)


def parse_when(raw: Any, path: str, problems: DefinitionProblems, subjects: tuple[str, ...] = SUBJECTS) -> When | None:
    """Parse one condition or a list of them. Whether the subjects exist is checked by the caller."""
    if raw is None:
        return None
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        problems.add(path, "must be a condition or a non-empty list of conditions")
        return None
    conditions = []
    for index, item in enumerate(items):
        item_path = f"{path}[{index}]" if isinstance(raw, list) else path
        condition = _parse_condition(item, item_path, problems, subjects)
        if condition:
            conditions.append(condition)
    return When(tuple(conditions)) if len(conditions) == len(items) else None


def _parse_condition(raw: Any, path: str, problems: DefinitionProblems, subjects: tuple[str, ...]) -> Condition | None:
    if not isinstance(raw, Mapping):
        problems.add(path, "must be a mapping like {field: amount, greater_than: 100}")
        return None
    given_subjects = [s for s in subjects if s in raw]
    given_operators = [o for o in OPERATORS if o in raw]
    unknown = sorted(set(raw) - set(subjects) - set(OPERATORS))
    if unknown:
        problems.add(path, f"unknown key {unknown[0]!r}; use one of {', '.join(subjects)} and one operator")
        return None
    if len(given_subjects) != 1:
        problems.add(path, f"needs exactly one of {', '.join(subjects)}")
        return None
    if len(given_operators) != 1:
        problems.add(path, f"needs exactly one operator: {', '.join(OPERATORS)}")
        return None
    subject, operator = given_subjects[0], given_operators[0]
    ref, value = raw[subject], raw[operator]
    if not isinstance(ref, str) or not ref:
        problems.add(f"{path}.{subject}", "must name what to compare")
        return None
    if subject == CUSTOMER and ref not in CUSTOMER_ATTRIBUTES:
        problems.add(f"{path}.{subject}", f"must be one of {', '.join(CUSTOMER_ATTRIBUTES)}")
        return None
    if subject == RESULT and ref.count(".") != 1:
        problems.add(f"{path}.{subject}", "must be <step id>.<field id>")
        return None
    if operator in (IN, NOT_IN) and (not isinstance(value, list) or not value):
        problems.add(f"{path}.{operator}", "must be a non-empty list")
        return None
    if operator == IS_SET and not isinstance(value, bool):
        problems.add(f"{path}.{operator}", "must be true or false")
        return None
    if operator in ORDERING and (isinstance(value, bool) or not isinstance(value, (int, float, str))):
        problems.add(f"{path}.{operator}", "must be a number or a date")
        return None
    if operator in (EQUALS, NOT_EQUALS) and not isinstance(value, (str, int, float, bool)):
        problems.add(f"{path}.{operator}", "must be a single value")
        return None
    return Condition(subject, ref, operator, value)
