"""A customer's "My issues": the rules (`domain.customer_issues`), then the service on fakes of the ports."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import customer_issues as rules
from chalicelib.domain import tasks as task_rules
from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.issues import OPEN, RESOLVED, Issue
from chalicelib.domain.tasks import Task
from chalicelib.services.customer_issues import CustomerIssuesService, Limited, LinkUsed, Requested
from chalicelib.services.web_forms import FormLimits
from chalicelib.web_tokens.signed_links import LinkExpired, LinkInvalid
from chalicelib.workflows import compiler
from tests.unit.wiring import World, world

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ENQUIRY = {
    "type": "general-enquiry",
    "customer": {"email": "ada@example.com", "name": "Ada"},
    "fields": {"subject": "Opening hours", "message": "Are you open on Sunday?"},
}
DAMAGE = {
    "type": "damaged-product",
    "customer": {"email": "ada@example.com", "name": "Ada"},
    "fields": {"order_number": "AB123456", "product": "Kettle", "damage": "The lid is cracked.", "wanted": "refund"},
}


# The rules


@pytest.mark.parametrize("typed", [" Ada@Example.COM ", "ada@example.com"])
def test_an_address_is_read_as_customers_are_stored(typed):
    assert rules.requested_address(typed) == "ada@example.com"


@pytest.mark.parametrize("typed", ["", "   ", "ada", "ada@", "@example.com", "a@b@c", "ada @example.com", None, 3])
def test_what_cannot_be_an_address_is_refused_naming_the_field(typed):
    with pytest.raises(ValidationFailed) as refused:
        rules.requested_address(typed)
    assert refused.value.errors[0].field == "email"


def test_an_overlong_address_is_refused():
    with pytest.raises(ValidationFailed):
        rules.requested_address("a" * 250 + "@example.com")


def test_the_link_names_the_customer_and_its_use_and_nothing_else_passes_for_it():
    payload = rules.link_payload("C1", "U1")
    assert rules.read_payload(payload) == ("C1", "U1")
    assert rules.read_payload({"for": "status", "issue": "I1"}) is None, "a status link is not this link"
    assert rules.read_payload({**payload, "for": "survey"}) is None
    assert rules.read_payload({"for": rules.PURPOSE, "customer": "C1"}) is None, "a link without a use id"
    assert rules.read_payload({"for": rules.PURPOSE, "customer": "", "use": "U1"}) is None
    assert rules.read_payload({"for": rules.PURPOSE, "customer": ["C1"], "use": "U1"}) is None


def test_the_email_gives_the_link_and_says_it_works_once_for_30_minutes():
    subject, body = rules.link_email("Ada", "https://help.example.com/my-issues/abc")
    assert subject == "Your issues with us"
    assert "Dear Ada," in body and "https://help.example.com/my-issues/abc\n" in body
    assert "once, for 30 minutes" in body
    assert "Dear customer," in rules.link_email("", "x")[1]


def _issue(type_id: str, status: str = OPEN, step: str = "", opened: datetime = NOW, number: int = 1) -> Issue:
    return Issue(
        id=f"I{number}",
        reference=f"CF-0000{number}",
        type_id=type_id,
        type_version=1,
        status=status,
        channel="web",
        customer_id="C1",
        fields={},
        created_at=opened,
        current_step=step,
        resolved_at=opened + timedelta(days=1) if status == RESOLVED else None,
    )


def _task(issue_id: str, step: str, holder: str = "role:agent", due: datetime = NOW + timedelta(hours=8)) -> Task:
    return Task(
        id=f"{issue_id}-{step}", issue_id=issue_id, step=step, status=task_rules.OPEN, holder=holder, due_at=due
    )


def _type(w: World, type_id: str):
    return w.services.issue_types.current(type_id).issue_type


def test_a_line_says_the_current_step_in_the_customers_words_and_when_we_expect_to_be_done():
    w = world()
    enquiry = _type(w, "general-enquiry")
    line = rules.issue_line(_issue("general-enquiry", step="answer"), enquiry, [_task("I1", "answer")])
    assert (line.reference, line.status, line.resolved) == ("CF-00001", OPEN, False)
    assert line.type_name == enquiry.name
    assert line.current_step == "Our team is answering your question"
    assert line.expected_by is not None and line.expected_by >= NOW + timedelta(hours=8)
    assert line.waiting_for_customer is False


def test_a_line_without_a_recorded_step_takes_its_open_tasks_step_and_ignores_closed_tasks():
    w = world()
    enquiry = _type(w, "general-enquiry")
    closed = replace(_task("I1", "answer"), status=task_rules.COMPLETED)
    assert rules.issue_line(_issue("general-enquiry"), enquiry, [closed]).current_step is None
    assert rules.issue_line(_issue("general-enquiry"), enquiry, [closed]).expected_by is None
    line = rules.issue_line(_issue("general-enquiry"), enquiry, [_task("I1", "answer")])
    assert line.current_step == "Our team is answering your question"


def test_a_resolved_issue_has_no_step_and_no_expected_date():
    w = world()
    line = rules.issue_line(
        _issue("general-enquiry", RESOLVED, step="answer"), _type(w, "general-enquiry"), [_task("I1", "answer")]
    )
    assert (line.resolved, line.current_step, line.expected_by) == (True, None, None)
    assert line.resolved_at == NOW + timedelta(days=1)


def test_an_internal_types_name_is_not_shown_to_the_customer():
    w = world()
    triage = _type(w, "triage")
    assert rules.issue_line(_issue("triage"), triage, []).type_name == ""


def test_lines_come_newest_first():
    w = world()
    enquiry = _type(w, "general-enquiry")
    older = rules.issue_line(_issue("general-enquiry", number=1), enquiry, [])
    newer = rules.issue_line(_issue("general-enquiry", opened=NOW + timedelta(hours=1), number=2), enquiry, [])
    assert [line.reference for line in rules.newest_first([older, newer])] == ["CF-00002", "CF-00001"]


# The service, on fakes


class FakeLinkUses:
    """Each use id recorded once, as the adapter's conditional put does."""

    def __init__(self) -> None:
        self.uses: dict[str, datetime] = {}

    def use_once(self, use_id: str, at: datetime, keep_until: datetime) -> bool:
        if use_id in self.uses:
            return False
        self.uses[use_id] = keep_until
        return True

    def used(self, use_id: str) -> bool:
        return use_id in self.uses


def _service(w: World, limits: FormLimits | None = None) -> tuple[CustomerIssuesService, FakeLinkUses]:
    uses = FakeLinkUses()
    service = CustomerIssuesService(
        w.issues,
        w.search_index,
        w.tasks,
        w.services.issue_types,
        w.services.status_links,
        uses,
        w.rate_limiter,
        w.mailer,
        w.mail,
        w.services.link_secret,
        "https://help.example.com",
        limits,
        clock=w.clock,
    )
    return service, uses


def _token_in(w: World, address: str) -> str:
    body = w.mailer.to(address)[-1].body
    return re.search(r"https://help\.example\.com/my-issues/(\S+)", body).group(1)


def _two_issues(w: World) -> tuple[Issue, Issue]:
    first = w.services.intake.open_issue(ENQUIRY).issue
    w.workflow_says(first.id, compiler.KIND_OPEN, step="answer")
    w.clock.advance(timedelta(minutes=5))
    second = w.services.intake.open_issue(DAMAGE).issue
    return first, second


def test_a_known_customer_gets_one_link_that_lists_all_their_issues_once():
    w = world()
    first, second = _two_issues(w)
    service, _uses = _service(w)
    before = len(w.mailer.sent)

    assert service.request_link(" ADA@example.com ", "198.51.100.1") == Requested("ada@example.com")
    assert len(w.mailer.sent) == before + 1
    sent = w.mailer.sent[-1]
    assert sent.to == ["ada@example.com"] and sent.subject == "Your issues with us"
    assert sent.headers.get("Auto-Submitted") == "auto-replied", "an automatic email, as the acknowledgement"
    token = _token_in(w, "ada@example.com")

    service.check(token)  # looking at the link uses nothing up
    service.check(token)
    listed = service.open(token)
    assert [line.reference for line, _ in listed.lines] == [second.reference, first.reference]
    assert listed.name == "Ada" and listed.more is False
    for line, link in listed.lines:
        issue_id = w.services.status_links.issue_in(link.rpartition("/s/")[2])
        assert issue_id == line.issue_id
    answering = dict((line.reference, line) for line, _ in listed.lines)[first.reference]
    status = w.services.status_pages.view(w.services.status_links.link_for(first.id).rpartition("/s/")[2])
    assert (answering.current_step, answering.expected_by) == (status["current_step"], status["expected_by"])
    assert answering.type_name == status["type_name"]

    with pytest.raises(LinkUsed):
        service.open(token)
    with pytest.raises(LinkUsed):
        service.check(token)


def test_nothing_is_written_on_any_issues_timeline():
    w = world()
    first, second = _two_issues(w)
    service, _ = _service(w)
    kinds = {i.id: len(w.issues.timeline(i.id)) for i in (first, second)}
    service.request_link("ada@example.com", "198.51.100.1")
    service.open(_token_in(w, "ada@example.com"))
    assert {i.id: len(w.issues.timeline(i.id)) for i in (first, second)} == kinds


def test_an_unknown_address_gets_the_same_answer_and_no_email():
    w = world()
    _two_issues(w)
    service, _ = _service(w)
    before = len(w.mailer.sent)
    assert service.request_link("nobody@example.com", "198.51.100.1") == Requested("nobody@example.com")
    assert len(w.mailer.sent) == before


def test_a_link_expires_after_30_minutes():
    w = world()
    _two_issues(w)
    service, _ = _service(w)
    service.request_link("ada@example.com", "198.51.100.1")
    token = _token_in(w, "ada@example.com")
    w.clock.advance(timedelta(minutes=31))
    with pytest.raises(LinkExpired):
        service.check(token)
    with pytest.raises(LinkExpired):
        service.open(token)


def test_a_tampered_link_or_another_kind_of_link_opens_nothing():
    w = world()
    first, _ = _two_issues(w)
    service, uses = _service(w)
    service.request_link("ada@example.com", "198.51.100.1")
    token = _token_in(w, "ada@example.com")
    head, payload, signature = token.split(".")
    with pytest.raises(LinkInvalid):
        service.open(f"{head}.{payload}.{signature[:-2]}xx")
    status_token = w.services.status_links.link_for(first.id).rpartition("/s/")[2]
    with pytest.raises(LinkInvalid):
        service.open(status_token)
    assert uses.uses == {}, "a bad link uses nothing up"


def test_asking_too_often_for_one_address_or_from_one_client_is_limited():
    w = world()
    _two_issues(w)
    service, _ = _service(w, FormLimits(per_address=4, per_email=2, window=timedelta(hours=1)))
    answers = [service.request_link("nobody@example.com", "198.51.100.7") for _ in range(3)]
    assert [type(a) for a in answers] == [Requested, Requested, Limited], "unknown addresses count too"
    limited = answers[-1]
    assert limited.retry_at > w.clock()
    assert timedelta(0) < limited.retry_after <= timedelta(hours=1)
    assert isinstance(service.request_link("ada@example.com", "198.51.100.7"), Requested)
    assert isinstance(service.request_link("other@example.com", "198.51.100.7"), Limited), "the client's 5th"
    assert isinstance(service.request_link("other@example.com", "198.51.100.8"), Requested)


def test_no_link_goes_to_a_bouncing_address_but_the_answer_is_the_same():
    w = world()
    _two_issues(w)
    service, _ = _service(w)
    w.mail.mark_bouncing("ada@example.com", w.clock(), "mailbox full")
    before = len(w.mailer.sent)
    assert service.request_link("ada@example.com", "198.51.100.1") == Requested("ada@example.com")
    assert len(w.mailer.sent) == before


def test_a_refused_email_is_not_an_error_for_the_customer():
    w = world()
    _two_issues(w)
    service, _ = _service(w)
    w.mailer.busy = True
    assert service.request_link("ada@example.com", "198.51.100.1") == Requested("ada@example.com")
