"""The issue as the agents' workspace shows it (`/desk/issues/{reference}`): what the API's issue
details give, its fields in the type's labels, and beside it each open task as its holder sees it
with what this agent may do with it, where the process stands, the types it may move to (the
classifier's suggestions first), and whether it may be reopened. One read for the whole page, so
the page handler stays a template.
"""

from __future__ import annotations

import re
from typing import Any

from chalicelib.domain import claims as rules
from chalicelib.domain.agents import Agent
from chalicelib.domain.errors import NotFound
from chalicelib.domain.issues import RESOLVED
from chalicelib.domain.process_progress import progress
from chalicelib.domain.tasks import OPEN, parse_task_id
from chalicelib.services.access import IssueAccess
from chalicelib.services.issue_details import IssueDetailsService
from chalicelib.services.issue_types import IssueTypeService
from chalicelib.services.ports import IssueRepository, ObjectStore, TaskRepository
from chalicelib.services.replies import ATTACHMENT_LINK_SECONDS
from chalicelib.services.workflow.lookups import issue_type_of
from chalicelib.services.workflow.task_views import holder_view, issue_facts

_TASK_ID = re.compile(r"[0-9A-Za-z]{1,40}-[a-z][a-z0-9_]{0,40}")


class IssueWorkspace:
    def __init__(
        self,
        issues: IssueRepository,
        tasks: TaskRepository,
        issue_types: IssueTypeService,
        access: IssueAccess,
        details: IssueDetailsService,
        store: ObjectStore,
    ):
        #: Signs each attachment's short-lived download link (no request: a presigned URL).
        self._store = store
        self._issues = issues
        self._tasks = tasks
        self._types = issue_types
        self._access = access
        self._details = details

    def page(self, reference: str, agent: Agent) -> dict[str, Any]:
        """Everything the issue page shows this agent; NotFound for an issue they may not see."""
        details = self._details.by_reference(reference, agent)
        issue = self._issues.get(details["id"])
        if issue is None:
            raise NotFound(f"no issue {reference}")
        issue_type = issue_type_of(self._types, issue)
        tasks = self._tasks.for_issue(issue.id)
        open_tasks = [t for t in tasks if t.status == OPEN]
        ladders = rules.escalations(self._types.list_current()) if open_tasks else {}
        shown_tasks = []
        for task in open_tasks:
            step = issue_type.step(task.step)
            allowed = rules.actions(agent, task, step, rules.lead_keys(task, step, ladders))
            view = holder_view(issue, issue_type, task, tasks, agent.time_zone)
            shown_tasks.append({**view, "actions": sorted(allowed)})
        return {
            "issue": details,
            "facts": issue_facts(issue, issue_type)["fields"],
            "attachments": self._attachments(details["timeline"]),
            "open_tasks": shown_tasks,
            "progress": progress(issue_type, tasks),
            "types": self._types_to_choose(details),
            "may_reopen": issue.status == RESOLVED,
        }

    def _attachments(self, timeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Every file on the timeline (an email's or a status-page upload), with a download link
        that lasts as long as the API's (`ReplyService.attachment_link`)."""
        found = []
        for entry in timeline:
            data = entry.get("data") or {}
            for attachment in [*(data.get("email") or {}).get("attachments", []), *data.get("attachments", [])]:
                if isinstance(attachment, dict) and attachment.get("key") and attachment.get("name"):
                    url = self._store.download_link(attachment["key"], attachment["name"], ATTACHMENT_LINK_SECONDS)
                    found.append({**attachment, "url": url})
        return found

    def issue_id(self, reference: str, agent: Agent) -> str:
        """The id of the issue a reference names, if the agent may see it; NotFound otherwise."""
        agent.require_any_role()
        issue_id = self._issues.issue_id_by_reference(reference.strip().upper())
        issue = self._issues.get(issue_id) if issue_id else None
        if issue is None or not self._access.visible(agent, issue):
            raise NotFound(f"no issue {reference}")
        return issue.id

    def reference_of_task(self, task_id: str, agent: Agent) -> str:
        """The reference of a task's issue, for the task link of an email; NotFound for a task the
        agent may not see, as for no task at all."""
        agent.require_any_role()
        if not _TASK_ID.fullmatch(task_id):
            raise NotFound(f"no task {task_id}")
        issue_id, _ = parse_task_id(task_id)
        return self._access.require_visible(agent, issue_id).reference

    def _types_to_choose(self, details: dict[str, Any]) -> list[dict[str, Any]]:
        """The public types an agent may move the issue to: the classifier's suggestions first, with
        their confidence, then the others by name."""
        suggested = {
            s["type"]: s.get("confidence")
            for s in (details.get("classification") or {}).get("suggestions", [])
            if isinstance(s, dict) and s.get("type")
        }
        public = [t for t in self._types.list_current() if t.public]
        choices = [
            {"id": t.id, "name": t.name, "confidence": suggested.get(t.id), "current": t.id == details["type"]}
            for t in public
        ]
        order = list(suggested)
        return sorted(choices, key=lambda c: (order.index(c["id"]) if c["id"] in order else len(order), c["name"]))
