"""Threading rules without AWS: reply addresses, signed Message-IDs, subject prefixes, the layers."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.mail.messages import InboundEmail
from chalicelib.mail.threading import (
    ADDRESS,
    HEADERS,
    SUBJECT,
    MessageIds,
    SupportAddress,
    find_thread,
    reference_in_subject,
    subject_without_prefixes,
    with_reference,
)

SUPPORT = SupportAddress("support@caseflow.test")
IDS = MessageIds(lambda: "unit-test-secret-unit-test", "caseflow.test")
ISSUE = "01J9Z3Q4V5W6X7Y8Z9A0B1C2D3"
OTHER = "01J9Z3Q4V5W6X7Y8Z9A0B1C2D4"


class Lookup:
    """Two stored issues: CF-7K3Q9 (customer ivy, CC bob) and CF-22222 (customer zed)."""

    references = {"CF-7K3Q9": ISSUE, "CF-22222": OTHER}
    people = {ISSUE: {"ivy@example.com", "bob@example.com"}, OTHER: {"zed@example.com"}}
    stored_ids = {"abc@mail.example.com": OTHER}

    def issue_by_reference(self, reference: str) -> str | None:
        return self.references.get(reference)

    def participants(self, issue_id: str) -> set[str]:
        return self.people[issue_id]

    def issue_by_message_id(self, message_id: str) -> str | None:
        return self.stored_ids.get(message_id)

    def issue_exists(self, issue_id: str) -> bool:
        return issue_id in self.people


def inbound(**changes) -> InboundEmail:
    base = InboundEmail(
        message_id="new@example.com",
        in_reply_to=(),
        references=(),
        sender="ivy@example.com",
        sender_name="Ivy",
        reply_to=None,
        return_path="ivy@example.com",
        to=("support@caseflow.test",),
        cc=(),
        subject="Hello",
        date=None,
        text="Hi",
        new_text="Hi",
        attachments=(),
        headers={},
        content_type="text/plain",
    )
    return replace(base, **changes)


def thread(email: InboundEmail, recipients=("support@caseflow.test",), verified=True):
    return find_thread(email, recipients, support=SUPPORT, message_ids=IDS, verified=verified, lookup=Lookup())


@pytest.mark.parametrize(
    ("subject", "stripped"),
    [
        ("Re: Delivery", "Delivery"),
        ("AW: RE: SV: VS: Delivery", "Delivery"),
        ("Fwd: WG: TR: RV: Delivery", "Delivery"),
        ("Re[2]: Delivery", "Delivery"),
        ("RE (3): Delivery", "Delivery"),
        ("Antw: Odp: YNT: Delivery", "Delivery"),
        ("Ответ: Delivery", "Delivery"),
        ("回复：Delivery", "Delivery"),
        ("[External] Re: Delivery", "Delivery"),
        ("Reply needed about Delivery", "Reply needed about Delivery"),
        ("", ""),
    ],
)
def test_reply_and_forward_prefixes_in_many_languages_are_stripped(subject, stripped):
    assert subject_without_prefixes(subject) == stripped


def test_a_reference_is_found_in_a_subject_and_added_to_one_that_lacks_it():
    assert reference_in_subject("Re: Your report cf-7k3q9 again") == "CF-7K3Q9"
    assert reference_in_subject("Order CF-0O1IL") is None  # lookalike characters are not in references
    assert with_reference("Re: Lamp", "CF-7K3Q9") == "Re: Lamp [CF-7K3Q9]"
    assert with_reference("Re: Lamp [CF-7K3Q9]", "CF-7K3Q9") == "Re: Lamp [CF-7K3Q9]"


def test_the_support_address_and_its_plus_addresses_are_ours():
    assert SUPPORT.for_issue("CF-7K3Q9") == "support+CF-7K3Q9@caseflow.test"
    assert SUPPORT.is_ours("Support+anything@Caseflow.test") and not SUPPORT.is_ours("sales@caseflow.test")
    assert SUPPORT.reference_in("support+cf-7k3q9@caseflow.test") == "CF-7K3Q9"
    assert SUPPORT.reference_in("support+CF-7K3Q9@elsewhere.test") is None
    assert SUPPORT.reference_in("support+hello@caseflow.test") is None


def test_our_message_ids_carry_the_issue_and_cannot_be_forged():
    message_id = IDS.new(ISSUE)
    assert IDS.issue_in(f"<{message_id.upper()}>") == ISSUE
    assert IDS.new(ISSUE) != message_id
    local, _, domain = message_id.partition("@")
    forged = local[:-1] + ("0" if local[-1] != "0" else "1") + "@" + domain
    assert IDS.issue_in(forged) is None
    assert MessageIds(lambda: "another-secret-another-secret", "caseflow.test").issue_in(message_id) is None
    assert IDS.issue_in(message_id.replace("caseflow.test", "evil.test")) is None
    assert IDS.issue_in("abc@mail.example.com") is None


def test_the_recipient_address_wins_over_everything_else():
    email = inbound(subject="Re: CF-22222", in_reply_to=("abc@mail.example.com",))
    match = thread(email, recipients=("support+CF-7K3Q9@caseflow.test",))
    assert (match.issue_id, match.by) == (ISSUE, ADDRESS)


def test_headers_find_our_signed_ids_without_a_lookup_and_other_ids_among_the_stored_ones():
    ours = thread(inbound(in_reply_to=(f"<{IDS.new(ISSUE)}>",)))
    assert (ours.issue_id, ours.by) == (ISSUE, HEADERS)
    stored = thread(inbound(references=("unknown@x", "abc@mail.example.com")))
    assert (stored.issue_id, stored.by) == (OTHER, HEADERS)
    assert thread(inbound(in_reply_to=("unknown@x",))) is None


def test_the_subject_counts_only_for_the_customer_or_a_cc_and_only_when_verified():
    assert thread(inbound(subject="Re: CF-7K3Q9")).by == SUBJECT
    assert thread(inbound(subject="Re: CF-7K3Q9", sender="bob@example.com")).issue_id == ISSUE
    assert thread(inbound(subject="Re: CF-7K3Q9", sender="mallory@example.org")) is None
    assert thread(inbound(subject="Re: CF-7K3Q9"), verified=False) is None
    assert thread(inbound(subject="Re: CF-7K3Q9", sender="")) is None
    assert thread(inbound(subject="Re: CF-99999")) is None
