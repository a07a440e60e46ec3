"""Customers' forms as rendered HTML: every seeded type, every field kind, errors and kept answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest

from chalicelib.api.pages import SECURITY_HEADERS, STYLESHEET, templates
from chalicelib.api.web_forms import form_view, one_line
from chalicelib.domain.errors import FieldError, ValidationFailed
from chalicelib.domain.fields import FIELD_TYPES, validate_values
from chalicelib.domain.issue_types import IssueType, parse_issue_type, with_shared_calendars
from chalicelib.services.web_forms import (
    CUSTOMER_EMAIL,
    CUSTOMER_NAME,
    HONEYPOT_FIELD,
    FormPage,
    expected_time,
    form_request,
    form_zone,
    what_happens_next,
)
from chalicelib.workflows.seeds import load_seed_definitions, load_shared_calendars

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
EVERY_KIND = {
    "id": "every-kind",
    "name": "Every kind of field",
    "description": "A form with one field of each kind.\nA second line the catalogue leaves out.",
    "fields": [
        {"id": "title", "label": "Title", "type": "text", "required": True, "pattern": "^[A-Z]{2}[0-9]{2}$"},
        {"id": "story", "label": "Story", "type": "long_text", "min": 10, "help": "In your own words."},
        {"id": "contact", "label": "Other email", "type": "email"},
        {"id": "phone", "label": "Phone", "type": "phone"},
        {"id": "amount", "label": "Amount", "type": "number", "min": 1, "max": 500},
        {"id": "day", "label": "Day", "type": "date", "max": "today"},
        {"id": "moment", "label": "Moment", "type": "datetime"},
        {"id": "size", "label": "Size", "type": "choice", "options": ["small", "large"]},
        {"id": "colour", "label": "Colour", "type": "choice", "options": ["red", "green", "blue", "black", "white"]},
        {"id": "extras", "label": "Extras", "type": "multi_choice", "options": ["bag", "box", "card"]},
        {"id": "gift", "label": "Is it a gift?", "type": "yes_no", "required": True},
        {
            "id": "gift_note",
            "label": "Gift note",
            "type": "text",
            "shown_when": {"field": "gift", "equals": True},
            "required_when": {"field": "gift", "equals": True},
        },
    ],
    "steps": [
        {"id": "look", "name": "Internal look", "customer_label": "We look at it", "role": "agent", "deadline": "PT2H"},
        {"id": "tell", "kind": "email_customer", "subject": "Done", "body": "Done"},
    ],
}


class Elements(HTMLParser):
    """Every element's attributes, the text of each label (by its `for`) and of each element with an id."""

    def __init__(self, html: str):
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.label_text: dict[str, str] = {}
        self.texts: dict[str, str] = {}
        self._open: list[tuple[str, str]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.elements.append((tag, found))
        if tag in ("label", "p", "legend", "h2", "div"):
            key = f"for:{found['for']}" if tag == "label" else found.get("id") or ""
            self._open.append((tag, key))
            self.texts.setdefault(key, "")

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1][0] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for _, key in self._open:
            if key:
                self.texts[key] += data
        self.label_text = {k[4:]: v for k, v in self.texts.items() if k.startswith("for:")}

    def by_id(self, element_id: str) -> tuple[str, dict[str, str | None]]:
        [found] = [e for e in self.elements if e[1].get("id") == element_id]
        return found

    def named(self, name: str) -> list[tuple[str, dict[str, str | None]]]:
        return [e for e in self.elements if e[1].get("name") == name]


def seeded_types() -> list[IssueType]:
    shared = load_shared_calendars()
    return [
        parse_issue_type(json.loads(json.dumps(with_shared_calendars(d, shared), default=str)))
        for d in load_seed_definitions()
    ]


def every_kind() -> IssueType:
    return parse_issue_type(EVERY_KIND)


def render(
    issue_type: IssueType, values: dict[str, list[str]] | None = None, errors: tuple[FieldError, ...] = ()
) -> str:
    page = FormPage(issue_type, "csrf-value", "submission-id-0123", form_zone(issue_type), NOW, values or {}, errors)
    return templates().get_template("report_form.html").render(form=form_view(page))


@pytest.mark.parametrize("issue_type", [t for t in seeded_types() if t.public], ids=lambda t: t.id)
def test_every_seeded_form_asks_every_field_with_a_bound_label(issue_type: IssueType) -> None:
    html = render(issue_type)
    page = Elements(html)
    for spec in issue_type.fields:
        inputs = page.named(spec.id)
        assert inputs, f"{spec.id} has no input"
        for tag, attrs in inputs:
            assert tag in ("input", "textarea", "select")
            assert attrs["id"] in page.label_text, f"{attrs['id']} has no label"
        if len(inputs) > 1:  # a group of radios or checkboxes, under a legend
            assert f"<legend>{spec.label}" in html.replace("&#39;", "'")
            heading = html.replace("&#39;", "'").split(f"<legend>{spec.label}")[1].split("</legend>")[0]
        else:
            heading = page.label_text[spec.id]
            assert heading.startswith(spec.label)
        assert ("(required)" in heading) == spec.required, spec.id
    for name in (CUSTOMER_EMAIL, CUSTOMER_NAME):
        assert page.by_id(name)[1]["name"] == name
    assert "(required)" in page.label_text[CUSTOMER_EMAIL]
    assert "<script" not in html and "style=" not in html and "<style" not in html


def test_each_field_kind_gets_its_own_input() -> None:
    page = Elements(render(every_kind()))
    expected = {
        "title": ("input", "text"),
        "story": ("textarea", None),
        "contact": ("input", "email"),
        "phone": ("input", "tel"),
        "amount": ("input", "number"),
        "day": ("input", "date"),
        "moment": ("input", "datetime-local"),
        "size": ("input", "radio"),
        "colour": ("select", None),
        "extras": ("input", "checkbox"),
        "gift": ("input", "radio"),
    }
    assert {f["type"] for f in EVERY_KIND["fields"]} == set(FIELD_TYPES)
    for field_id, (tag, input_type) in expected.items():
        found_tag, attrs = page.named(field_id)[0]
        assert (found_tag, attrs.get("type")) == (tag, input_type), field_id
    assert [a["value"] for _, a in page.named("gift")] == ["yes", "no"]
    assert [a["value"] for _, a in page.named("extras")] == ["bag", "box", "card"]
    assert len(page.named("size")) == 2  # radios: at most four options
    assert {"min": "1", "max": "500", "step": "any"}.items() <= page.by_id("amount")[1].items()
    assert page.by_id("day")[1]["max"] == "2026-11-23"
    assert page.by_id("title")[1]["pattern"] == "[A-Z]{2}[0-9]{2}"
    assert page.by_id("story")[1]["minlength"] == "10"
    assert page.by_id(CUSTOMER_EMAIL)[1]["autocomplete"] == "email"
    assert page.by_id(CUSTOMER_EMAIL)[1]["type"] == "email"


def test_help_pattern_and_condition_hints_are_read_with_their_inputs() -> None:
    html = render(every_kind())
    page = Elements(html)
    story = page.by_id("story")[1]
    assert story["aria-describedby"] == "story-help"
    assert page.texts["story-help"] == "In your own words."
    assert "Only if “Is it a gift?” is “Yes”; then it is required." in page.texts["gift_note-hint"]
    assert "Local time in UTC" in page.texts["moment-hint"]


class VisibleText(HTMLParser):
    """The text a person reads on a page: element text and the page title, never attributes."""

    def __init__(self, html: str):
        super().__init__()
        self.parts: list[str] = []
        self.feed(html)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.parts).split())


def test_a_pattern_is_described_in_words_never_shown_as_a_regular_expression() -> None:
    issue_type = every_kind()
    with pytest.raises(ValidationFailed) as caught:
        validate_values(issue_type.fields, {"title": "ab12", "gift": True, "gift_note": "x"}, NOW)
    [error] = caught.value.errors
    assert "[A-Z]" not in error.message and "{2}" not in error.message, error.message
    html = render(issue_type, {"title": ["ab12"]}, (error,))
    shown = VisibleText(html).text
    assert "Title is not in the expected format." in shown
    assert "[A-Z]" not in shown and "[0-9]" not in shown and "{2}" not in shown, "the customer reads a regex"

    described = parse_issue_type(
        {
            **EVERY_KIND,
            "fields": [{**EVERY_KIND["fields"][0], "help": "Two capital letters and two digits, e.g. AB12."}],
        }
    )
    shown = VisibleText(render(described)).text
    assert "Two capital letters and two digits, e.g. AB12." in shown and "[A-Z]" not in shown


def test_errors_sit_beside_their_fields_and_link_from_the_summary() -> None:
    errors = (
        FieldError("fields.title", "is required"),
        FieldError("fields.gift", "is required"),
        FieldError("customer.email", "must be an email address"),
        FieldError("fields.title", "is not in the expected format"),
    )
    html = render(every_kind(), {CUSTOMER_EMAIL: ["nope"]}, errors)
    page = Elements(html)
    title = page.by_id("title")[1]
    assert title["aria-invalid"] == "true"
    assert title["aria-describedby"].split()[0] == "title-error"
    assert page.texts["title-error"] == "Error: Title is required."
    email = page.by_id(CUSTOMER_EMAIL)[1]
    assert email["aria-invalid"] == "true" and "customer-email-error" in email["aria-describedby"]
    assert email["value"] == "nope"
    for _, radio in page.named("gift"):
        assert radio["aria-invalid"] == "true"
    summary = page.by_id("error-summary-title")
    assert summary[0] == "h2"
    [(_, box)] = [e for e in page.elements if e[1].get("class") == "error-summary"]
    assert box["role"] == "alert" and box["tabindex"] == "-1"
    links = [a["href"] for tag, a in page.elements if tag == "a" and a.get("href", "").startswith("#")]
    assert links == ["#title", "#gift", "#customer-email"]  # in the form's order, one per field
    assert "There are 3 problems with your report" in html
    assert html.startswith("<!doctype html>") and "<title>Error: Every kind" in html


def test_everything_typed_is_kept() -> None:
    values = {
        "title": ["AB12"],
        "story": ["It <b>broke</b> & fell"],
        "amount": ["12.5"],
        "size": ["large"],
        "colour": ["blue"],
        "extras": ["bag", "card"],
        "gift": ["no"],
        "moment": ["2026-11-20T14:30"],
        CUSTOMER_NAME: ['Jo "Quote" Bloggs'],
    }
    html = render(every_kind(), values, (FieldError("fields.phone", "must be a phone number"),))
    page = Elements(html)
    assert page.by_id("title")[1]["value"] == "AB12"
    assert "It &lt;b&gt;broke&lt;/b&gt; &amp; fell</textarea>" in html  # escaped, never raw HTML
    assert page.by_id("amount")[1]["value"] == "12.5"
    assert page.by_id("moment")[1]["value"] == "2026-11-20T14:30"
    assert [a["value"] for _, a in page.named("size") if "checked" in a] == ["large"]
    assert [a["value"] for _, a in page.named("extras") if "checked" in a] == ["bag", "card"]
    assert [a["value"] for _, a in page.named("gift") if "checked" in a] == ["no"]
    assert '<option value="blue" selected>' in html
    assert page.by_id(CUSTOMER_NAME)[1]["value"] == 'Jo "Quote" Bloggs'


def test_the_honeypot_is_hidden_from_people_and_assistive_technology() -> None:
    html = render(every_kind())
    page = Elements(html)
    trap = page.by_id(HONEYPOT_FIELD)[1]
    assert trap["tabindex"] == "-1" and trap["autocomplete"] == "off" and trap["value"] == ""
    assert f'<div class="hp" aria-hidden="true">\n<label for="{HONEYPOT_FIELD}">' in html
    assert ".hp {" in STYLESHEET.decode() or ".hp," in STYLESHEET.decode()


def test_form_text_becomes_what_the_validator_expects() -> None:
    issue_type = every_kind()
    submitted = {
        "title": ["  AB12 "],
        "story": [""],
        "amount": ["12"],
        "size": ["small"],
        "extras": ["bag", "", "card"],
        "gift": ["yes"],
        "gift_note": ["Happy birthday"],
        "moment": ["2026-11-20T14:30"],
        "day": ["2026-11-20"],
        "unknown": ["ignored"],
        CUSTOMER_EMAIL: [" Jo@Example.com "],
        CUSTOMER_NAME: [""],
        "csrf-token": ["x"],
    }
    request = form_request(issue_type, submitted, "Europe/London")
    assert request == {
        "type": "every-kind",
        "customer": {"email": "Jo@Example.com"},
        "fields": {
            "title": "AB12",
            "amount": 12,
            "size": "small",
            "extras": ["bag", "card"],
            "gift": True,
            "gift_note": "Happy birthday",
            "moment": "2026-11-20T14:30:00+00:00",
            "day": "2026-11-20",
        },
    }
    validate_values(issue_type.fields, request["fields"], NOW)  # accepted as it is
    summer = form_request(
        issue_type, {"moment": ["2026-07-01T09:00"], "amount": ["2.5"], "gift": ["no"]}, "Europe/London"
    )
    assert summer["fields"] == {"moment": "2026-07-01T09:00:00+01:00", "amount": 2.5, "gift": False}
    odd = form_request(issue_type, {"amount": ["lots"], "gift": ["maybe"]})["fields"]
    assert odd == {"amount": "lots", "gift": "maybe"}  # left for the validator to name


def test_what_happens_next_uses_customer_labels_and_business_time() -> None:
    types = {t.id: t for t in seeded_types()}
    rude = what_happens_next(types["rude-staff"])
    assert [(s.label, s.expected) for s in rude] == [
        ("The store's management is looking into what happened", "usually within 5 working hours"),
        ("Our people team is deciding what we will do", "usually within 8 working hours"),
    ]
    assert [s.label for s in what_happens_next(every_kind())] == ["We look at it"]
    assert expected_time(timedelta(hours=2), "24x7") == "within 2 hours"
    assert expected_time(timedelta(hours=1), "uk-office") == "usually within 1 working hour"
    assert expected_time(timedelta(days=2), "24x7") == "within 2 days"
    assert expected_time(timedelta(minutes=30), "24x7") == "within 30 minutes"
    for issue_type in types.values():
        for step in issue_type.all_steps():
            if step.kind in ("task", "wait_for_customer"):
                assert step.customer_label, f"{issue_type.id}.{step.id} has no customer_label"
                assert len(step.customer_label) <= 120


def test_catalogue_line_and_page_headers() -> None:
    assert one_line(EVERY_KIND["description"]) == "A form with one field of each kind."
    policy = SECURITY_HEADERS["Content-Security-Policy"]
    assert "'unsafe-inline'" not in policy and "style-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "script-src" not in policy  # default-src 'none' forbids every script
