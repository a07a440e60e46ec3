"""Customers' web forms: the catalogue, a type's form, and a report sent through it.

A report goes through the same intake as `POST /issues`; around it this service guards the form:
a submission id per report, a honeypot that bots fill and people don't, and rate limits per client
address and per customer email. The CSRF token is the API edge's: it makes it, checks it before a
post gets here, and hands in the one a form carries. Form text becomes the validator's values in
`form_request`, a plain function the tests call directly.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from chalicelib import locales
from chalicelib.domain.calendars import ALWAYS_NAME
from chalicelib.domain.conditions import FIELD
from chalicelib.domain.errors import Conflict, FieldError, NotFound, TooManyRequests, ValidationFailed
from chalicelib.domain.issue_types import EMAIL_CUSTOMER, HUMAN_TASK, PARALLEL, WAIT_FOR_CUSTOMER, IssueType, Step
from chalicelib.domain.issues import WEB, new_id, new_reference, normalise_email
from chalicelib.domain.type_texts import in_language
from chalicelib.services.articles import ArticleService
from chalicelib.services.clock import Clock, utc_now
from chalicelib.services.intake import IntakeService
from chalicelib.services.issue_types import IssueTypeService
from chalicelib.services.ports import RateLimiter, Secret
from chalicelib.services.rate_limits import over_limit, whole_seconds
from chalicelib.services.status_links import StatusLinks

log = logging.getLogger(__name__)

#: Form names that are not the type's fields. Field ids are lower_snake_case, so hyphens can't clash.
CUSTOMER_EMAIL = "customer-email"
CUSTOMER_NAME = "customer-name"
SUBMISSION_FIELD = "submission-id"
HONEYPOT_FIELD = "website-address"
#: The language the form was shown in, and the customer's time zone (filled by the browser's script).
LANGUAGE_FIELD = "lang"
ZONE_FIELD = "time-zone"
#: Sent by a form whose customer has seen the help articles that may answer it (or was shown none
#: as they typed): the next post files the report.
ARTICLES_CHECKED_FIELD = "articles-checked"
#: The help articles the form showed (one value each): a report filed anyway counts against them.
SHOWN_ARTICLE_FIELD = "shown-article"
#: "This answered my question": the article that did.
ANSWERED_FIELD = "article"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_LOCAL_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$")
_LOOKS_LIKE_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_SHOWN_KINDS = (HUMAN_TASK, PARALLEL, WAIT_FOR_CUSTOMER)
IDEMPOTENCY_PREFIX = "web-form:"


@dataclass(frozen=True)
class FormLimits:
    per_address: int = 20
    per_email: int = 5
    window: timedelta = timedelta(hours=1)
    #: Each lookup of the articles a form's text may be answered by runs the encoder: a form's script asks
    #: at most every half second of typing, so this many per form posted is plenty for people.
    suggestions_per_post: int = 30


@dataclass(frozen=True)
class FormPage:
    """A form to render: blank, or as sent with its errors."""

    issue_type: IssueType
    csrf_token: str
    submission_id: str
    zone: str
    now: datetime
    values: Mapping[str, list[str]] = field(default_factory=dict)
    errors: tuple[FieldError, ...] = ()
    #: The customer has been offered help articles (or chose to skip them): send files the report.
    articles_checked: bool = False
    #: The help articles shown so far, carried to the report filed anyway.
    shown_articles: tuple[str, ...] = ()


@dataclass(frozen=True)
class CustomerLocale:
    """The language a customer reported in and the time zone their browser said, remembered on them."""

    language: str = locales.DEFAULT
    time_zone: str = ""


@dataclass(frozen=True)
class StepPreview:
    label: str
    expected: str


@dataclass(frozen=True)
class Confirmation:
    issue_type: IssueType
    reference: str
    steps: tuple[StepPreview, ...]
    status_link: str

    @property
    def emails_customer(self) -> bool:
        """Whether the process writes to the customer (with its outcome) on its way."""
        return any(step.kind == EMAIL_CUSTOMER for step in self.issue_type.all_steps())


@dataclass(frozen=True)
class Suggested:
    """Before filing: help articles that may answer the report, with the form as sent below them."""

    page: FormPage
    articles: list[dict[str, Any]]


@dataclass(frozen=True)
class Deflected:
    """ "This answered my question": nothing was filed."""

    issue_type: IssueType
    article: dict[str, Any]


@dataclass(frozen=True)
class Refused:
    """The form's submission id is not one a form of ours made: the form must be reloaded."""

    type_id: str


@dataclass(frozen=True)
class Limited:
    """Too many posts from this address or reports for this email in the current window."""

    type_id: str
    retry_at: datetime
    retry_after: timedelta


@dataclass(frozen=True)
class AlreadySent:
    """The submission id was used for a report with other answers (e.g. edited after going back)."""

    type_id: str


Outcome = FormPage | Confirmation | Refused | Limited | AlreadySent | Suggested


def customer_text(issue_type: IssueType, submitted: Mapping[str, list[str]]) -> str:
    """What the customer wrote in the form's text fields, as help articles are matched against."""
    parts = []
    for spec in issue_type.fields:
        if spec.type in ("text", "long_text"):
            value = _last(submitted, spec.id)
            if value:
                parts.append(value)
    return "\n".join(parts)


def parse_form(raw: bytes | None) -> dict[str, list[str]]:
    """A urlencoded body as every name's list of values (checkboxes repeat their name)."""
    return parse_qs((raw or b"").decode("utf-8", errors="replace"), keep_blank_values=True)


def form_request(issue_type: IssueType, submitted: Mapping[str, list[str]], zone: str = "UTC") -> dict[str, Any]:
    """The intake request for a submitted form: numbers, yes/no as booleans, checkbox lists,
    local date-times in `zone` with their offset, and empty answers left out.

    Text that can't be converted is passed on as typed, so the validator names the problem.
    """
    fields: dict[str, Any] = {}
    for spec in issue_type.fields:
        raw = [v.strip() for v in submitted.get(spec.id, [])]
        if spec.type == "multi_choice":
            chosen = [v for v in raw if v]
            if chosen:
                fields[spec.id] = chosen
            continue
        text = raw[-1] if raw else ""
        if text:
            fields[spec.id] = _converted(spec.type, text, zone)
    customer = {"email": _last(submitted, CUSTOMER_EMAIL), "name": _last(submitted, CUSTOMER_NAME)}
    return {"type": issue_type.id, "customer": {k: v for k, v in customer.items() if v}, "fields": fields}


def _last(submitted: Mapping[str, list[str]], name: str) -> str:
    values = submitted.get(name) or [""]
    return values[-1].strip()


def _converted(kind: str, text: str, zone: str) -> Any:
    if kind == "number":
        for convert in (int, float):
            try:
                return convert(text)
            except ValueError:
                pass
        return text
    if kind == "yes_no":
        return {"yes": True, "no": False}.get(text.lower(), text)
    if kind == "datetime" and _LOCAL_DATETIME.match(text):
        return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).isoformat()
    return text


def form_zone(issue_type: IssueType) -> str:
    """The time zone a customer's local date-time is read in: the type's first business calendar's."""
    for step in issue_type.all_steps():
        if step.calendar != ALWAYS_NAME and step.calendar in issue_type.calendars:
            return issue_type.calendars[step.calendar].timezone
    return "UTC"


#: A usual time in words, by unit and whether it counts working time only: singular and plural.
_WITHIN = {
    ("day", False): ("within %(num)d day", "within %(num)d days"),
    ("hour", False): ("within %(num)d hour", "within %(num)d hours"),
    ("minute", False): ("within %(num)d minute", "within %(num)d minutes"),
    ("second", False): ("within %(num)d second", "within %(num)d seconds"),
    ("hour", True): ("usually within %(num)d working hour", "usually within %(num)d working hours"),
    ("minute", True): ("usually within %(num)d working minute", "usually within %(num)d working minutes"),
    ("second", True): ("usually within %(num)d working second", "usually within %(num)d working seconds"),
}


def expected_time(deadline: timedelta, calendar: str, t: locales.Texts | None = None) -> str:
    """A deadline as a customer reads it: "usually within 8 working hours", or "within 2 hours" on 24x7."""
    seconds = int(deadline.total_seconds())
    working = calendar != ALWAYS_NAME
    if seconds % 86400 == 0 and not working:
        amount, unit = seconds // 86400, "day"
    elif seconds % 3600 == 0:
        amount, unit = seconds // 3600, "hour"
    elif seconds % 60 == 0:
        amount, unit = seconds // 60, "minute"
    else:
        amount, unit = seconds, "second"
    singular, plural = _WITHIN[(unit, working)]
    return (t or locales.Texts()).plural(singular, plural, amount)


def what_happens_next(
    issue_type: IssueType, fields: Mapping[str, Any] | None = None, t: locales.Texts | None = None
) -> tuple[StepPreview, ...]:
    """The customer-facing steps in order: people's tasks, parallel work and waits for the customer.

    A step that runs only on some condition is left out unless it depends on the customer's own
    answers and they meet it: what happens later depends on decisions nobody has made yet.
    """
    previews = []
    for step in issue_type.steps:
        if step.kind not in _SHOWN_KINDS or not _applies(step, fields or {}):
            continue
        previews.append(StepPreview(step.label_for_customer, _step_time(step, t)))
    return tuple(previews)


def _applies(step: Step, fields: Mapping[str, Any]) -> bool:
    if step.when is None:
        return True
    return all(c.subject == FIELD for c in step.when.conditions) and step.when.holds(fields)


def _step_time(step: Step, t: locales.Texts | None = None) -> str:
    if step.kind == HUMAN_TASK and step.deadline is not None:
        return expected_time(step.deadline, step.calendar, t)
    return ""


class WebFormService:
    def __init__(
        self,
        issue_types: IssueTypeService,
        intake: IntakeService,
        status_links: StatusLinks,
        limiter: RateLimiter,
        secret: Secret,
        limits: FormLimits = FormLimits(),
        clock: Clock = utc_now,
        articles: ArticleService | None = None,
    ):
        self._articles = articles
        self._types = issue_types
        self._intake = intake
        self._links = status_links
        self._limiter = limiter
        self._secret = secret
        self._limits = limits
        self._clock = clock

    def catalogue(self) -> list[IssueType]:
        """The types customers may report, by name."""
        return sorted((t for t in self._types.list_current() if t.public), key=lambda t: t.name.lower())

    def form_type(self, type_id: str) -> IssueType:
        """The type a customer's form reports; NotFound for an unknown or non-public type."""
        return self._public_type(type_id)

    def blank_form(self, type_id: str, csrf_token: str) -> FormPage:
        """A fresh form carrying `csrf_token`; NotFound for an unknown or non-public type."""
        return self._page(self._public_type(type_id), csrf_token)

    def submit(
        self,
        type_id: str,
        submitted: Mapping[str, list[str]],
        address: str,
        csrf_token: str,
        customer: CustomerLocale | None = None,
    ) -> Outcome:
        """Check the form's guards, then open the issue through the intake; NotFound for an unknown type.
        A form shown again with its errors carries `csrf_token`. `customer`: the language and zone the
        customer reported in, remembered on them for every later email (the confirmation is in it)."""
        customer = customer or CustomerLocale()
        issue_type = self._public_type(type_id)
        submission_id = _last(submitted, SUBMISSION_FIELD)
        if not _TOKEN.match(submission_id):
            return Refused(issue_type.id)
        if limited := self._limit(issue_type.id, "address", address, None, self._limits.per_address):
            return limited
        if _last(submitted, HONEYPOT_FIELD):
            log.warning("web form honeypot filled: nothing opened", extra={"type": issue_type.id})
            return self._confirmation(issue_type, new_reference(), new_id(), {}, customer.language)
        checked = bool(_last(submitted, ARTICLES_CHECKED_FIELD))
        shown = tuple(v.strip() for v in submitted.get(SHOWN_ARTICLE_FIELD, []) if v.strip())[:10]
        if self._articles is not None and not checked:
            found = self._articles.suggestions(issue_type.id, customer_text(issue_type, submitted))
            if found:
                slugs = tuple(dict.fromkeys([*shown, *(a["slug"] for a in found)]))
                page = self._page(issue_type, csrf_token, submitted, (), submission_id, True, slugs)
                return Suggested(page, found)
        zone = form_zone(issue_type)
        request = form_request(issue_type, submitted, zone)
        email = request["customer"].get("email", "")
        if _LOOKS_LIKE_EMAIL.match(email):
            per_email = self._limits.per_email
            if limited := self._limit(issue_type.id, "email", normalise_email(email), submission_id, per_email):
                return limited
        try:
            opened = self._intake.open_issue(
                request,
                idempotency_key=IDEMPOTENCY_PREFIX + submission_id,
                channel=WEB,
                language=customer.language,
                time_zone=customer.time_zone,
            )
        except ValidationFailed as exc:
            return self._page(issue_type, csrf_token, submitted, tuple(exc.errors), submission_id, checked, shown)
        except Conflict:
            return AlreadySent(issue_type.id)
        if self._articles is not None and shown:
            self._articles.record_filed_after(issue_type.id, opened.issue.id, self._articles.shown(shown, type_id))
        return self._confirmation(
            issue_type, opened.issue.reference, opened.issue.id, opened.issue.fields, customer.language
        )

    def suggest(self, type_id: str, text: str, address: str) -> list[dict[str, Any]]:
        """The help articles that may answer what a customer is typing in a type's form (at most
        three); NotFound for an unknown or non-public type, TooManyRequests past the address's limit."""
        issue_type = self._public_type(type_id)
        if self._articles is None:
            return []
        allowed = self._limits.per_address * self._limits.suggestions_per_post
        if limited := self._limit(issue_type.id, "suggest", address, None, allowed):
            raise TooManyRequests(
                "too many lookups from this address; try again later", whole_seconds(limited.retry_after)
            )
        return self._articles.suggestions(issue_type.id, text)

    def answered(self, type_id: str, submitted: Mapping[str, list[str]]) -> Deflected | Refused:
        """ "This answered my question" on a type's form: a deflection counted once per form, nothing
        filed; NotFound for an unknown type or an article that is not offered on its form."""
        issue_type = self._public_type(type_id)
        submission_id = _last(submitted, SUBMISSION_FIELD)
        if not _TOKEN.match(submission_id) or self._articles is None:
            return Refused(issue_type.id)
        article = self._articles.record_deflection(issue_type.id, _last(submitted, ANSWERED_FIELD), submission_id)
        return Deflected(issue_type, {"slug": article.slug, "title": article.title, "url": f"/help/{article.slug}"})

    def _public_type(self, type_id: str) -> IssueType:
        try:
            issue_type = self._types.current(type_id).issue_type
        except ValidationFailed:
            raise NotFound(f"no form for {type_id!r}") from None
        if not issue_type.public:
            raise NotFound(f"no form for {type_id!r}")
        return issue_type

    def _page(
        self,
        issue_type: IssueType,
        csrf_token: str,
        values: Mapping[str, list[str]] | None = None,
        errors: tuple[FieldError, ...] = (),
        submission_id: str | None = None,
        articles_checked: bool = False,
        shown_articles: tuple[str, ...] = (),
    ) -> FormPage:
        return FormPage(
            issue_type=issue_type,
            csrf_token=csrf_token,
            submission_id=submission_id or secrets.token_urlsafe(18),
            zone=form_zone(issue_type),
            now=self._clock(),
            values=values or {},
            errors=errors,
            articles_checked=articles_checked,
            shown_articles=shown_articles,
        )

    def _limit(self, type_id: str, kind: str, who: str, unit: str | None, limit: int) -> Limited | None:
        """Count this post in the current window; Limited, saying when the window ends, if over."""
        now = self._clock()
        ends = over_limit(
            self._limiter, self._secret(), now, self._limits.window, f"form-{kind}", f"{kind}|{who}", limit, unit
        )
        return Limited(type_id, ends, ends - now) if ends else None

    def _confirmation(
        self, issue_type: IssueType, reference: str, issue_id: str, fields: Mapping[str, Any], language: str = ""
    ) -> Confirmation:
        t = locales.texts(language)
        steps = what_happens_next(in_language(issue_type, t.language), fields, t)
        return Confirmation(issue_type, reference, steps, self._links.link_for(issue_id))
