"""The view model of a customer's form: what the template renders for each field, as plain data.

Every decision about the markup (which input, which attributes, which hint, where an error goes,
what stays filled in) is made here, so the template stays a loop and the tests can check each
field kind without parsing HTML.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib import locales
from chalicelib.api import condition_words
from chalicelib.domain.errors import FieldError
from chalicelib.domain.fields import MAX_TEXT_LENGTH, TODAY, FieldSpec, Option
from chalicelib.domain.issue_types import IssueType
from chalicelib.services.web_forms import (
    ANSWERED_FIELD,
    ARTICLES_CHECKED_FIELD,
    CUSTOMER_EMAIL,
    CUSTOMER_NAME,
    HONEYPOT_FIELD,
    LANGUAGE_FIELD,
    SHOWN_ARTICLE_FIELD,
    SUBMISSION_FIELD,
    ZONE_FIELD,
    FormPage,
)
from chalicelib.web_tokens.csrf import FIELD as CSRF_FIELD

#: A choice with at most this many options is a group of radio buttons, else a drop-down list.
MAX_RADIOS = 4
YES_NO = (Option("yes", "Yes"), Option("no", "No"))
CUSTOMER_FIELDS = (
    FieldSpec(
        id=CUSTOMER_EMAIL,
        label="Your email address",
        type="email",
        required=True,
        help="We send your reference and every update to this address.",
    ),
    FieldSpec(id=CUSTOMER_NAME, label="Your name", type="text", max=200),
)
_INPUT_TYPES = {"email": "email", "phone": "tel", "number": "number", "date": "date", "datetime": "datetime-local"}
_AUTOCOMPLETE = {CUSTOMER_EMAIL: "email", CUSTOMER_NAME: "name"}


@dataclass(frozen=True)
class OptionView:
    id: str
    value: str
    label: str
    selected: bool


@dataclass(frozen=True)
class FieldView:
    id: str
    label: str
    #: input, textarea, select, radios or checkboxes.
    widget: str
    input_type: str
    required: bool
    help: str
    hints: tuple[str, ...]
    error: str
    value: str
    options: tuple[OptionView, ...]
    #: Extra attributes of the input (min, max, maxlength, pattern, ...), rendered escaped.
    attributes: tuple[tuple[str, str], ...]

    @property
    def help_id(self) -> str:
        return f"{self.id}-help"

    @property
    def hint_id(self) -> str:
        return f"{self.id}-hint"

    @property
    def error_id(self) -> str:
        return f"{self.id}-error"

    @property
    def described_by(self) -> str:
        """The ids of the texts that describe the input: its error first, then help and hints."""
        ids = [
            self.error_id if self.error else "",
            self.help_id if self.help else "",
            self.hint_id if self.hints else "",
        ]
        return " ".join(i for i in ids if i)

    @property
    def is_group(self) -> bool:
        return self.widget in ("radios", "checkboxes")


@dataclass(frozen=True)
class ErrorLink:
    """One line of the error summary; `href` is empty for a problem no field can fix."""

    href: str
    text: str


@dataclass(frozen=True)
class FormView:
    type_id: str
    title: str
    description: str
    fields: tuple[FieldView, ...]
    customer_fields: tuple[FieldView, ...]
    errors: tuple[ErrorLink, ...]
    csrf_token: str
    submission_id: str
    csrf_field: str = CSRF_FIELD
    submission_field: str = SUBMISSION_FIELD
    honeypot_field: str = HONEYPOT_FIELD
    #: Help articles: the form files on its next post once they were offered (see `WebFormService.submit`).
    articles_checked: bool = False
    shown_articles: tuple[str, ...] = ()
    articles_checked_field: str = ARTICLES_CHECKED_FIELD
    shown_article_field: str = SHOWN_ARTICLE_FIELD
    answered_field: str = ANSWERED_FIELD
    language_field: str = LANGUAGE_FIELD
    zone_field: str = ZONE_FIELD
    #: The customer's time zone as the browser said it when the form was sent (kept on a form sent back).
    customer_zone: str = ""


def customer_fields(t: locales.Texts) -> tuple[FieldSpec, ...]:
    """The form's questions about the customer, in the customer's language."""
    return tuple(replace(spec, label=t(spec.label), help=t(spec.help) if spec.help else "") for spec in CUSTOMER_FIELDS)


def form_view(page: FormPage, t: locales.Texts | None = None) -> FormView:
    """Everything the form template needs, from the type's definition and what the customer sent;
    our texts and the validator's messages in the language of `t` (the type's texts are the caller's)."""
    t = t or locales.Texts()
    issue_type = page.issue_type
    asked = customer_fields(t)
    messages = _messages_by_input(issue_type, page.errors, asked, t)
    fields = field_views(issue_type.fields, issue_type, page.values, messages, page.zone, page.now, t=t)
    customer = field_views(asked, issue_type, page.values, messages, page.zone, page.now, t=t)
    sent_zone = locales.valid_zone((page.values.get(ZONE_FIELD) or [""])[-1]) or ""
    return FormView(
        type_id=issue_type.id,
        title=issue_type.name,
        description=issue_type.description,
        fields=fields,
        customer_fields=customer,
        errors=_summary(fields + customer, page.errors, issue_type, t),
        csrf_token=page.csrf_token,
        submission_id=page.submission_id,
        customer_zone=sent_zone,
        articles_checked=page.articles_checked,
        shown_articles=page.shown_articles,
    )


def one_line(description: str) -> str:
    """The first line of a type's description, for the catalogue."""
    return description.strip().splitlines()[0] if description.strip() else ""


def _input_id(issue_type: IssueType, error_field: str) -> str | None:
    """The form input an intake error is about (`fields.store` → `store`), if the form has one."""
    if error_field == "customer.email":
        return CUSTOMER_EMAIL
    if error_field == "customer.name":
        return CUSTOMER_NAME
    name = error_field.removeprefix("fields.")
    return name if error_field.startswith("fields.") and issue_type.field(name) else None


def _messages_by_input(
    issue_type: IssueType,
    errors: Sequence[FieldError],
    asked: Sequence[FieldSpec] = CUSTOMER_FIELDS,
    t: locales.Texts | None = None,
) -> dict[str, str]:
    t = t or locales.Texts()
    labels = {spec.id: spec.label for spec in (*issue_type.fields, *asked)}
    found: dict[str, str] = {}
    for error in errors:
        input_id = _input_id(issue_type, error.field)
        if input_id and input_id not in found:
            found[input_id] = _sentence(labels[input_id], locales.validation_message(error.message, t.language), t)
    return found


def _sentence(label: str, message: str, t: locales.Texts | None = None) -> str:
    """ "Store is required." rather than the API's "fields.store: is required"."""
    return (t or locales.Texts())("%(label)s %(problem)s.", label=label, problem=message)


def _summary(
    views: tuple[FieldView, ...], errors: Sequence[FieldError], issue_type: IssueType, t: locales.Texts | None = None
) -> tuple[ErrorLink, ...]:
    language = (t or locales.Texts()).language
    links = [ErrorLink(f"#{view.id}", view.error) for view in views if view.error]
    for error in errors:
        if _input_id(issue_type, error.field) is None:
            links.append(ErrorLink("", f"{error.field}: {locales.validation_message(error.message, language)}"))
    return tuple(links)


def field_views(
    specs: Sequence[FieldSpec],
    issue_type: IssueType,
    values: Mapping[str, list[str]],
    errors: Mapping[str, str],
    zone: str,
    now: datetime,
    prefix: str = "",
    t: locales.Texts | None = None,
) -> tuple[FieldView, ...]:
    """The inputs of a form asking `specs` (the customer's report, or a step's task form), as sent,
    with each field's error; `prefix` keeps the inputs' names apart from other forms' on one page.
    `t`: the language of our hints and of yes and no (English when not given)."""
    t = t or locales.Texts()
    return tuple(_field_view(spec, issue_type, values, errors.get(spec.id, ""), zone, now, prefix, t) for spec in specs)


def _field_view(
    spec: FieldSpec,
    issue_type: IssueType,
    values: Mapping[str, list[str]],
    error: str,
    zone: str,
    now: datetime,
    prefix: str,
    t: locales.Texts,
) -> FieldView:
    sent = [v for v in values.get(spec.id, []) if v != ""]
    value = sent[-1] if sent else ""
    widget, options = _widget(spec, sent, prefix, t)
    return FieldView(
        id=prefix + spec.id,
        label=spec.label,
        widget=widget,
        input_type=_INPUT_TYPES.get(spec.type, "text"),
        required=spec.required,
        help=spec.help,
        hints=_hints(spec, issue_type, zone, t),
        error=error,
        value=value,
        options=options,
        attributes=_attributes(spec, now, zone),
    )


def _widget(
    spec: FieldSpec, sent: list[str], prefix: str, t: locales.Texts | None = None
) -> tuple[str, tuple[OptionView, ...]]:
    if spec.type == "long_text":
        return "textarea", ()
    if spec.type in ("choice", "multi_choice", "yes_no"):
        yes_no = tuple(Option(o.value, (t or locales.Texts())(o.label)) for o in YES_NO)
        options = yes_no if spec.type == "yes_no" else spec.options
        views = tuple(
            OptionView(prefix + (spec.id if i == 0 else f"{spec.id}-{i + 1}"), o.value, o.label, o.value in sent)
            for i, o in enumerate(options)
        )
        if spec.type == "multi_choice":
            return "checkboxes", views
        if spec.type == "choice" and len(options) > MAX_RADIOS:
            return "select", views
        return "radios", views
    return "input", ()


def _attributes(spec: FieldSpec, now: datetime, zone: str) -> tuple[tuple[str, str], ...]:
    attributes: list[tuple[str, str]] = []
    if spec.id in _AUTOCOMPLETE:
        attributes.append(("autocomplete", _AUTOCOMPLETE[spec.id]))
    if spec.type in MAX_TEXT_LENGTH:
        limit = min(spec.max, MAX_TEXT_LENGTH[spec.type]) if spec.max is not None else MAX_TEXT_LENGTH[spec.type]
        attributes.append(("maxlength", str(limit)))
        if spec.min is not None:
            attributes.append(("minlength", str(spec.min)))
        if spec.pattern:
            attributes.append(("pattern", spec.pattern.removeprefix("^").removesuffix("$")))
    if spec.type == "phone":
        attributes.append(("autocomplete", "tel"))
    if spec.type == "number":
        attributes += [("inputmode", "decimal"), ("step", "any")]
        attributes += [
            (bound, _number(getattr(spec, bound))) for bound in ("min", "max") if getattr(spec, bound) is not None
        ]
    if spec.type in ("date", "datetime"):
        for bound in ("min", "max"):
            limit = getattr(spec, bound)
            if limit is not None:
                attributes.append((bound, _date_bound(spec.type, limit, now, zone)))
    return tuple(attributes)


def _number(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _date_bound(kind: str, limit: Any, now: datetime, zone: str) -> str:
    """An HTML min/max for a date or local date-time input ("today" is today in the form's zone)."""
    if limit != TODAY:
        text = str(limit)
        return text[:10] if kind == "date" else text[:16]
    local = now.astimezone(ZoneInfo(zone))
    return local.date().isoformat() if kind == "date" else local.strftime("%Y-%m-%dT%H:%M")


def _hints(spec: FieldSpec, issue_type: IssueType, zone: str, t: locales.Texts | None = None) -> tuple[str, ...]:
    """What the customer reads under a field besides its help: when it applies, and the time zone.

    A pattern is described in words by the help (required to publish one), never shown as a regex.
    """
    t = t or locales.Texts()
    hints = []
    shown = condition_words.for_customer(spec.shown_when, issue_type)
    required = condition_words.for_customer(spec.required_when, issue_type)
    if shown and shown == required:
        hints.append(t("Only if %(condition)s; then it is required.", condition=shown))
    else:
        if shown:
            hints.append(t("Only if %(condition)s.", condition=shown))
        if required and not spec.required:
            hints.append(t("Required if %(condition)s.", condition=required))
    if spec.type == "datetime":
        hints.append(t("Local time in %(zone)s.", zone=zone.replace("_", " ")))
    return tuple(hints)
