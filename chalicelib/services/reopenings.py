"""Reopening a resolved issue: an agent decides it, or the customer writes again soon after resolution.

A reopened issue keeps its reference, history and first resolution (resolution time and FCR count
from that); its process runs again from the start as the issue's next run (`<issue id>-<run>`),
the earlier run's tasks archived, and the customer is not acknowledged a second time. Past
REOPEN_WINDOW the customer's message opens a linked follow-up issue instead.

An issue is reopened once however many reopenings race (two replies a few milliseconds apart): the
write from resolved to open (`Issue.reopen`, saved under optimistic locking) is the first thing a
reopening does; a reopening that loses the race applies the transition again to the issue as it now
is, which refuses, as the issue is no longer resolved in the run that was read. Only the reopening
that made it retires the tasks, records the event and starts the next run. The later replies are on
the timeline as messages on the reopened issue.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib import locales
from chalicelib.domain import free_text, kpi_events
from chalicelib.domain.agents import Agent
from chalicelib.domain.errors import Conflict
from chalicelib.domain.issues import RESOLVED, Issue, TimelineEvent, TransitionRefused
from chalicelib.domain.kpis import FCR_WINDOW
from chalicelib.services.access import IssueAccess
from chalicelib.services.clock import Clock, utc_now
from chalicelib.services.intake import IntakeService
from chalicelib.services.kpi_recorder import KpiRecorder
from chalicelib.services.notifications import NotificationService
from chalicelib.services.ports import IssueRepository
from chalicelib.services.status_links import StatusLinks
from chalicelib.services.workflow.stepping import Stepping

#: How the email telling the customer of a reopening is named on the timeline.
REOPENED_EMAIL = "reopened"
#: A customer's message this soon after the (latest) resolution reopens the issue.
REOPEN_WINDOW: timedelta = FCR_WINDOW


class ReopeningService:
    def __init__(
        self,
        issues: IssueRepository,
        tasks: Stepping,
        intake: IntakeService,
        access: IssueAccess,
        clock: Clock = utc_now,
        kpis: KpiRecorder | None = None,
        notifications: NotificationService | None = None,
        status_links: StatusLinks | None = None,
    ):
        #: The customer is told that their issue is open again, with their status link.
        self._notifications = notifications
        self._status_links = status_links
        self._access = access
        self._issues = issues
        self._tasks = tasks
        self._intake = intake
        self._clock = clock
        self._kpis = kpis or KpiRecorder()

    def reopen_by_agent(self, issue_id: str, body: Any, agent: Agent) -> dict[str, Any]:
        """`POST /agent/issues/{id}/reopen {"reason"}`: 409 unless the issue is resolved."""
        agent.require_any_role()
        issue = self._access.require_visible(agent, issue_id)
        raw = body.get("reason") if isinstance(body, dict) else None
        reason = free_text.clean(raw, "reason", free_text.LINE_LENGTH, single_line=True, required=False)
        reopened = self.reopen(issue, reason or "reopened by an agent", agent.username)
        if reopened is None:
            raise Conflict(f"issue {issue.reference} is not resolved; only a resolved issue can be reopened")
        return {
            "issue_id": reopened.id,
            "reference": reopened.reference,
            "status": reopened.status,
            "run": reopened.run,
        }

    def may_reopen(self, issue: Issue) -> bool:
        """Whether a customer's message now reopens this resolved issue (rather than a follow-up)."""
        resolved = issue.resolved_at or issue.first_resolved_at
        return issue.status == RESOLVED and resolved is not None and self._clock() - resolved <= REOPEN_WINDOW

    def reopen(self, issue: Issue, reason: str, actor: str, *, customer_wrote: bool = False) -> Issue | None:
        """Open the resolved issue again and run its process from the start, and tell the customer
        (`customer_wrote`: because they wrote again); None, doing nothing, if it is not resolved, or
        no longer is (a concurrent reopening came first)."""
        if issue.status != RESOLVED:
            return None
        now = self._clock()
        try:
            reopened = self._intake.move_to_next_run(issue, lambda current: current.reopen(run=issue.run))
        except TransitionRefused:
            return None
        self._tasks.retire(issue, "the issue was reopened")
        data = {"run": reopened.run, "reopenings": reopened.reopenings}
        self._intake.start_run(reopened, TimelineEvent(now, "issue_reopened", reason, actor, data))
        first_resolved: datetime = issue.first_resolved_at or issue.resolved_at or now
        self._kpis.record(
            kpi_events.reopened(
                issue.id,
                issue.type_id,
                issue.channel,
                first_resolved,
                now,
                reopened.reopenings,
                bool(issue.resolved_with_one_contact),
            )
        )
        self._tell_customer(reopened, customer_wrote)
        return reopened

    def _tell_customer(self, issue: Issue, customer_wrote: bool) -> None:
        """One email in the issue's thread, in the customer's words: never the agent's reason."""
        customer = self._issues.customer(issue.customer_id) if self._notifications else None
        if self._notifications is None or customer is None:
            return
        t = locales.customer_texts(customer)
        if customer_wrote:
            reopened = t(
                "We have reopened your issue %(reference)s because you wrote to us again.", reference=issue.reference
            )
        else:
            reopened = t("We have reopened your issue %(reference)s to look at it again.", reference=issue.reference)
        link = self._status_links.link_for(issue.id) if self._status_links else ""
        follow = (
            t("You can follow it here: %(link)s\nor reply to this email.", link=link)
            if link
            else t("You can reply to this email.")
        )
        news = t("Our team is looking into it, and we will write to you as soon as we have news.")
        body = (
            f"{locales.salutation(t, customer.name)}\n\n{reopened} {news}\n\n{follow}\n\n"
            f"{t('Caseflow customer service')}\n"
        )
        subject = t("Your issue %(reference)s is open again", reference=issue.reference)
        self._notifications.email_customer(issue, customer, subject, body, REOPENED_EMAIL)
