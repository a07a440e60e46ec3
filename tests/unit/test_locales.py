"""Customers in their own language and time: choosing the language, the catalogs, times in the customer's zone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from chalicelib import locales
from chalicelib.api.customer_locale import page_locale
from chalicelib.api.pages import templates
from chalicelib.domain.issues import Customer
from chalicelib.services.web_forms import expected_time

WINTER = datetime(2026, 12, 5, 13, 30, tzinfo=UTC)
SUMMER = datetime(2026, 7, 5, 13, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("de", "de"),
        ("de-AT,de;q=0.9", "de"),
        ("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", "fr"),
        ("da, en-GB;q=0.8, en;q=0.7", "en"),  # Danish is not served: the next best
        ("nl, tr;q=0.4, es;q=0.6", "es"),  # by weight, not by place in the header
        ("es;q=0.5, TR;q=0.5", "es"),  # equal weights keep the header's order; any case
        ("de;q=0, fr;q=0.2", "fr"),  # q=0 is "not this one"
        ("*;q=0.5, en;q=0", "de"),  # anything but English
        ("ja, zh;q=0.9", "en"),  # nothing fits: English
        ("", "en"),
        (None, "en"),
        ("de;q=abc, tr", "tr"),  # a bad weight drops its range
        (";;;,,,=", "en"),
        ("x" * 5000, "en"),
    ],
)
def test_accept_language_is_parsed_with_its_weights(header, expected):
    assert locales.negotiate(header) == expected


def test_the_parsed_ranges_are_ordered_best_first():
    assert locales.parse_accept_language("en;q=0.3, de, fr;q=0.7, es;q=0") == [("de", 1.0), ("fr", 0.7), ("en", 0.3)]


def test_an_explicit_choice_wins_then_the_cookie_then_the_remembered_language_then_the_browser():
    browser = "de-DE,de;q=0.9"
    assert locales.choose(accept_language=browser) == "de"
    assert locales.choose(remembered="tr", accept_language=browser) == "tr"
    assert locales.choose(cookie="es", remembered="tr", accept_language=browser) == "es"
    assert locales.choose(query="fr", cookie="es", remembered="tr", accept_language=browser) == "fr"
    assert locales.choose(query="xx", cookie="<script>", remembered="", accept_language=browser) == "de"
    assert locales.choose(query="FR-be") == "fr"


def _request(path="/s/{token}", params=None, query=None, headers=None):
    return SimpleNamespace(
        path=path,
        uri_params=params or {},
        query_params=query,
        headers={k.lower(): v for k, v in (headers or {}).items()},
    )


def test_a_page_takes_its_language_from_the_query_the_cookie_or_accept_language():
    german = _request(headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.8"}, params={"token": "abc"})
    locale = page_locale(german)
    assert (locale.language, locale.switched, locale.headers()) == ("de", False, {})
    assert locale.path == "/s/abc"

    by_cookie = page_locale(_request(headers={"Accept-Language": "de", "Cookie": "caseflow-lang=es; other=1"}))
    assert by_cookie.language == "es"

    switched = page_locale(
        _request(params={"token": "abc"}, query={"lang": "fr", "key": "k"}, headers={"Accept-Language": "de"}),
        secure=True,
    )
    assert (switched.language, switched.switched) == ("fr", True)
    cookie = switched.headers()["Set-Cookie"]
    assert cookie.startswith("caseflow-lang=fr; Path=/;") and "SameSite=Lax" in cookie and "Secure" in cookie
    links = {link["code"]: link for link in switched.context()["languages"]}
    assert links["de"]["href"] == "/s/abc?key=k&lang=de" and links["fr"]["current"]
    assert [link["name"] for link in links.values()] == ["English", "Deutsch", "Français", "Español", "Türkçe"]

    nonsense = page_locale(_request(query={"lang": "klingon"}, headers={"Accept-Language": "tr"}))
    assert (nonsense.language, nonsense.switched) == ("tr", False)


def test_a_page_zone_is_the_customers_else_the_fallback_else_utc():
    assert page_locale(_request(), zone="Europe/Berlin").zone == "Europe/Berlin"
    assert page_locale(_request(), zone="Not/AZone", fallback_zone="Europe/London").zone == "Europe/London"
    assert page_locale(_request(), zone="../../etc/passwd").zone == "UTC"


def test_an_email_is_in_the_customers_remembered_language_and_zone():
    kim = Customer("c1", "kim@example.com", "Kim", language="de", time_zone="America/New_York")
    t = locales.customer_texts(kim, "Europe/London")
    assert (t.language, t.zone) == ("de", "America/New_York")
    unknown = locales.customer_texts(Customer("c2", "lee@example.com"), "Europe/London")
    assert (unknown.language, unknown.zone) == ("en", "Europe/London")


@pytest.mark.parametrize(
    ("language", "zone", "moment", "expected"),
    [
        ("en", "Europe/Berlin", WINTER, "5 Dec 2026, 14:30 CET"),
        ("en", "Europe/Berlin", SUMMER, "5 Jul 2026, 15:30 CEST"),
        ("de", "Europe/Berlin", WINTER, "05.12.2026, 14:30 CET"),
        ("fr", "Europe/Paris", WINTER, "5 déc. 2026, 14:30 CET"),
        ("es", "America/New_York", WINTER, "5 dic 2026, 8:30 EST"),
        ("tr", "Europe/Istanbul", WINTER, "5 Ara 2026, 16:30 GMT+03:00"),  # a zone without a letter abbreviation
        ("en", "UTC", WINTER, "5 Dec 2026, 13:30 UTC"),
    ],
)
def test_a_moment_is_shown_in_the_customers_zone_with_the_zone_named(language, zone, moment, expected):
    assert locales.format_moment(moment, language, zone) == expected


def test_days_and_numbers_follow_the_language():
    assert locales.format_day(WINTER, "de", "Europe/Berlin") == "5. Dezember 2026"
    assert locales.format_day(datetime(2026, 12, 5, 23, 30, tzinfo=UTC), "en", "Asia/Tokyo") == "6 December 2026"
    assert locales.format_number(1234.5, "de") == "1.234,5" and locales.format_number(1234.5, "en") == "1,234.5"
    assert locales.texts("fr").number(1234.5) == "1\u202f234,5"


def test_texts_come_from_the_catalogs_with_english_as_the_fallback():
    assert locales.gettext("de", "Your issue %(reference)s", reference="CF-ABCDE") == "Ihr Anliegen CF-ABCDE"
    assert locales.gettext("tr", "Write to us") == "Bize yazın"
    assert locales.gettext("en", "Write to us") == "Write to us"
    assert locales.gettext("de", "A text no catalog has") == "A text no catalog has"
    assert locales.ngettext("fr", "(in about %(num)d minute).", "(in about %(num)d minutes).", 3) == (
        "(dans environ 3 minutes)."
    )
    assert locales.salutation(locales.Texts("de"), "") == "Sehr geehrte Kundin, sehr geehrter Kunde,"
    assert locales.salutation(locales.Texts("es"), "Ana") == "Estimado/a Ana:"


def test_every_catalog_translates_every_text_with_the_same_placeholders():
    root = Path(locales.__file__).parent
    from babel.messages.pofile import read_po

    placeholder = re.compile(r"%\((\w+)\)[sd]")
    catalogs = {}
    for language in locales.LANGUAGES[1:]:
        with (root / language / "LC_MESSAGES" / "messages.po").open("rb") as source:
            catalogs[language] = read_po(source)
    ids = {
        language: {m.id if isinstance(m.id, str) else m.id[0] for m in c if m.id} for language, c in catalogs.items()
    }
    assert len({frozenset(found) for found in ids.values()}) == 1, "the catalogs translate different texts"
    for language, catalog in catalogs.items():
        for message in catalog:
            if not message.id:
                continue
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            source = message.id if isinstance(message.id, str) else message.id[-1]
            assert all(strings), f"{language}: {source!r} is not translated"
            for text in strings:
                assert set(placeholder.findall(text)) <= set(placeholder.findall(source)) | {"num"}, (language, text)


def test_the_validators_messages_read_in_the_customers_language():
    assert locales.validation_message("is required", "de") == "ist ein Pflichtfeld"
    assert locales.validation_message("must be at most 2,000 characters", "fr") == (
        "doit comporter au plus 2,000 caractères"
    )
    assert locales.validation_message("must be one of york, leeds", "es") == "debe ser una de las opciones ofrecidas"
    assert locales.validation_message("must be a date like 2026-11-23", "tr") == "2026-11-23 gibi bir tarih olmalıdır"
    assert locales.validation_message("is required", "en") == "is required"
    assert locales.validation_message("something new", "de") == "something new"


def test_a_usual_time_reads_in_the_language():
    assert expected_time(timedelta(hours=8), "uk-office", locales.Texts("de")) == (
        "in der Regel innerhalb von 8 Arbeitsstunden"
    )
    assert expected_time(timedelta(days=1), "24x7", locales.Texts("fr")) == "sous 1 jour"
    assert expected_time(timedelta(hours=2), "24x7") == "within 2 hours"


def test_a_customers_page_renders_in_the_language_with_a_switcher_that_needs_no_script():
    context = page_locale(_request(path="/my-issues", headers={"Accept-Language": "tr"})).context()
    html = templates("tr").get_template("my_issues_request.html").render(title="Bildirimleriniz", **context)
    assert '<html lang="tr">' in html and "E-posta adresi" in html and "Bana bağlantı gönderin" in html
    assert '<a href="/my-issues?lang=de" hreflang="de" lang="de">Deutsch</a>' in html
    assert "<script" not in html
