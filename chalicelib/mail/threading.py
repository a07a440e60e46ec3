"""Which issue an inbound email belongs to, in layers from the most to the least trustworthy.

1. The recipient: every email Caseflow sends about an issue asks for replies at
   `support+<reference>@domain`, so a reply names its issue in its address.
2. The headers: In-Reply-To and References name earlier messages. Caseflow's own Message-IDs carry
   the issue id and an HMAC, so they are recognised without a lookup; other ids (the customer's
   own earlier messages) are looked up among the stored ones.
3. The subject: a reference such as CF-7K3Q9 counts only if the sender is the issue's customer or
   a CC on it, and the message passed SPF/DKIM/DMARC; anyone can type a reference into a subject.

Anything else opens a new issue.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from chalicelib.domain.issues import REFERENCE_ALPHABET, REFERENCE_PREFIX
from chalicelib.mail.messages import InboundEmail

REFERENCE_PATTERN = re.compile(rf"\b{REFERENCE_PREFIX}[{REFERENCE_ALPHABET}]{{5}}\b", re.IGNORECASE)
#: Prefixes mail programs put before a subject when replying or forwarding, in many languages:
#: Re, Aw/Antw (de, nl), Sv (sv, da, no), Vs (fi), Wg (de), Fw/Fwd, Tr (fr), Rv/Res/Enc (es, pt),
#: Rif/I (it), Odp/Pd (pl), Ynt/Ilt (tr), Atb (lv), Vá/Tov (hu), Ответ/Отв (ru), Απ/Σχετ (el),
#: 回复/转发/答复 (zh), 返信/転送 (ja), 답장/전달 (ko).
_PREFIX = (
    r"(?:re|aw|antw|antwort|sv|vs|wg|fw|fwd|tr|rv|res|enc|rif|i|odp|pd|ynt|ilt|atb|vá|tov|"
    r"ответ|отв|απ|σχετ|回复|转发|答复|返信|転送|답장|전달)"
)
_REPLY_PREFIXES = re.compile(rf"^\s*(?:(?:\[[^\]]*\]\s*)?{_PREFIX}\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*)+", re.IGNORECASE)
_MESSAGE_ID_PREFIX = "cf"


def normalise_message_id(raw: str) -> str:
    """Message-IDs compare without angle brackets and case-insensitively (mail relays vary)."""
    return raw.strip().strip("<>").strip().lower()


def subject_without_prefixes(subject: str) -> str:
    """'AW: Re: SV: Delivery' -> 'Delivery'."""
    return _REPLY_PREFIXES.sub("", subject or "").strip()


def reference_in_subject(subject: str) -> str | None:
    found = REFERENCE_PATTERN.search(subject or "")
    return found.group(0).upper() if found else None


def with_reference(subject: str, reference: str) -> str:
    """A subject that names the issue, so that even a reply to a plain address can be traced."""
    return subject if reference.upper() in (subject or "").upper() else f"{subject} [{reference}]".strip()


@dataclass(frozen=True)
class SupportAddress:
    """The address customers write to, e.g. support@caseflow.test, and its plus-addresses."""

    address: str

    @property
    def local_part(self) -> str:
        return self.address.rpartition("@")[0].lower()

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2].lower()

    def for_issue(self, reference: str) -> str:
        """Where replies about one issue go: support+CF-7K3Q9@caseflow.test."""
        return f"{self.local_part}+{reference}@{self.domain}"

    def is_ours(self, address: str) -> bool:
        local, _, domain = address.lower().rpartition("@")
        return domain == self.domain and local.partition("+")[0] == self.local_part

    def reference_in(self, address: str) -> str | None:
        """The reference a plus-address names, if it is one of ours."""
        if not self.is_ours(address):
            return None
        detail = address.lower().rpartition("@")[0].partition("+")[2]
        found = REFERENCE_PATTERN.fullmatch(detail)
        return found.group(0).upper() if found else None


class MessageIds:
    """Caseflow's own Message-IDs: `cf.<issue id>.<nonce>.<hmac>@domain`.

    The HMAC makes them unforgeable, so a reply's In-Reply-To finds its issue without a lookup,
    and a stranger cannot steer their mail into an issue by inventing a Message-ID.
    """

    def __init__(self, secret: Callable[[], str], domain: str):
        """`secret` is called when an id is first made or checked, not before (it may be fetched)."""
        self._secret = secret
        self._domain = domain.lower()

    def _mac(self, issue_id: str, nonce: str) -> str:
        key = hashlib.sha256(b"caseflow message-id\0" + self._secret().encode()).digest()
        return hmac.new(key, f"{issue_id}.{nonce}".encode(), hashlib.sha256).hexdigest()[:20]

    def new(self, issue_id: str) -> str:
        """A new id for a message about an issue, without angle brackets."""
        nonce = secrets.token_hex(6)
        return f"{_MESSAGE_ID_PREFIX}.{issue_id.lower()}.{nonce}.{self._mac(issue_id.lower(), nonce)}@{self._domain}"

    def issue_in(self, message_id: str) -> str | None:
        """The issue id carried by one of our genuine Message-IDs; None for anyone else's."""
        local, _, domain = normalise_message_id(message_id).rpartition("@")
        parts = local.split(".")
        if domain != self._domain or len(parts) != 4 or parts[0] != _MESSAGE_ID_PREFIX:
            return None
        _, issue_id, nonce, mac = parts
        if not hmac.compare_digest(mac, self._mac(issue_id, nonce)):
            return None
        return issue_id.upper()


class ThreadLookup(Protocol):
    def issue_by_reference(self, reference: str) -> str | None: ...

    def participants(self, issue_id: str) -> set[str]:
        """The addresses that may continue an issue by its subject: its customer and its CCs."""

    def issue_by_message_id(self, message_id: str) -> str | None: ...

    def issue_exists(self, issue_id: str) -> bool: ...


ADDRESS = "address"
HEADERS = "headers"
SUBJECT = "subject"


@dataclass(frozen=True)
class ThreadMatch:
    issue_id: str
    #: Which layer matched: address, headers or subject.
    by: str


def find_thread(
    email: InboundEmail,
    recipients: Iterable[str],
    *,
    support: SupportAddress,
    message_ids: MessageIds,
    verified: bool,
    lookup: ThreadLookup,
) -> ThreadMatch | None:
    """The issue an inbound message continues, or None when it starts a new one.

    `recipients` are the envelope recipients (they include Bcc); To and Cc are read from the
    message as well. `verified` is False when SPF, DKIM or DMARC failed.
    """
    for address in [*recipients, *email.to, *email.cc]:
        reference = support.reference_in(address)
        if reference and (issue_id := lookup.issue_by_reference(reference)):
            return ThreadMatch(issue_id, ADDRESS)
    for message_id in [*email.in_reply_to, *reversed(email.references)]:
        issue_id = message_ids.issue_in(message_id)
        if issue_id and lookup.issue_exists(issue_id):
            return ThreadMatch(issue_id, HEADERS)
        if not issue_id and (issue_id := lookup.issue_by_message_id(normalise_message_id(message_id))):
            return ThreadMatch(issue_id, HEADERS)
    reference = reference_in_subject(email.subject)
    if reference and verified and email.sender:
        issue_id = lookup.issue_by_reference(reference)
        if issue_id and email.sender in lookup.participants(issue_id):
            return ThreadMatch(issue_id, SUBJECT)
    return None
