"""An agent sets or corrects an issue's type: the issue moves to that type's process, and the
classifier learns from the decision.

Moving stops the running workflow, closes and archives its tasks, carries the issue's data over
(the fields the new type has, and the customer's own words in its free-text field) and starts the
new type's workflow as the issue's next run. The customer is not acknowledged again.
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain import kpi_events
from chalicelib.domain.agents import Agent
from chalicelib.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from chalicelib.domain.issues import RESOLVED, Issue, TimelineEvent
from chalicelib.services.access import IssueAccess
from chalicelib.services.classification import AUTO, ClassificationService
from chalicelib.services.clock import Clock, utc_now
from chalicelib.services.intake import IntakeService, carried_fields
from chalicelib.services.issue_types import IssueTypeService
from chalicelib.services.kpi_recorder import KpiRecorder
from chalicelib.services.ports import IssueRepository, WorkflowEngine
from chalicelib.services.workflow.stepping import Stepping


class IssueTypeChangeService:
    def __init__(
        self,
        issues: IssueRepository,
        issue_types: IssueTypeService,
        engine: WorkflowEngine,
        tasks: Stepping,
        intake: IntakeService,
        classifier: ClassificationService,
        access: IssueAccess,
        clock: Clock = utc_now,
        kpis: KpiRecorder | None = None,
    ):
        self._access = access
        self._issues = issues
        self._types = issue_types
        self._engine = engine
        self._tasks = tasks
        self._intake = intake
        self._classifier = classifier
        self._clock = clock
        self._kpis = kpis or KpiRecorder()

    def set_type(self, issue_id: str, type_id: Any, agent: Agent) -> dict[str, Any]:
        """Confirm or change the issue's type; a change moves a running issue to the new process."""
        agent.require_any_role()
        if not isinstance(type_id, str) or not type_id:
            raise ValidationFailed([FieldError("type", "is required")])
        issue = self._access.require_visible(agent, issue_id)
        try:
            target = self._types.current(type_id)
        except (NotFound, ValidationFailed):
            raise ValidationFailed([FieldError("type", f"no issue type {type_id!r}")]) from None
        if not target.issue_type.public:
            raise ValidationFailed([FieldError("type", f"{type_id} cannot be chosen for an issue")])
        if issue.status == RESOLVED and type_id != issue.type_id:
            raise Conflict("a resolved issue keeps its type")
        current = self._types.version(issue.type_id, issue.type_version).issue_type
        words_field = current.free_text_field
        words = str(issue.fields.get(words_field.id, "")) if words_field else ""
        predicted = (issue.classification or {}).get("label")
        learned = self._classifier.learn(issue.id, words, type_id, predicted) if words else None
        if type_id == issue.type_id:
            self._event(issue, "type_confirmed", f"{agent.username} confirmed the type {current.name}", agent)
            return {"issue_id": issue.id, "type": type_id, "moved": False, "learned": learned}

        if (issue.classification or {}).get("routed") == AUTO and predicted:
            self._kpis.record(
                kpi_events.type_corrected(issue.id, predicted, issue.channel, self._clock(), issue.created_at)
            )
        self._engine.stop(issue.execution_arn, f"the issue moved to {type_id} ({agent.username})")
        closed = self._tasks.retire(issue, f"the issue moved to {target.issue_type.name}")
        fields = carried_fields(target.issue_type, issue.fields, words, issue.fields.get("subject"), self._clock())
        text = f"{agent.username} changed the type from {current.name} to {target.issue_type.name}"
        data = {"previous": issue.type_id, "closed_steps": closed, "learned": learned}
        event = TimelineEvent(self._clock(), "type_changed", text, agent.username, data)
        moved = self._intake.move_to_next_run(
            issue, lambda current: current.change_type(type_id, target.published.version, fields, run=issue.run)
        )
        self._intake.start_run(moved, event)
        return {"issue_id": issue.id, "type": type_id, "moved": True, "learned": learned, "closed_steps": closed}

    def _event(self, issue: Issue, kind: str, text: str, agent: Agent, **data: Any) -> None:
        self._issues.add_event(issue, TimelineEvent(self._clock(), kind, text, agent.username, data))
