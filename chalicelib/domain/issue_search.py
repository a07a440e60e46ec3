"""Searching issues: what an agent asks for, where the answer is read from, and what matches.

A search names any of: a reference, a customer's email, words of the customer's name, words of
the customer's text (`q`), a type, a status, a current step, a holder of one of its open tasks, a
channel, and an opening window. Results come newest first. Each source of issues (the entries of
one word, of a customer, the issues of a type) is read in the same order, by *search position*
(`<opened at, UTC, fixed width>#<issue id>`), so a page ends at a position and the next page
starts below it whatever was read (decision 0027).

The search reads one source, the most selective the criteria name (`driving_source`), and checks
the rest on the issues it fetched (`matches`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, time

from chalicelib.domain import paging
from chalicelib.domain.assignees import USER, Holder
from chalicelib.domain.errors import FieldError, ValidationFailed
from chalicelib.domain.issues import OPEN, RESOLVED, Issue, normalise_email
from chalicelib.domain.search_words import issue_words, name_words, words

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
STATUSES = (OPEN, RESOLVED)
_MAX_VALUE_LENGTH = 200

# Kinds of source.
REFERENCE = "reference"
CUSTOMER = "customer"
WORD = "word"
NAME = "name"
HOLDER = "holder"
TYPE = "type"
#: Every type's issues, merged.
ALL = "all"

#: Below every search position, and above every one.
LOWEST = "0000"
HIGHEST = "~"


def position(opened_at: datetime, issue_id: str) -> str:
    """The issue's place in every source: by the moment it opened, then by id."""
    return f"{_moment(opened_at)}#{issue_id}"


def _moment(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Source:
    """Where issues are read from, newest first: the entries of a word of customers' text (`word`),
    of a word of their names (`name`), of a customer (`customer`, by id), the issues of a type
    (`type`), of every type (`all`), of a holder's open tasks (`holder`), or one reference."""

    kind: str
    value: str = ""


@dataclass(frozen=True)
class Narrowing:
    """Criteria an index can apply to the entries it reads, before any issue is fetched; each index
    applies those its entries carry (`""`: any)."""

    type_id: str = ""
    channel: str = ""
    status: str = ""
    step: str = ""


@dataclass(frozen=True)
class SearchEntries:
    """One read of a source: (position, issue id) newest first, the position below which the source
    has more (None: read to its end or to the window's start), and how many entries it read."""

    found: list[tuple[str, str]]
    more: str | None
    read: int


@dataclass(frozen=True)
class SearchCriteria:
    reference: str = ""
    email: str = ""
    #: Normalised words (see `search_words`): every one must be among the issue's.
    words: tuple[str, ...] = ()
    name_words: tuple[str, ...] = ()
    type_id: str = ""
    status: str = ""
    step: str = ""
    #: A holder key: `role:hr`, `team:x`, `user:sam`.
    holder: str = ""
    channel: str = ""
    opened_after: datetime | None = None
    opened_before: datetime | None = None
    limit: int = DEFAULT_LIMIT

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> SearchCriteria:
        """From a request's query parameters (`cursor` aside); ValidationFailed lists every problem."""
        errors: list[FieldError] = []
        known = {"reference", "email", "q", "name", "type", "status", "step", "holder", "channel"}
        known |= {"opened_after", "opened_before", "limit", "cursor"}
        for name in sorted(set(params) - known):
            errors.append(FieldError(name, f"is not a search criterion; use {', '.join(sorted(known))}"))
        values = {k: v.strip() for k, v in params.items() if k in known and isinstance(v, str)}
        for name, value in values.items():
            if len(value) > _MAX_VALUE_LENGTH:
                errors.append(FieldError(name, f"must be at most {_MAX_VALUE_LENGTH} characters"))
        text_words = tuple(words(values.get("q", "")))
        if values.get("q") and not text_words:
            errors.append(FieldError("q", "has no word to search for: words of 2 letters or more, not 'the' or 'and'"))
        names = tuple(name_words(values.get("name", "")))
        if values.get("name") and not names:
            errors.append(FieldError("name", "has no word of a name to search for"))
        status = values.get("status", "")
        if status and status not in STATUSES:
            errors.append(FieldError("status", f"must be one of {', '.join(STATUSES)}"))
        holder = values.get("holder", "")
        if holder and ":" not in holder:
            holder = Holder(USER, holder).key
        after = _moment_param("opened_after", values.get("opened_after", ""), errors)
        before = _moment_param("opened_before", values.get("opened_before", ""), errors)
        if after and before and after >= before:
            errors.append(FieldError("opened_before", "must be later than opened_after"))
        limit = paging.page_limit(values.get("limit", ""), errors, DEFAULT_LIMIT, MAX_LIMIT)
        if errors:
            raise ValidationFailed(errors)
        return cls(
            reference=values.get("reference", "").upper(),
            email=normalise_email(values.get("email", "")),
            words=text_words,
            name_words=names,
            type_id=values.get("type", ""),
            status=status,
            step=values.get("step", ""),
            holder=holder,
            channel=values.get("channel", ""),
            opened_after=after,
            opened_before=before,
            limit=limit,
        )

    @property
    def since(self) -> str:
        """The lowest position in the opening window (inclusive)."""
        return _moment(self.opened_after) if self.opened_after else LOWEST

    @property
    def until(self) -> str:
        """The position above the opening window (exclusive)."""
        return _moment(self.opened_before) if self.opened_before else HIGHEST

    @property
    def narrowing(self) -> Narrowing:
        return Narrowing(self.type_id, self.channel, self.status, self.step)

    def fingerprint(self) -> str:
        """The criteria in short, so that a cursor is not used with other criteria than its own."""
        described = json.dumps({k: str(v) for k, v in asdict(self).items() if k != "limit"}, sort_keys=True)
        return hashlib.sha256(described.encode()).hexdigest()[:16]


def _moment_param(name: str, value: str, errors: list[FieldError]) -> datetime | None:
    """An ISO 8601 date (its midnight, UTC) or moment (UTC when it names no offset)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        errors.append(FieldError(name, "must be an ISO 8601 date or moment, e.g. 2026-12-06 or 2026-12-06T09:30:00Z"))
        return None
    if len(value) == 10:
        moment = datetime.combine(moment.date(), time(), UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def driving_source(criteria: SearchCriteria, customer_id: str = "") -> Source:
    """The source a search reads, the one likely to hold fewest issues: a reference, the customer
    of the email, the longest word asked for (longer words are rarer), the holder's open tasks,
    the type, or every type."""
    if criteria.reference:
        return Source(REFERENCE, criteria.reference)
    if criteria.email:
        return Source(CUSTOMER, customer_id)
    candidates = [(len(w), 1, Source(WORD, w)) for w in criteria.words]
    candidates += [(len(w), 0, Source(NAME, w)) for w in criteria.name_words]
    if candidates:
        return max(candidates, key=lambda c: (c[0], c[1]))[2]
    if criteria.holder:
        return Source(HOLDER, criteria.holder)
    if criteria.type_id:
        return Source(TYPE, criteria.type_id)
    return Source(ALL)


def matches(
    criteria: SearchCriteria,
    issue: Issue,
    *,
    customer_id: str = "",
    customer_name: str | None = None,
    holding: frozenset[str] | None = None,
) -> bool:
    """Whether the issue meets every criterion. `customer_id` is the customer of the email asked
    for, `customer_name` the issue's customer's name (needed when names are asked for), `holding`
    the issues with an open task of the holder asked for."""
    if criteria.reference and issue.reference != criteria.reference:
        return False
    if criteria.email and issue.customer_id != customer_id:
        return False
    checks = [
        (criteria.type_id, issue.type_id),
        (criteria.status, issue.status),
        (criteria.step, issue.current_step),
        (criteria.channel, issue.channel),
    ]
    if any(wanted and wanted != actual for wanted, actual in checks):
        return False
    if not criteria.since <= position(issue.created_at, issue.id) < criteria.until:
        return False
    if criteria.words and not set(criteria.words) <= set(issue_words(issue.fields)):
        return False
    if criteria.name_words and not set(criteria.name_words) <= set(name_words(customer_name or "")):
        return False
    return not criteria.holder or (holding is not None and issue.id in holding)
