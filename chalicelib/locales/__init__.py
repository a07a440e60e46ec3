"""Customers in their own language and time: which language a customer reads, the texts of our pages
and emails in it, and dates and times in their own zone, named.

- **Which language.** `choose` takes, in order: an explicit choice (`?lang=` on any customer page), the
  browser's remembered choice (the `caseflow-lang` cookie the switcher sets), the customer's remembered
  language (stored on the customer when they file a report or switch on their status page), then the
  best match of `Accept-Language` among `LANGUAGES`, else English. Emails use the customer's remembered
  language (`for_customer`).
- **Texts.** gettext catalogs in this package, `<lang>/LC_MESSAGES/messages.po`, read at run time with
  Babel's `pofile` (no compile step that a build could skip); the message ids are the English texts, so
  English needs no catalog and a text missing from one is shown in English.
- **Times.** In the customer's zone (an IANA name: the one their browser said on the report form,
  remembered on the customer; else the caller's fallback, e.g. the type's calendar zone; else UTC), with
  the zone named: "5 Dec 2026, 14:30 CET".

Babel is not in requirements.txt (the training functions have no room): it is installed into the dev
venv by the Makefile and shipped to Lambda in its own layer (layers/pages/requirements.txt).
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.domain.type_texts import LANGUAGE_NAMES, LANGUAGES

if TYPE_CHECKING:
    from babel.support import Translations

DEFAULT = LANGUAGES[0]
#: The Babel locale dates and numbers are formatted in (British English: "5 Dec 2026, 14:30").
_FORMAT_LOCALES = {"en": "en_GB", "de": "de_DE", "fr": "fr_FR", "es": "es_ES", "tr": "tr_TR"}
#: The cookie the language switcher sets, and the query parameter that sets it.
COOKIE = "caseflow-lang"
QUERY = "lang"
DEFAULT_ZONE = "UTC"
_HERE = Path(__file__).parent
_MAX_ACCEPT_LANGUAGE = 1000
_ZONE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,3}$")


def supported(language: Any) -> str | None:
    """`language` if it is one we serve (any case, a region ignored: "de-AT" is "de"), else None."""
    if not isinstance(language, str):
        return None
    primary = language.strip().lower().replace("_", "-").split("-")[0]
    return primary if primary in LANGUAGES else None


def parse_accept_language(header: str | None) -> list[tuple[str, float]]:
    """The ranges of an Accept-Language header with their weights, best first (RFC 9110 §12.5.4);
    malformed parts are skipped, a range without q is q=1, and equal weights keep the header's order."""
    ranges: list[tuple[str, float, int]] = []
    for position, part in enumerate((header or "")[:_MAX_ACCEPT_LANGUAGE].split(",")):
        pieces = [p.strip() for p in part.split(";")]
        tag = pieces[0].lower()
        if not tag or not re.fullmatch(r"\*|[a-z]{1,8}(-[a-z0-9]{1,8})*", tag):
            continue
        weight = 1.0
        for parameter in pieces[1:]:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value.strip())
                except ValueError:
                    weight = -1.0
        if not 0 < weight <= 1:
            continue  # q=0 means "not this one"; a bad q is ignored
        ranges.append((tag, weight, position))
    ranges.sort(key=lambda r: (-r[1], r[2]))
    return [(tag, weight) for tag, weight, _ in ranges]


def negotiate(header: str | None) -> str:
    """The best of `LANGUAGES` for an Accept-Language header; English when none fits."""
    # "de;q=0" refuses German, even under "*".
    refused = {supported(tag) for tag, weight in _all_ranges(header) if weight == 0 and tag != "*"}
    for tag, _weight in parse_accept_language(header):
        if tag == "*":
            return next((lang for lang in LANGUAGES if lang not in refused), DEFAULT)
        if (found := supported(tag)) and found not in refused:
            return found
    return DEFAULT


def _all_ranges(header: str | None) -> list[tuple[str, float]]:
    found = []
    for part in (header or "")[:_MAX_ACCEPT_LANGUAGE].split(","):
        pieces = [p.strip() for p in part.split(";")]
        q = next((p.partition("=")[2] for p in pieces[1:] if p.partition("=")[0].strip().lower() == "q"), "1")
        try:
            found.append((pieces[0].lower(), float(q)))
        except ValueError:
            continue
    return found


def choose(
    *,
    query: Any = None,
    cookie: Any = None,
    remembered: Any = None,
    accept_language: str | None = None,
) -> str:
    """The language a customer's page is shown in: an explicit choice, the browser's remembered one, the
    customer's remembered one, then Accept-Language, then English."""
    for candidate in (query, cookie, remembered):
        if found := supported(candidate):
            return found
    return negotiate(accept_language)


def for_customer(customer: Any) -> str:
    """The language a customer's emails are written in: the one remembered on them, else English."""
    return supported(getattr(customer, "language", "")) or DEFAULT


def valid_zone(zone: Any) -> str | None:
    """`zone` if it is an IANA time zone name we know, else None (a browser's say is never trusted blindly)."""
    if not isinstance(zone, str) or len(zone) > 64 or not _ZONE_NAME.match(zone.strip()):
        return None
    try:
        ZoneInfo(zone.strip())
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return zone.strip()


# -- Texts -------------------------------------------------------------------------------------------


@cache
def translations(language: str) -> Translations:
    """The catalog of `language` (empty for English: the message ids are English)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import NullTranslations, Translations

    language = supported(language) or DEFAULT
    path = _HERE / language / "LC_MESSAGES" / "messages.po"
    if language == DEFAULT or not path.exists():
        return NullTranslations()  # type: ignore[return-value]
    with path.open("rb") as source:
        catalog = read_po(source, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def gettext(language: str, message: str, /, **values: Any) -> str:
    """`message` in `language`, its `%(name)s` placeholders filled from `values`."""
    text = translations(language).gettext(message)
    return text % values if values else text


def ngettext(language: str, singular: str, plural: str, count: int, /, **values: Any) -> str:
    """The singular or plural of a message in `language`, by `count` (its `%(num)d` placeholder)."""
    text = translations(language).ngettext(singular, plural, count)
    return text % {"num": count, **values}


@dataclass(frozen=True)
class Texts:
    """Our texts and formats in one language and zone, for a page or an email: `t("...")`."""

    language: str = DEFAULT
    zone: str = DEFAULT_ZONE

    def __call__(self, message: str, /, **values: Any) -> str:
        return gettext(self.language, message, **values)

    def plural(self, singular: str, plural: str, count: int, /, **values: Any) -> str:
        return ngettext(self.language, singular, plural, count, **values)

    def moment(self, moment: datetime | None) -> str:
        return format_moment(moment, self.language, self.zone) if moment else ""

    def day(self, moment: datetime | date | None) -> str:
        return format_day(moment, self.language, self.zone) if moment else ""

    def number(self, value: float) -> str:
        return format_number(value, self.language)


def texts(language: Any = DEFAULT, zone: Any = None, fallback_zone: str = DEFAULT_ZONE) -> Texts:
    return Texts(supported(language) or DEFAULT, valid_zone(zone) or valid_zone(fallback_zone) or DEFAULT_ZONE)


def customer_texts(customer: Any, fallback_zone: str = DEFAULT_ZONE) -> Texts:
    """The texts of an email to `customer`: their language, their zone (else `fallback_zone`)."""
    return texts(for_customer(customer), getattr(customer, "time_zone", ""), fallback_zone)


# -- Dates, times and numbers --------------------------------------------------------------------------


def _in_zone(moment: datetime, zone: str) -> datetime:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("UTC"))
    return aware.astimezone(ZoneInfo(valid_zone(zone) or DEFAULT_ZONE))


def zone_name(moment: datetime, language: str) -> str:
    """The zone of a local time, named: its abbreviation where it has one (CET, EST, UTC), else its
    offset from GMT in the language ("GMT+03:00")."""
    from babel.dates import get_timezone_gmt

    abbreviation = moment.tzname() or ""
    if abbreviation.isalpha():
        return abbreviation
    return get_timezone_gmt(moment, locale=_FORMAT_LOCALES[supported(language) or DEFAULT])


def format_moment(moment: datetime, language: str, zone: str = DEFAULT_ZONE) -> str:
    """A moment in `zone`, formatted for `language` with the zone named: "5 Dec 2026, 14:30 CET"."""
    from babel.dates import format_date, format_time

    local = _in_zone(moment, zone)
    locale = _FORMAT_LOCALES[supported(language) or DEFAULT]
    day = format_date(local, "medium", locale=locale)
    return f"{day}, {format_time(local, 'short', locale=locale)} {zone_name(local, language)}"


def format_day(moment: datetime | date, language: str, zone: str = DEFAULT_ZONE) -> str:
    """The day of a moment in `zone` (or a date), in words of `language`: "5 December 2026"."""
    from babel.dates import format_date

    day = _in_zone(moment, zone).date() if isinstance(moment, datetime) else moment
    return format_date(day, "long", locale=_FORMAT_LOCALES[supported(language) or DEFAULT])


def format_number(value: float, language: str) -> str:
    from babel.numbers import format_decimal

    return format_decimal(value, locale=_FORMAT_LOCALES[supported(language) or DEFAULT])


# -- The validator's messages, as customers read them ------------------------------------------------

#: The validator's messages (domain/fields.py, free_text.py) and their catalog ids; `{}` parts are kept.
_VALIDATION = (
    (re.compile(r"^is required$"), "is required"),
    (re.compile(r"^must be text$"), "must be text"),
    (re.compile(r"^must be an email address$"), "must be an email address"),
    (re.compile(r"^must be a phone number$"), "must be a phone number"),
    (re.compile(r"^must be at most (?P<n>\S+) characters$"), "must be at most %(n)s characters"),
    (re.compile(r"^must be at least (?P<n>\S+) characters$"), "must be at least %(n)s characters"),
    (re.compile(r"^is not in the expected format$"), "is not in the expected format"),
    (re.compile(r"^must be a number$"), "must be a number"),
    (re.compile(r"^must be at least (?P<n>\S+)$"), "must be at least %(n)s"),
    (re.compile(r"^must be at most (?P<n>\S+)$"), "must be at most %(n)s"),
    (re.compile(r"^must be a date like (?P<example>\S+)$"), "must be a date like %(example)s"),
    (re.compile(r"^must be a datetime like (?P<example>\S+)$"), "must be a date and time like %(example)s"),
    (re.compile(r"^must include a time zone offset, e\.g\. Z or \+01:00$"), "must include a time zone"),
    (re.compile(r"^must not be in the future$"), "must not be in the future"),
    (re.compile(r"^must not be before today$"), "must not be before today"),
    (re.compile(r"^must not be after today$"), "must not be after today"),
    (re.compile(r"^must not be before (?P<limit>\S+)$"), "must not be before %(limit)s"),
    (re.compile(r"^must not be after (?P<limit>\S+)$"), "must not be after %(limit)s"),
    (re.compile(r"^must be one of .*$"), "must be one of the choices offered"),
    (re.compile(r"^must be a list of .*$"), "must be among the choices offered"),
    (re.compile(r"^must be yes or no$"), "must be yes or no"),
    (re.compile(r"^unknown field$"), "is not a question of this form"),
    (re.compile(r"^must be a finite number$"), "must be a number"),
    (re.compile(r"^must be between (?P<low>\S+) and (?P<high>\S+)$"), "must be between %(low)s and %(high)s"),
    (
        re.compile(r"^contains a character that is not valid Unicode text"),
        "contains a character that is not valid text",
    ),
    (re.compile(r"^files must be at most (?P<n>\S+) MB$"), "files must be at most %(n)s MB"),
    (
        re.compile(r"^this kind of file is not accepted here; send (?P<types>.+)$"),
        "this kind of file is not accepted here; send %(types)s",
    ),
)


def validation_message(message: str, language: str) -> str:
    """A validator's message ("must be at most 200 characters") in `language`; as it is when unknown."""
    if (supported(language) or DEFAULT) == DEFAULT:
        return message
    for pattern, message_id in _VALIDATION:
        if matched := pattern.match(message):
            return gettext(language, message_id, **matched.groupdict())
    return gettext(language, message)


def switcher(language: str, path: str, query: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """The language switcher's links: this page in each language (`?lang=xx`, other parameters kept)."""
    from urllib.parse import urlencode

    kept = {k: v for k, v in (query or {}).items() if k != QUERY}
    return [
        {
            "code": code,
            "name": LANGUAGE_NAMES[code],
            "href": f"{path}?{urlencode({**kept, QUERY: code})}",
            "current": code == language,
        }
        for code in LANGUAGES
    ]


def salutation(t: Texts, name: str) -> str:
    """The first line of an email to a customer: "Dear Kim," or, without a name, "Dear customer,"."""
    return t("Dear %(name)s,", name=name) if name else t("Dear customer,")
