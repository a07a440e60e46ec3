"""Emails to the holders of a task: a new task, a reminder, an escalation to them or about them, and
the customer writing back.

Each email says it in words (`task_emails`, from the same `holder_view` as the agents' API) and links
straight to the task in the agents' workspace; an outside party holding the task gets the signed
link to answer instead. A group (role or team) is emailed member by member, each reading times in
their own zone (Cognito's `zoneinfo`, which comes with the member list at no extra cost), a member
without one and an outside party in the zone of the step's calendar. Who was reached goes on the
timeline.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from chalicelib.domain import customer_replies
from chalicelib.domain.assignees import EMAIL, Holder
from chalicelib.domain.issue_types import IssueType
from chalicelib.domain.issues import Issue
from chalicelib.domain.local_times import zone_for
from chalicelib.domain.tasks import Task
from chalicelib.services.issue_types import IssueTypeService
from chalicelib.services.notifications import NotificationService
from chalicelib.services.ports import Directory, IssueRepository, TaskRepository
from chalicelib.services.workflow.lookups import issue_type_of
from chalicelib.services.workflow.task_emails import issue_email, task_email
from chalicelib.services.workflow.task_links import LINK_LIFETIME, TaskLinks
from chalicelib.services.workflow.task_timeline import TaskTimeline
from chalicelib.services.workflow.task_views import holder_view, issue_facts

#: Timeline entries that say the customer wrote: their words, for a task email that has none given.
_CUSTOMER_WORDS = ("customer_message", "attachment_added")


class HolderNotifications:
    def __init__(
        self,
        notifications: NotificationService,
        timeline: TaskTimeline,
        links: TaskLinks,
        *,
        issues: IssueRepository,
        tasks: TaskRepository,
        issue_types: IssueTypeService,
        directory: Directory,
        workspace_url: str,
    ):
        self._notifications = notifications
        self._timeline = timeline
        self._links = links
        self._issues = issues
        self._tasks = tasks
        self._types = issue_types
        self._directory = directory
        self._workspace = workspace_url.rstrip("/")

    def task_link(self, task: Task) -> str:
        """Where the task opens in the agents' workspace."""
        return f"{self._workspace}/desk/tasks/{task.id}"

    def notify(
        self,
        issue: Issue,
        task: Task,
        holder: Holder,
        subject: str,
        with_link: bool = True,
        *,
        words: str = "",
        wrote_at: datetime | None = None,
        once: str = "",
    ) -> list[str]:
        """Email `holder` about `task`, with what the customer wrote (`words`) when they wrote back;
        an outside party holding it gets the link to answer, unless `with_link` is False (they are
        told of an escalation, not asked). With `once` (one customer message), a holder already
        told of it is not told again. Returns the addresses reached."""
        if once and self._told(issue, holder, once):
            return []
        issue_type = issue_type_of(self._types, issue)
        calendar_zone = issue_type.calendar(issue_type.step(task.step).calendar).timezone
        issue_tasks = self._tasks.for_issue(issue.id)
        if not words:
            words, wrote_at = self._unanswered_words(issue, issue_tasks)
        reached = []
        for zone, addresses in self._addresses_by_zone(holder, calendar_zone).items():
            view = holder_view(issue, issue_type, task, issue_tasks, zone)
            body = task_email(
                subject,
                view,
                holder=_in_words(task.assigned_to),
                link=self._link_lines(task, holder, with_link),
                time_zone=view["due"]["time_zone"],
                words=words,
                wrote_at=wrote_at,
                earlier=holder.kind != EMAIL,
            )
            reached += self._notifications.notify_addresses(issue, addresses, subject, body)
        self._record(issue, holder, reached, task, once)
        return reached

    def notify_about_issue(
        self, issue: Issue, holder: Holder, subject: str, *, words: str, wrote_at: datetime, once: str = ""
    ) -> list[str]:
        """Email whoever is given the issue first that the customer wrote, when none of its tasks is
        open (it is between steps, or was just reopened): a link to the issue, not to a task."""
        if once and self._told(issue, holder, once):
            return []
        issue_type = issue_type_of(self._types, issue)
        first = _first_step_name(issue_type, issue)
        calendar_zone = _first_calendar_zone(issue_type, issue)
        reached = []
        for zone, addresses in self._addresses_by_zone(holder, calendar_zone).items():
            body = issue_email(
                subject,
                issue_facts(issue, issue_type),
                link=f"Open the issue: {self._workspace}/desk/issues/{issue.reference}",
                first_step=first,
                time_zone=zone,
                words=words,
                wrote_at=wrote_at,
            )
            reached += self._notifications.notify_addresses(issue, addresses, subject, body)
        self._record(issue, holder, reached, None, once)
        return reached

    def _link_lines(self, task: Task, holder: Holder, with_link: bool) -> str:
        if holder.kind != EMAIL:
            return f"Open the task: {self.task_link(task)}"
        if with_link and task.holder == holder.key:
            return (
                f"Answer here (the link works once and expires in {LINK_LIFETIME.days} days):\n"
                f"{self._links.link_for(task)}"
            )
        return "For your information: you are not asked to act on this task."

    def _addresses_by_zone(self, holder: Holder, calendar_zone: str) -> dict[str, list[str]]:
        """The holder's addresses grouped by the zone each reads times in."""
        grouped: dict[str, list[str]] = defaultdict(list)
        if holder.is_group:
            for address, own in sorted(self._directory.role_member_time_zones(holder.name).items()):
                grouped[zone_for(own, calendar_zone)].append(address)
        elif holder.kind == EMAIL:
            grouped[zone_for("", calendar_zone)].append(holder.name)
        elif address := self._directory.user_email(holder.name):
            grouped[zone_for(self._directory.user_time_zone(holder.name), calendar_zone)].append(address)
        return dict(grouped)

    def _unanswered_words(self, issue: Issue, issue_tasks: list[Task]) -> tuple[str, datetime | None]:
        """What the customer last wrote, if nobody on our side acted since (the task shows "customer replied")."""
        if customer_replies.replied_at(issue, issue_tasks) is None:
            return "", None
        said = [e for e in self._issues.timeline(issue.id) if e.kind in _CUSTOMER_WORDS]
        if not said:
            return "", None
        latest = said[-1]
        words = f"(added a file: {latest.text})" if latest.kind == "attachment_added" else latest.text
        return words, latest.at

    def _told(self, issue: Issue, holder: Holder, once: str) -> bool:
        return any(
            e.kind == "assignees_notified" and e.data.get("once") == once and e.data.get("holder") == holder.key
            for e in self._issues.timeline(issue.id)
        )

    def _record(self, issue: Issue, holder: Holder, reached: list[str], task: Task | None, once: str) -> None:
        if reached:
            extra = {"once": once} if once else {}
            text = f"emailed {', '.join(reached)}"
            self._timeline.note(issue, "assignees_notified", text, task, holder=holder.key, **extra)


def _in_words(holder: Holder) -> str:
    """`role hr`, `team x`, a person's username, an outside party's address."""
    return f"{holder.kind} {holder.name}" if holder.is_group else holder.name


def _first_step_name(issue_type: IssueType, issue: Issue) -> str:
    step = customer_replies.first_step(issue_type, issue.fields)
    return step.name if step else issue_type.name


def _first_calendar_zone(issue_type: IssueType, issue: Issue) -> str:
    step = customer_replies.first_step(issue_type, issue.fields)
    return issue_type.calendar(step.calendar).timezone if step else ""
