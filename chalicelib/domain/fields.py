"""The field model shared by customer forms and step forms: definition and validation of values."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from chalicelib.domain import free_text
from chalicelib.domain.conditions import FIELD, When, parse_when
from chalicelib.domain.errors import FieldError, ValidationFailed
from chalicelib.domain.problems import DefinitionProblems

FIELD_TYPES = (
    "text",
    "long_text",
    "email",
    "phone",
    "number",
    "date",
    "datetime",
    "choice",
    "multi_choice",
    "yes_no",
)
_TEXT_TYPES = {"text", "long_text", "email", "phone"}
_DATE_TYPES = {"date", "datetime"}
_ID = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_PHONE = re.compile(r"^\+?[0-9 ()./-]{6,20}$")
TODAY = "today"
_LOCAL_DAY_SLACK = timedelta(hours=14)
_DATE_BOUNDS = (
    ("min", lambda value, limit: value < limit, "before"),
    ("max", lambda value, limit: value > limit, "after"),
)
_FIELD_KEYS = {
    "id",
    "label",
    "type",
    "required",
    "help",
    "pattern",
    "options",
    "min",
    "max",
    "shown_when",
    "required_when",
}
MAX_TEXT_LENGTH = {
    "text": free_text.LINE_LENGTH,
    "long_text": free_text.MESSAGE_LENGTH,
    "email": free_text.EMAIL_LENGTH,
    "phone": free_text.PHONE_LENGTH,
}


@dataclass(frozen=True)
class Option:
    """A choice's value and label, plus any attributes an admin attached (e.g. the store's manager)."""

    value: str
    label: str
    attributes: tuple[tuple[str, str], ...] = ()

    def attribute(self, name: str) -> str | None:
        return dict(self.attributes).get(name)


@dataclass(frozen=True)
class FieldSpec:
    id: str
    label: str
    type: str
    required: bool = False
    help: str = ""
    pattern: str | None = None
    options: tuple[Option, ...] = ()
    min: Any = None
    max: Any = None
    shown_when: When | None = None
    required_when: When | None = None
    #: How a yes_no value reads to a person; `type_texts.in_language` puts them in the reader's language.
    yes_no_words: tuple[str, str] = ("Yes", "No")

    def display(self, value: Any) -> Any:
        """How a value reads to a person: an option's label, Yes/No, or the value itself."""
        if self.type == "yes_no" and isinstance(value, bool):
            return self.yes_no_words[0] if value else self.yes_no_words[1]
        if self.type == "multi_choice" and isinstance(value, list):
            return ", ".join(str(self.display_option(v)) for v in value)
        return self.display_option(value)

    def display_option(self, value: Any) -> Any:
        return next((o.label for o in self.options if o.value == value), value)

    def as_dict(self) -> dict[str, Any]:
        """The public shape of a field, for forms and API clients."""
        data: dict[str, Any] = {
            "id": self.id,
            "label": self.label,
            "type": self.type,
            "required": self.required,
        }
        if self.help:
            data["help"] = self.help
        if self.pattern:
            data["pattern"] = self.pattern
        if self.options:
            data["options"] = [{"value": o.value, "label": o.label} for o in self.options]
        for bound in ("min", "max"):
            if getattr(self, bound) is not None:
                data[bound] = getattr(self, bound)
        for name in ("shown_when", "required_when"):
            when = getattr(self, name)
            if when is not None:
                data[name] = [{"field": c.ref, c.operator: c.value} for c in when.conditions]
        return data


def parse_field_specs(raw: Any, path: str, problems: DefinitionProblems) -> tuple[FieldSpec, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.add(path, "must be a list of fields")
        return ()
    specs: list[FieldSpec] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        spec = _parse_field_spec(item, f"{path}[{index}]", problems)
        if spec is None:
            continue
        if spec.id in seen:
            problems.add(f"{path}[{index}].id", f"duplicate field id {spec.id!r}")
        seen.add(spec.id)
        specs.append(spec)
    for index, spec in enumerate(specs):
        for name in ("shown_when", "required_when"):
            when = getattr(spec, name)
            for condition in when.conditions if when else ():
                if condition.ref not in seen or condition.ref == spec.id:
                    problems.add(f"{path}[{index}].{name}", f"refers to {condition.ref!r}, not another field here")
    return tuple(specs)


def _parse_field_spec(item: Any, path: str, problems: DefinitionProblems) -> FieldSpec | None:
    if not isinstance(item, Mapping):
        problems.add(path, "must be a mapping")
        return None
    before = len(problems.errors)
    for key in sorted(set(item) - _FIELD_KEYS, key=str):
        problems.add(f"{path}.{key}", f"unknown key; a field has {', '.join(sorted(_FIELD_KEYS))}")
    for flag in ("required",):
        if not isinstance(item.get(flag, False), bool):
            problems.add(f"{path}.{flag}", "must be true or false")
    field_id = item.get("id")
    if not isinstance(field_id, str) or not _ID.match(field_id):
        problems.add(f"{path}.id", "must be lower_snake_case, starting with a letter")
    field_type = item.get("type", "text")
    if field_type not in FIELD_TYPES:
        problems.add(f"{path}.type", f"must be one of {', '.join(FIELD_TYPES)}")
    pattern = item.get("pattern")
    if pattern is not None:
        try:
            re.compile(pattern)
        except (re.error, TypeError) as exc:
            problems.add(f"{path}.pattern", f"not a regular expression: {exc}")
    options = _parse_options(item.get("options"), f"{path}.options", problems)
    if field_type in ("choice", "multi_choice") and not options:
        problems.add(f"{path}.options", f"a {field_type} field needs options")
    for bound in ("min", "max"):
        value = item.get(bound)
        if value is None:
            continue
        if field_type in _DATE_TYPES:
            if value != TODAY and _parse_date_value(field_type, str(value)) is None:
                problems.add(f"{path}.{bound}", f"must be a {field_type} or 'today'")
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.add(f"{path}.{bound}", "must be a number")
    shown_when = parse_when(item.get("shown_when"), f"{path}.shown_when", problems, (FIELD,))
    required_when = parse_when(item.get("required_when"), f"{path}.required_when", problems, (FIELD,))
    if len(problems.errors) > before:
        return None
    return FieldSpec(
        id=field_id,
        label=str(item.get("label") or field_id.replace("_", " ").capitalize()),
        type=field_type,
        required=bool(item.get("required", False)),
        help=str(item.get("help", "")),
        pattern=pattern,
        options=options,
        min=item.get("min"),
        max=item.get("max"),
        shown_when=shown_when,
        required_when=required_when,
    )


def _parse_options(raw: Any, path: str, problems: DefinitionProblems) -> tuple[Option, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.add(path, "must be a list")
        return ()
    options = []
    for index, item in enumerate(raw):
        if isinstance(item, str):
            options.append(Option(item, item.replace("_", " ").capitalize()))
        elif isinstance(item, Mapping) and isinstance(item.get("value"), str):
            extra = tuple((str(k), str(v)) for k, v in item.items() if k not in ("value", "label"))
            options.append(Option(item["value"], str(item.get("label") or item["value"]), extra))
        else:
            problems.add(f"{path}[{index}]", "must be a string or {value, label}")
    return tuple(options)


def _parse_date_value(field_type: str, raw: str) -> date | datetime | None:
    try:
        if field_type == "date":
            return date.fromisoformat(raw)
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None


def validate_values(
    specs: tuple[FieldSpec, ...], values: Any, now: datetime, prefix: str = "fields", partial: bool = False
) -> dict[str, Any]:
    """Check submitted values against their specs and return them cleaned.

    Every problem is collected, so the caller can show them all at once. `now` makes "not in
    the future" rules testable with a fixed clock. `partial` accepts missing required values: an
    issue whose type was chosen for the customer has only their own words.
    """
    if values is None:
        values = {}
    if not isinstance(values, Mapping):
        raise ValidationFailed([FieldError(prefix, "must be an object")])
    errors: list[FieldError] = []
    known = {spec.id for spec in specs}
    for name in values:
        if name not in known:
            errors.append(FieldError(f"{prefix}.{name}", "unknown field"))
    cleaned: dict[str, Any] = {}
    for spec in specs:
        raw = values.get(spec.id)
        if raw is None or (isinstance(raw, (str, list)) and not raw) or (isinstance(raw, str) and _blank(raw)):
            continue
        value, message = _clean(spec, raw, now)
        if message:
            errors.append(FieldError(f"{prefix}.{spec.id}", message))
        else:
            cleaned[spec.id] = value
    answered = dict(cleaned)
    for spec in specs:
        if spec.shown_when and not spec.shown_when.holds(answered):
            cleaned.pop(spec.id, None)  # a hidden field's value would mislead whoever reads the issue
            errors = [e for e in errors if e.field != f"{prefix}.{spec.id}"]
            continue
        required = not partial and (spec.required or bool(spec.required_when and spec.required_when.holds(answered)))
        if required and spec.id not in cleaned and not any(e.field == f"{prefix}.{spec.id}" for e in errors):
            errors.append(FieldError(f"{prefix}.{spec.id}", "is required"))
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def _clean(spec: FieldSpec, raw: Any, now: datetime) -> tuple[Any, str | None]:
    kind = spec.type
    if kind in _TEXT_TYPES:
        if not isinstance(raw, str):
            return None, "must be text"
        if free_text.has_unpaired_surrogate(raw):
            return None, free_text.UNPAIRED_SURROGATE
        value = free_text.normalise(raw, single_line=kind != "long_text")
        if kind == "email" and not _EMAIL.match(value):
            return None, "must be an email address"
        if kind == "phone" and not _PHONE.match(value):
            return None, "must be a phone number"
        if len(value) > MAX_TEXT_LENGTH[kind]:
            return None, f"must be at most {MAX_TEXT_LENGTH[kind]} characters"
        if spec.min is not None and len(value) < spec.min:
            return None, f"must be at least {spec.min} characters"
        if spec.max is not None and len(value) > spec.max:
            return None, f"must be at most {spec.max} characters"
        if spec.pattern and not re.fullmatch(spec.pattern, value):
            return None, "is not in the expected format"  # customers read this: the field's help says it in words
        return value, None
    if kind == "number":
        if isinstance(raw, bool):
            return None, "must be a number"
        try:
            value = float(raw) if not isinstance(raw, (int, float)) else raw
        except (TypeError, ValueError):
            return None, "must be a number"
        if message := free_text.number_problem(value):
            return None, message
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if spec.min is not None and value < spec.min:
            return None, f"must be at least {spec.min}"
        if spec.max is not None and value > spec.max:
            return None, f"must be at most {spec.max}"
        return value, None
    if kind in _DATE_TYPES:
        parsed = _parse_date_value(kind, raw) if isinstance(raw, str) else None
        if parsed is None:
            example = "2026-11-23" if kind == "date" else "2026-11-23T14:30:00Z"
            return None, f"must be a {kind} like {example}"
        if kind == "datetime" and parsed.tzinfo is None:
            return None, "must include a time zone offset, e.g. Z or +01:00"
        for bound, fails, words in _DATE_BOUNDS:
            limit = getattr(spec, bound)
            if limit is None:
                continue
            limit_value = _bound_value(kind, bound, limit, now)
            if fails(parsed, limit_value):
                shown = "today" if limit == TODAY else limit
                if limit == TODAY and bound == "max":
                    return None, "must not be in the future"
                return None, f"must not be {words} {shown}"
        return parsed.isoformat(), None
    if kind == "choice":
        allowed = [o.value for o in spec.options]
        if raw not in allowed:
            return None, f"must be one of {', '.join(allowed)}"
        return raw, None
    if kind == "multi_choice":
        allowed = [o.value for o in spec.options]
        if not isinstance(raw, list) or any(v not in allowed for v in raw):
            return None, f"must be a list of {', '.join(allowed)}"
        return list(dict.fromkeys(raw)), None
    if kind == "yes_no":
        if isinstance(raw, bool):
            return raw, None
        if isinstance(raw, str) and raw.lower() in ("yes", "no", "true", "false"):
            return raw.lower() in ("yes", "true"), None
        return None, "must be yes or no"
    return None, f"unsupported field type {kind}"


def _blank(raw: str) -> bool:
    """Nothing but spaces and invisible characters: as good as no answer."""
    return not free_text.normalise(raw)


def _bound_value(kind: str, bound: str, limit: Any, now: datetime) -> date | datetime:
    if limit == TODAY:
        if kind == "datetime":
            return now
        # A customer's "today" may be a day ahead of or behind UTC.
        return (now + _LOCAL_DAY_SLACK if bound == "max" else now - _LOCAL_DAY_SLACK).date()
    parsed = _parse_date_value(kind, str(limit))
    assert parsed is not None  # checked when the definition was parsed
    return parsed
