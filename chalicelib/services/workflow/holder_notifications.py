"""Emails to the holders of a task: a new task, a reminder, an escalation to them or about them.

A group (role or team) is emailed member by member, a person at their address in the directory,
an outside party at their own address, with the signed link to answer when the task is theirs.
Who was reached goes on the timeline.
"""

from __future__ import annotations

from chalicelib.domain.assignees import EMAIL, Holder
from chalicelib.domain.issues import Issue
from chalicelib.domain.tasks import Task
from chalicelib.services.notifications import NotificationService
from chalicelib.services.workflow.task_links import LINK_LIFETIME, TaskLinks
from chalicelib.services.workflow.task_timeline import TaskTimeline


class HolderNotifications:
    def __init__(self, notifications: NotificationService, timeline: TaskTimeline, links: TaskLinks):
        self._notifications = notifications
        self._timeline = timeline
        self._links = links

    def notify(self, issue: Issue, task: Task, holder: Holder, subject: str, with_link: bool = True) -> None:
        """Email `holder` about `task`; an outside party holding it gets the link to answer, unless
        `with_link` is False (they are told of an escalation, not asked)."""
        body = (
            f"{subject}\n\nIssue {issue.reference} ({issue.type_id}), step {task.step_name}.\n"
            f"Held by: {task.assigned_to.describe()}\nDue: {task.due_at:%Y-%m-%d %H:%M} UTC\nTask id: {task.id}\n"
        )
        if holder.kind == EMAIL and with_link and task.holder == holder.key:
            body += f"\nAnswer here (the link works once and expires in {LINK_LIFETIME.days} days):\n"
            body += f"{self._links.link_for(task)}\n"
        if holder.is_group:
            reached = self._notifications.notify_role(issue, holder.name, subject, body)
        else:
            address = holder.name if holder.kind == EMAIL else self._notifications.user_email(holder.name)
            reached = self._notifications.notify_addresses(issue, [address] if address else [], subject, body)
        if reached:
            self._timeline.note(issue, "assignees_notified", f"emailed {', '.join(reached)}", task, holder=holder.key)
