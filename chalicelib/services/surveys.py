"""Satisfaction surveys: a CSAT (1 to 5), a CES (customer effort, 1 to 7) and an NPS (0 to 10)
question emailed when an issue is resolved, answered with one click, and a service-recovery issue
for every unhappy customer.

Each score is its own signed link, so one click records it with no form and no account. Clicking
twice records once; another score for the same question within 7 days replaces the first. A
detractor (NPS 0 to 6, CSAT 1 or 2, or CES 1 or 2) opens one `service-recovery` issue per
resolved issue, linked to it, with the score and, when given, the comment.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalicelib import locales
from chalicelib.domain import free_text, kpi_events
from chalicelib.domain.errors import Conflict
from chalicelib.domain.issues import Issue, TimelineEvent
from chalicelib.services.clock import Clock, utc_now
from chalicelib.services.intake import IntakeService
from chalicelib.services.kpi_recorder import KpiRecorder
from chalicelib.services.notifications import NotificationService
from chalicelib.services.ports import IssueRepository, Secret, SurveyRepository
from chalicelib.services.records import SurveyAnswer
from chalicelib.web_tokens.signed_links import LinkInvalid, sign, verify

CSAT = "csat"
CES = "ces"
NPS = "nps"
#: The questions in the order the email asks them, each with its scale.
SCALES = {CSAT: range(1, 6), CES: range(1, 8), NPS: range(0, 11)}
#: The scores that make a detractor, who gets a service-recovery issue.
DETRACTORS = {CSAT: range(1, 3), CES: range(1, 3), NPS: range(0, 7)}
QUESTIONS = {
    CSAT: "How satisfied are you with how we handled your issue? (1 = very unsatisfied, 5 = very satisfied)",
    CES: "How easy was it to get your issue resolved? (1 = very difficult, 7 = very easy)",
    NPS: "How likely are you to recommend us to a friend or colleague? (0 = not at all, 10 = extremely likely)",
}
LINK_LIFETIME = timedelta(days=30)
#: A second answer within this time replaces the first; after it, the answer stands.
CHANGE_WINDOW = timedelta(days=7)
RECOVERY_TYPE = "service-recovery"
SURVEY = "survey"
PURPOSE = "survey"
MAX_COMMENT = 2000


def is_detractor(question: str, score: int) -> bool:
    return score in DETRACTORS.get(question, ())


class SurveyService:
    def __init__(
        self,
        issues: IssueRepository,
        answers: SurveyRepository,
        notifications: NotificationService,
        intake: IntakeService,
        secret: Secret,
        public_url: str,
        clock: Clock = utc_now,
        kpis: KpiRecorder | None = None,
    ):
        self._issues = issues
        self._answers = answers
        self._notifications = notifications
        self._intake = intake
        self._secret = secret
        self._public_url = public_url.rstrip("/")
        self._clock = clock
        self._kpis = kpis or KpiRecorder()

    def send(self, issue: Issue) -> bool:
        """Email the survey for a resolved issue (an automatic email: capped, never to a bouncing address)."""
        if issue.type_id == RECOVERY_TYPE:
            return False
        customer = self._issues.customer(issue.customer_id)
        if customer is None:
            return False
        t = locales.customer_texts(customer)
        resolved = t("Your issue %(reference)s is resolved.", reference=issue.reference)
        lines = [locales.salutation(t, customer.name), "", resolved, ""]
        for question in SCALES:
            lines += [t(QUESTIONS[question]), ""]
            lines += [f"  {score}: {self.link(issue.id, question, score)}" for score in SCALES[question]]
            lines.append("")
        lines += [t("One click records your answer; you can add a comment on the page it opens."), "", "Caseflow"]
        subject = t("How did we do? %(reference)s", reference=issue.reference)
        return self._notifications.email_customer(issue, customer, subject, "\n".join(lines), SURVEY)

    def link(self, issue_id: str, question: str, score: int) -> str:
        payload = {"for": PURPOSE, "issue": issue_id, "q": question, "s": score}
        return f"{self._public_url}/survey/{sign(payload, self._secret(), self._clock() + LINK_LIFETIME)}"

    def answer(self, token: str) -> dict[str, Any]:
        """Record the score a link carries; LinkInvalid/LinkExpired for a bad link."""
        issue_id, question, score = self._read(token)
        issue = self._issues.get(issue_id)
        if issue is None:
            raise LinkInvalid("this survey link is not valid")
        now = self._clock()
        earlier = self._answers.answer(issue_id, question)
        if earlier is not None and earlier.score != score and now - earlier.first_answered_at > CHANGE_WINDOW:
            answered = Conflict(f"you answered {earlier.score} on {earlier.first_answered_at:%d %B %Y}; thank you")
            answered.earlier = earlier  # type: ignore[attr-defined]  # for the page, in the customer's language
            raise answered
        if earlier is None or earlier.score != score:
            first = earlier.first_answered_at if earlier else now
            recorded = SurveyAnswer(question, score, now, first, earlier.comment if earlier else "")
            self._answers.save(issue_id, recorded)
            text = f"{question.upper()} {score}" + (f" (was {earlier.score})" if earlier else "")
            data = {"q": question, "score": score}
            self._issues.add_event(issue, TimelineEvent(now, "survey_answered", text, "customer", data))
            replaced = earlier.score if earlier else None
            self._kpis.record(
                kpi_events.survey_answered(
                    issue.id, issue.type_id, issue.channel, question, score, now, first, replaced_score=replaced
                )
            )
        if is_detractor(question, score):
            self._recover(issue, question, score, "")
        return {"reference": issue.reference, "question": question, "score": score, "comment_allowed": True}

    def comment(self, token: str, text: Any) -> dict[str, Any]:
        """Add the customer's comment to their answer (and to the recovery issue, if there is one)."""
        issue_id, question, score = self._read(token)
        comment = free_text.clean(text, "comment", MAX_COMMENT)
        issue = self._issues.get(issue_id)
        earlier = self._answers.answer(issue_id, question)
        if issue is None or earlier is None:
            raise LinkInvalid("answer the question first")
        self._answers.save(
            issue_id, SurveyAnswer(question, earlier.score, earlier.answered_at, earlier.first_answered_at, comment)
        )
        now = self._clock()
        self._issues.add_event(issue, TimelineEvent(now, "survey_comment", comment, "customer", {"q": question}))
        recovery = self._answers.recovery_issue(issue_id)
        if recovery and (recovering := self._issues.get(recovery)):
            event = TimelineEvent(now, "customer_message", comment, "customer", {"channel": SURVEY})
            self._issues.add_event(recovering, event)
        return {"reference": issue.reference, "question": question, "score": earlier.score}

    def _read(self, token: str) -> tuple[str, str, int]:
        payload = verify(token, self._secret(), self._clock())
        question, score = payload.get("q"), payload.get("s")
        if payload.get("for") != PURPOSE or question not in SCALES or score not in SCALES[question]:
            raise LinkInvalid("this survey link is not valid")
        return str(payload["issue"]), question, int(score)

    def _recover(self, issue: Issue, question: str, score: int, comment: str) -> None:
        """One service-recovery issue per resolved issue, linked both ways."""
        if self._answers.recovery_issue(issue.id):
            return
        customer = self._issues.customer(issue.customer_id)
        if customer is None:
            return
        fields = {
            "original_reference": issue.reference,
            "score": f"{question.upper()} {score}",
            "comment": comment or "(no comment yet)",
        }
        opened = self._intake.open_internal(RECOVERY_TYPE, customer, fields, SURVEY, key=f"recovery-{issue.id}")
        if not self._answers.claim_recovery(issue.id, opened.issue.id):
            return
        self._issues.add_event(
            issue,
            TimelineEvent(
                self._clock(),
                "recovery_opened",
                f"the customer answered {question.upper()} {score}: service recovery {opened.issue.reference}",
                data={"recovery": opened.issue.id},
            ),
        )
