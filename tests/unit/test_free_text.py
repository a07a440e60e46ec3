"""What Caseflow accepts as text, at every edge: the rules themselves, the JSON reader, the forgery and
link checks, definitions, and the mailer's refusal, without AWS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.adapters.ses import SesMailer
from chalicelib.api.errors import json_body
from chalicelib.domain import free_text
from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.fields import FieldSpec, validate_values
from chalicelib.domain.issue_types import parse_issue_type
from chalicelib.services.ports import UnsendableEmail
from chalicelib.web_tokens import csrf, signed_links

NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)


def _fields_named(exc: pytest.ExceptionInfo[ValidationFailed]) -> list[str]:
    return [e.field for e in exc.value.errors]


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"[" * 10_000 + b"]" * 10_000, "nested"),
        (b'{"a": ' + b"1" * 5_000 + b"}", "not valid JSON"),
        (b'{"amount": NaN}', "NaN"),
        (b'{"amount": -Infinity}', "Infinity"),
        (b'{"a": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}', "nested"),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
def test_json_no_part_of_caseflow_can_take_is_a_400_naming_the_body(raw, why):
    with pytest.raises(ValidationFailed) as refused:
        json_body(raw)
    assert _fields_named(refused) == ["body"] and why in refused.value.errors[0].message


def test_a_lone_surrogate_anywhere_in_json_is_refused_naming_where_it_is():
    with pytest.raises(ValidationFailed) as refused:
        json_body(b'{"fields": {"message": "hi \\ud800"}, "customer": {"email": "a@b.co"}}')
    assert _fields_named(refused) == ["fields.message"]
    with pytest.raises(ValidationFailed) as in_a_list:
        json_body(b'{"notify": ["ok", "\\udfff"]}')
    assert _fields_named(in_a_list) == ["notify[1]"]
    assert json_body(b'{"text": "\\ud83d\\ude00 paired is an emoji"}') == {"text": "😀 paired is an emoji"}


def test_invisible_characters_go_and_a_single_line_stays_one_line():
    assert free_text.normalise("a\x00b\x07c\x1b[0m\r\nd\re\u2028f") == "abc[0m\nd\ne\nf"
    assert free_text.normalise("Subject\r\nBcc: x@y.z\tend", single_line=True) == "Subject Bcc: x@y.z end"
    assert free_text.normalise(" \u202eRTL\u202c and 😀 ") == "\u202eRTL\u202c and 😀"


def test_clean_names_the_field_for_each_kind_of_refusal():
    for value, message in [
        (None, "is required"),
        ("\x00 \x07", "is required"),
        ("a\ud800", free_text.UNPAIRED_SURROGATE),
        ("x" * 11, "must be at most 10 characters"),
        (42, "must be text"),
    ]:
        with pytest.raises(ValidationFailed) as refused:
            free_text.clean(value, "text", 10)
        assert [(e.field, e.message) for e in refused.value.errors] == [("text", message)]
    assert free_text.clean(" fine\x00 ", "text", 10) == "fine"


def test_scrub_keeps_what_it_can_of_text_that_cannot_be_refused():
    assert free_text.scrub("a\ud800b\x00c", limit=3) == "a\ufffdb"


@pytest.mark.parametrize("raw", [float("nan"), "NaN", float("inf"), "-Infinity", "1e400", 10**20, "9" * 5000])
def test_a_number_field_takes_only_finite_storable_numbers(raw):
    spec = FieldSpec(id="amount", label="Amount", type="number")
    with pytest.raises(ValidationFailed) as refused:
        validate_values((spec,), {"amount": raw}, NOW)
    assert _fields_named(refused) == ["fields.amount"]
    assert validate_values((spec,), {"amount": "12.50"}, NOW) == {"amount": 12.5}


def test_text_fields_refuse_surrogates_and_keep_their_lines_by_kind():
    specs = (
        FieldSpec(id="subject", label="Subject", type="text"),
        FieldSpec(id="message", label="Message", type="long_text"),
    )
    cleaned = validate_values(specs, {"subject": "Hi\r\nthere", "message": "Hi\r\nthere\x00"}, NOW)
    assert cleaned == {"subject": "Hi there", "message": "Hi\nthere"}
    with pytest.raises(ValidationFailed) as refused:
        validate_values(specs, {"subject": "\udc80", "message": "ok"}, NOW)
    assert _fields_named(refused) == ["fields.subject"]
    assert validate_values(specs, {"subject": "\x00\x01", "message": "ok"}, NOW) == {"message": "ok"}


def test_a_non_ascii_form_token_or_link_signature_is_refused_not_a_crash():
    cookie = csrf.new_cookie()
    genuine = csrf.token("secret", cookie, "form")
    assert csrf.valid("secret", cookie, "form", genuine)
    assert not csrf.valid("secret", cookie, "form", genuine + "é")
    assert not csrf.valid("secret", cookie, "form", "\udcff")
    link = signed_links.sign({"task": "t1"}, "secret", NOW + timedelta(days=1))
    assert signed_links.verify(link, "secret", NOW)["task"] == "t1"
    for tampered in (link + "é", link[:-2] + "\udcff", "é." + link.split(".")[1]):
        with pytest.raises(signed_links.LinkInvalid):
            signed_links.verify(tampered, "secret", NOW)


@pytest.mark.parametrize("calendar", [{"name": "x"}, ["uk-office"], 7])
def test_a_calendar_that_is_not_a_name_is_a_problem_of_the_definition(calendar):
    definition = {
        "id": "odd-calendar",
        "name": "Odd calendar",
        "calendar": calendar,
        "fields": [{"id": "summary", "type": "text"}],
        "steps": [{"id": "look", "name": "Look", "role": "agent", "deadline": "PT1H", "calendar": calendar}],
    }
    with pytest.raises(ValidationFailed) as refused:
        parse_issue_type(definition)
    assert {"calendar", "steps[0].calendar"} <= set(_fields_named(refused))


class _NoSes:
    def send_raw_email(self, **_: object) -> None:
        raise AssertionError("an unbuildable email must not reach SES")


def test_the_mailer_says_when_an_email_cannot_be_built():
    mailer = SesMailer("support@caseflow.test", client=_NoSes())
    with pytest.raises(UnsendableEmail):
        mailer.send(["jo@example.com"], "Hello\r\nBcc: victim@example.com", "body")
