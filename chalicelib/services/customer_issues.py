"""A customer's "My issues": every issue of theirs on one page, reached by a link sent by email.

No account and no password: the customer types their email address (`request_link`) and, if we
have issues for it, gets a signed link good for 30 minutes and for one use. The answer is the same
whether or not the address is known, and nothing is sent for an unknown one. Asking is rate-limited
per client address and per email address, as the report forms are (`FormLimits`, keyed hashes).

The link's use is recorded by a conditional write (`LinkUses`) when the customer opens the list
(`open`), so a second use is refused (`LinkUsed`, a 410 like an expired link). The email is an
automatic one, as the acknowledgement is: never to a bouncing address, and counted against the
address's cap of automatic emails. It belongs to no issue's thread, so it is not on any issue's
timeline: the link opens all the customer's issues, and a status page opens one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib import locales
from chalicelib.domain import customer_issues as rules
from chalicelib.domain.customer_issues import IssueLine
from chalicelib.domain.issue_search import CUSTOMER, HIGHEST, LOWEST, Narrowing, Source
from chalicelib.domain.issues import RESOLVED, new_id
from chalicelib.domain.type_texts import in_language
from chalicelib.mail.loops import AutomaticMailLimit
from chalicelib.services.clock import Clock, utc_now
from chalicelib.services.issue_types import IssueTypeService
from chalicelib.services.notifications import AUTOMATIC_HEADERS
from chalicelib.services.ports import (
    IssueRepository,
    IssueSearchIndex,
    LinkUses,
    Mailer,
    MailRepository,
    MailServiceBusy,
    RateLimiter,
    Secret,
    TaskRepository,
    UnsendableEmail,
)
from chalicelib.services.rate_limits import over_limit
from chalicelib.services.status_links import StatusLinks
from chalicelib.services.web_forms import FormLimits
from chalicelib.web_tokens.signed_links import LinkExpired, LinkInvalid, sign, verify

log = logging.getLogger(__name__)
#: A use is remembered a little past the link's expiry, so that no clock skew reopens it.
_KEPT_AFTER_EXPIRY = timedelta(hours=1)


class LinkUsed(LinkExpired):
    """The single-use link was opened before: gone for good, as an expired one (410)."""


@dataclass(frozen=True)
class Requested:
    """The request was taken: a link went out if we have issues for the address (never said)."""

    email: str


@dataclass(frozen=True)
class Limited:
    """Too many requests from this client address or for this email address in the current window."""

    retry_at: datetime
    retry_after: timedelta


@dataclass(frozen=True)
class CustomerIssues:
    """The list a link opens: the customer's issues, newest first, each with its status page link."""

    name: str
    lines: tuple[tuple[IssueLine, str], ...]
    #: More issues than the list shows (the oldest are left out).
    more: bool
    #: The customer's time zone, remembered on them (empty: not known).
    zone: str = ""
    #: The language the list is in (its types' names and steps' labels).
    language: str = locales.DEFAULT


class CustomerIssuesService:
    """Sends a customer the link to their issues, and opens the list, once, for the link."""

    def __init__(
        self,
        issues: IssueRepository,
        index: IssueSearchIndex,
        tasks: TaskRepository,
        issue_types: IssueTypeService,
        status_links: StatusLinks,
        uses: LinkUses,
        limiter: RateLimiter,
        mailer: Mailer,
        mail: MailRepository,
        secret: Secret,
        public_url: str,
        limits: FormLimits | None = None,
        mail_limit: AutomaticMailLimit | None = None,
        clock: Clock = utc_now,
    ):
        self._issues = issues
        self._index = index
        self._tasks = tasks
        self._types = issue_types
        self._status_links = status_links
        self._uses = uses
        self._limiter = limiter
        self._mailer = mailer
        self._mail = mail
        self._secret = secret
        self._public_url = public_url.rstrip("/")
        self._limits = limits or FormLimits()
        self._mail_limit = mail_limit or AutomaticMailLimit()
        self._clock = clock

    def request_link(self, email: Any, client_address: str, language: str = "") -> Requested | Limited:
        """Email the link if we have issues for the address; the answer says nothing either way.
        ValidationFailed (`email`) for what is not an address; Limited when asked too often. The email
        is in the customer's remembered language, else in `language` (the page's they asked on)."""
        if limited := self._limit("address", client_address, self._limits.per_address):
            return limited
        address = rules.requested_address(email)
        if limited := self._limit("email", address, self._limits.per_email):
            return limited
        customer = self._issues.customer_by_email(address)
        if customer is None or not self._has_issues(customer.id):
            return Requested(address)
        now = self._clock()
        token = sign(rules.link_payload(customer.id, new_id()), self._secret(), now + rules.LINK_LIFETIME)
        t = locales.texts(customer.language or language, customer.time_zone)
        subject, body = link_email(t, customer.name, f"{self._public_url}/my-issues/{token}")
        self._send(customer.email, subject, body)
        return Requested(address)

    def check(self, token: str) -> None:
        """Whether the link can still open the list: LinkInvalid, LinkExpired or LinkUsed if not."""
        _customer_id, use_id, _expires = self._read(token)
        if self._uses.used(use_id):
            raise LinkUsed("this link was used already")

    def open(self, token: str, language: Callable[[str], str] | None = None) -> CustomerIssues:
        """Use the link (once) and list the customer's issues; LinkInvalid, LinkExpired or LinkUsed.
        `language`: the page's language given the customer's remembered one (their own by default)."""
        customer_id, use_id, expires = self._read(token)
        if not self._uses.use_once(use_id, self._clock(), expires + _KEPT_AFTER_EXPIRY):
            raise LinkUsed("this link was used already")
        customer = self._issues.customer(customer_id)
        if customer is None:
            raise LinkInvalid("this link is not valid")
        shown = language(customer.language) if language else locales.for_customer(customer)
        listed = self._listed(customer.id, customer.name, shown)
        return CustomerIssues(listed.name, listed.lines, listed.more, customer.time_zone, shown)

    def _read(self, token: str) -> tuple[str, str, datetime]:
        payload = verify(token, self._secret(), self._clock())
        read = rules.read_payload(payload)
        if read is None:
            raise LinkInvalid("this link is not a link to your issues")
        expires = datetime.fromtimestamp(payload["exp"], tz=self._clock().tzinfo)
        return read[0], read[1], expires

    def _has_issues(self, customer_id: str) -> bool:
        return bool(self._index.entries(Source(CUSTOMER, customer_id), LOWEST, HIGHEST, 1, Narrowing()).found)

    def _listed(self, customer_id: str, name: str, language: str = locales.DEFAULT) -> CustomerIssues:
        entries = self._index.entries(Source(CUSTOMER, customer_id), LOWEST, HIGHEST, rules.MAX_LISTED, Narrowing())
        found = self._index.issues([issue_id for _, issue_id in entries.found]) if entries.found else []
        mine = [i for i in found if i.customer_id == customer_id]
        types = {i.id: in_language(self._types.version(i.type_id, i.type_version).issue_type, language) for i in mine}
        open_steps = {i.id: [s.id for s in types[i.id].all_steps()] for i in mine if i.status != RESOLVED}
        tasks = self._tasks.for_issues(open_steps) if open_steps else {}
        lines = rules.newest_first(rules.issue_line(i, types[i.id], tasks.get(i.id, [])) for i in mine)
        return CustomerIssues(
            name=name,
            lines=tuple((line, self._status_links.link_for(line.issue_id)) for line in lines),
            more=entries.more is not None,
        )

    def _send(self, address: str, subject: str, body: str) -> None:
        """An automatic email, as the acknowledgement is: not to a bouncing address, within the
        address's cap; a failure is logged, and the customer's answer stays the same."""
        now = self._clock()
        if self._mail.is_bouncing(address):
            log.info("my-issues link not sent: the address bounces")
            return
        sent = self._mail.automatic_mail_count(address, now - self._mail_limit.window)
        if not self._mail_limit.allows(sent):
            log.info("my-issues link not sent: the address had its automatic emails", extra={"sent": sent})
            return
        try:
            self._mailer.send([address], subject, body, dict(AUTOMATIC_HEADERS))
        except (UnsendableEmail, MailServiceBusy) as exc:
            log.warning("my-issues link not sent: SES refused it (%s)", type(exc).__name__)
            return
        self._mail.record_automatic_mail(address, now, now + self._mail_limit.window)

    def _limit(self, kind: str, who: str, limit: int) -> Limited | None:
        """Count this request in the current window; Limited, saying when the window ends, if over."""
        now = self._clock()
        window = self._limits.window
        ends = over_limit(self._limiter, self._secret(), now, window, f"my-issues-{kind}", f"{kind}|{who}", limit)
        return Limited(ends, ends - now) if ends else None


def link_email(t: locales.Texts, name: str, link: str) -> tuple[str, str]:
    """The subject and body of the email that carries the link, in the customer's language."""
    minutes = int(rules.LINK_LIFETIME.total_seconds() // 60)
    paragraphs = [
        locales.salutation(t, name),
        t("You asked for a list of your issues with us. Open it here:") + f"\n{link}",
        t(
            "The link works once, for %(minutes)s minutes. If it has expired or was used, ask for a new one "
            "on our site.",
            minutes=minutes,
        ),
        t("If you did not ask for this, you can ignore this email: nobody else can open the link."),
        t("Caseflow customer service"),
    ]
    return t("Your issues with us"), "\n\n".join(paragraphs) + "\n"
