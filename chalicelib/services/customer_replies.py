"""The customer writes back, and a person hears of it.

A reply by email, a message or a file on the status page, and a reply that reopens a resolved issue
each record when the customer wrote (`Issue.customer_wrote_at`, which marks the issue's tasks
"customer replied" until someone acts) and email the holder of each open task with the customer's
words and a link to the task; with no task open, whoever is given the issue first
(`domain/customer_replies.to_tell`, decision 0030). One message tells each holder once: its key
(`once`, e.g. the SES message id, which a redelivery keeps) goes on the timeline entry.
"""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain.customer_replies import to_tell
from chalicelib.services.clock import Clock, utc_now
from chalicelib.services.issue_types import IssueTypeService
from chalicelib.services.ports import IssueRepository, TaskRepository
from chalicelib.services.workflow.holder_notifications import HolderNotifications
from chalicelib.services.workflow.lookups import issue_type_of


class CustomerReplies:
    def __init__(
        self,
        issues: IssueRepository,
        tasks: TaskRepository,
        issue_types: IssueTypeService,
        holders: HolderNotifications,
        clock: Clock = utc_now,
    ):
        self._issues = issues
        self._tasks = tasks
        self._types = issue_types
        self._holders = holders
        self._clock = clock

    def customer_wrote(
        self,
        issue_id: str,
        words: str,
        *,
        once: str = "",
        resumed_step: str | None = None,
        at: datetime | None = None,
    ) -> list[str]:
        """Record that the customer wrote `words` at `at` (now) and tell the issue's holders; a
        message that resumed a step waiting for it (`resumed_step`) tells only the holders of other
        open tasks: the next task's own email carries the reply. Returns the addresses reached."""
        issue = self._issues.get(issue_id)
        if issue is None:
            return []
        wrote_at = at or self._clock()
        issue = self._issues.change(issue, lambda current: current.customer_wrote(wrote_at))
        issue_type = issue_type_of(self._types, issue)
        reached: list[str] = []
        for who in to_tell(issue, issue_type, self._tasks.for_issue(issue.id), resumed_step):
            if who.task is not None:
                subject = f"Customer replied {issue.reference}: {who.task.step_name or who.task.step}"
                reached += self._holders.notify(
                    issue, who.task, who.holder, subject, words=words, wrote_at=wrote_at, once=once
                )
            else:
                subject = f"Customer replied {issue.reference}: {issue_type.name}"
                reached += self._holders.notify_about_issue(
                    issue, who.holder, subject, words=words, wrote_at=wrote_at, once=once
                )
        return reached
