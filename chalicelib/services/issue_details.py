"""What an agent sees of an issue: its fields, customer, timeline, tasks and the customer's history."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.agents import Agent
from chalicelib.domain.errors import NotFound
from chalicelib.domain.issues import Issue
from chalicelib.services.access import IssueAccess
from chalicelib.services.issue_types import IssueTypeService
from chalicelib.services.ports import IssueRepository, TaskRepository
from chalicelib.services.workflow.task_views import history_entry, task_view, timeline_entry


class IssueDetailsService:
    def __init__(
        self, issues: IssueRepository, tasks: TaskRepository, issue_types: IssueTypeService, access: IssueAccess
    ):
        self._issues = issues
        self._tasks = tasks
        self._types = issue_types
        self._access = access

    def by_reference(self, reference: str, agent: Agent) -> dict[str, Any]:
        """The issue a customer names by its reference (on the phone, in a letter)."""
        agent.require_any_role()
        issue_id = self._issues.issue_id_by_reference(reference.strip().upper())
        issue = self._issues.get(issue_id) if issue_id else None
        if issue is None or not self._access.visible(agent, issue):
            raise NotFound(f"no issue {reference}")
        return self._details(issue, agent)

    def for_agent(self, issue_id: str, agent: Agent) -> dict[str, Any]:
        """The issue as an agent who may see it sees it; NotFound for anyone else (decision 0025)."""
        agent.require_any_role()
        return self._details(self._access.require_visible(agent, issue_id), agent)

    def _details(self, issue: Issue, agent: Agent) -> dict[str, Any]:
        issue_type = self._types.version(issue.type_id, issue.type_version).issue_type
        customer = self._issues.customer(issue.customer_id)
        current = next((s for s in issue_type.all_steps() if s.id == issue.current_step), None)
        return {
            "id": issue.id,
            "reference": issue.reference,
            "type": issue.type_id,
            "type_name": issue_type.name,
            "type_version": issue.type_version,
            "status": issue.status,
            "priority": issue.priority,
            "channel": issue.channel,
            "created_at": issue.created_at.isoformat(),
            "resolved_at": issue.resolved_at.isoformat() if issue.resolved_at else None,
            "current_step": {"id": current.id, "name": current.name} if current else None,
            "classification": issue.classification,
            "customer_segment": customer.segment if customer else None,
            "fields": issue.fields,
            "field_labels": {f.id: f.label for f in issue_type.fields},
            "customer": {"id": customer.id, "email": customer.email, "name": customer.name} if customer else None,
            "timeline": [timeline_entry(e) for e in self._issues.timeline(issue.id)],
            "tasks": [task_view(t) for t in self._tasks.for_issue(issue.id)],
            "customer_history": self._customer_history(issue, agent),
        }

    def _customer_history(self, issue: Issue, agent: Agent) -> list[dict[str, Any]]:
        """The customer's events on their other issues, those the agent may see only: an issue
        they may not see is left out whole, its existence included (decision 0025)."""
        history = [e for e in self._issues.customer_history(issue.customer_id) if e["issue_id"] != issue.id]
        others = self._issues.get_many(e["issue_id"] for e in history)
        visible = {other_id: self._access.visible(agent, other) for other_id, other in others.items()}
        return [
            {**history_entry(e), "reference": others[e["issue_id"]].reference}
            for e in history
            if visible.get(e["issue_id"], False)
        ]
