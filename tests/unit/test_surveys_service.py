"""Satisfaction surveys, on fakes of the ports: the survey email on resolution, one-click answers
recorded once, and one service-recovery issue for an unhappy customer."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from chalicelib.domain.errors import Conflict
from chalicelib.workflows import compiler
from tests.unit.wiring import World, world

REPORT = {
    "type": "general-enquiry",
    "customer": {"email": "ada@example.com", "name": "Ada"},
    "fields": {"subject": "Opening hours", "message": "Are you open on Sunday?"},
}


def _resolved(w: World):
    issue = w.services.intake.open_issue(REPORT).issue
    w.clock.advance(timedelta(hours=1))
    w.workflow_says(issue.id, compiler.KIND_RESOLVE)
    return w.issues.get(issue.id)


def _survey_links(w: World) -> dict[tuple[str, int], str]:
    """The survey email's one-click links: CSAT 1 to 5, CES 1 to 7, then NPS 0 to 10."""
    [survey] = [m for m in w.mailer.to("ada@example.com") if m.subject.startswith("How did we do?")]
    tokens = re.findall(r"/survey/(\S+)", survey.body)
    assert len(tokens) == 5 + 7 + 11
    return {
        **{("csat", s): tokens[s - 1] for s in range(1, 6)},
        **{("ces", s): tokens[5 + s - 1] for s in range(1, 8)},
        **{("nps", s): tokens[5 + 7 + s] for s in range(11)},
    }


def _recovery_issues(w: World) -> list:
    return [i for i in w.issues.issues.values() if i.type_id == "service-recovery"]


def test_resolving_an_issue_emails_the_survey_once():
    w = world()
    issue = _resolved(w)
    links = _survey_links(w)
    assert issue.status == "resolved" and len(links) == 23


def test_an_answer_is_recorded_once_however_often_its_link_is_clicked():
    w = world()
    issue = _resolved(w)
    link = _survey_links(w)[("csat", 5)]

    for _ in range(3):
        answered = w.services.surveys.answer(link)
    assert answered == {"reference": issue.reference, "question": "csat", "score": 5, "comment_allowed": True}
    assert w.survey_records.answer(issue.id, "csat").score == 5
    assert len(w.issues.events(issue.id, "survey_answered")) == 1
    assert [e.kind for e in w.kpi_records.journal(w.clock())].count("survey_answered") == 1
    assert _recovery_issues(w) == []


def test_another_score_within_a_week_replaces_the_first_and_after_it_the_answer_stands():
    w = world()
    issue = _resolved(w)
    links = _survey_links(w)
    w.services.surveys.answer(links[("csat", 3)])
    w.clock.advance(timedelta(days=2))
    w.services.surveys.answer(links[("csat", 4)])
    assert w.survey_records.answer(issue.id, "csat").score == 4

    w.clock.advance(timedelta(days=6))
    with pytest.raises(Conflict):
        w.services.surveys.answer(links[("csat", 5)])
    assert w.survey_records.answer(issue.id, "csat").score == 4


def test_a_detractor_opens_one_service_recovery_issue_linked_to_the_rated_one():
    w = world()
    issue = _resolved(w)
    links = _survey_links(w)
    for link in (links[("nps", 3)], links[("nps", 3)], links[("csat", 1)]):
        w.services.surveys.answer(link)

    [recovery] = _recovery_issues(w)
    assert recovery.fields["original_reference"] == issue.reference and recovery.fields["score"] == "NPS 3"
    assert recovery.customer_id == issue.customer_id
    assert w.survey_records.recovery_issue(issue.id) == recovery.id
    [linked] = w.issues.events(issue.id, "recovery_opened")
    assert linked.data == {"recovery": recovery.id}
    assert recovery.id in w.engine.started_names()


def test_a_comment_reaches_the_recovery_issue():
    w = world()
    issue = _resolved(w)
    link = _survey_links(w)[("nps", 2)]
    w.services.surveys.answer(link)
    w.services.surveys.comment(link, "Nobody called me back.")

    assert w.survey_records.answer(issue.id, "nps").comment == "Nobody called me back."
    [recovery] = _recovery_issues(w)
    assert [e.text for e in w.issues.events(recovery.id, "customer_message")] == ["Nobody called me back."]
