"""Moving running issues to a new version of their type, at the step they stand on.

A running issue stays on the version it started with (ARCHITECTURE section 4) unless an admin
moves it: each chosen issue whose step (and, in a parallel step, each branch's step) exists in
the new version under the same id moves there, exactly once (decision 0039). The move is one
conditional change of the issue (its version and its execution, only while it is open on the old
version: a retried request finds it moved and moves nothing), then the old execution is stopped
and the new version's started at that step with the answers so far; its open task keeps its
holder and, when the step's checkpoints are the same, its deadlines (else they are computed
again on the new definition from when the task opened). The timeline records `migrated`.
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain import deadlines
from chalicelib.domain import resumption as rules
from chalicelib.domain import tasks as task_rules
from chalicelib.domain.agents import ADMIN_ROLE, Agent
from chalicelib.domain.errors import FieldError, NotFound, ValidationFailed
from chalicelib.domain.issue_types import IssueType
from chalicelib.domain.issues import Issue, TimelineEvent, TransitionRefused
from chalicelib.domain.tasks import Task
from chalicelib.services.clock import Clock, utc_now
from chalicelib.services.issue_types import IssueTypeService, LoadedType
from chalicelib.services.ports import IssueRepository, TaskRepository, WorkflowEngine
from chalicelib.services.workflow.lookups import customer_of
from chalicelib.services.workflow.resumption import Resumption
from chalicelib.services.workflow.task_changes import change

#: How many issues one request may name.
MAX_ISSUES = 500
#: What a move did to a task whose step's checkpoints changed.
RESCHEDULED = "rescheduled"


class Migrations:
    def __init__(
        self,
        *,
        issues: IssueRepository,
        tasks: TaskRepository,
        issue_types: IssueTypeService,
        engine: WorkflowEngine,
        resumption: Resumption,
        clock: Clock = utc_now,
    ):
        self._issues = issues
        self._tasks = tasks
        self._types = issue_types
        self._engine = engine
        self._resumption = resumption
        self._clock = clock

    def migrate(self, type_id: str, request: Any, agent: Agent) -> dict[str, Any]:
        """`{"from_version", "to_version", "issues"?}`: move the named running issues (all of the
        type's open issues on `from_version` when `issues` is omitted) to `to_version`. Returns
        `{"moved": [{issue_id, step}], "refused": [{issue_id, reason}]}`."""
        agent.require_role(ADMIN_ROLE)
        from_version, to_version, chosen = _parsed(request)
        old = self._types.version(type_id, from_version)
        new = self._types.version(type_id, to_version)
        issue_ids = chosen if chosen is not None else self._running_on(type_id, from_version)
        moved: list[dict[str, str]] = []
        refused: list[dict[str, str]] = []
        for issue_id in issue_ids:
            outcome = self._move(type_id, issue_id, old, new, agent)
            if isinstance(outcome, str):
                refused.append({"issue_id": issue_id, "reason": outcome})
            else:
                moved.append({"issue_id": issue_id, "step": outcome.entry.step})
        return {
            "type": type_id,
            "from_version": from_version,
            "to_version": to_version,
            "moved": moved,
            "refused": refused,
        }

    def _running_on(self, type_id: str, version: int) -> list[str]:
        found = self._issues.get_many(self._resumption.open_issue_ids())
        return [i.id for i in found.values() if i.type_id == type_id and i.type_version == version]

    def _move(self, type_id: str, issue_id: str, old: LoadedType, new: LoadedType, agent: Agent) -> Any:
        """The move of one issue (`Started`), or why it does not move."""
        issue = self._issues.get(issue_id)
        if issue is None or issue.type_id != type_id:
            return f"no issue {issue_id} of type {type_id}"
        from_version, to_version = old.published.version, new.published.version
        try:
            rules.on_version(issue, from_version, to_version)
        except TransitionRefused as refusal:
            return str(refusal)
        tasks = self._tasks.for_issue(issue.id)
        if reason := rules.migration_refusal(old.issue_type, new.issue_type, issue.current_step, tasks):
            return reason
        entry = rules.entry_point(old.issue_type, issue.current_step, tasks)
        name = rules.resumed_execution_name(issue.execution_name, issue.execution_arn)
        previous = issue.execution_arn

        def prepare() -> None:
            """Once the issue is on the new version: the old execution stops, the tasks follow."""
            self._engine.stop(previous, f"moved to version {to_version} by {agent.username}")
            self._reschedule(issue, old.issue_type, new.issue_type, tasks)

        started = self._resumption.start_at(
            issue,
            new,
            entry,
            tasks,
            name,
            lambda current: rules.on_version(current, from_version, to_version),
            prepare=prepare,
        )
        if started is None:
            return f"issue {issue.reference} changed meanwhile; it was not moved"
        text = f"{agent.username} moved the issue from version {from_version} to {to_version} at {entry.step}"
        data = {"from": from_version, "to": to_version, "step": entry.step, "execution": started.issue.execution_arn}
        self._issues.add_event(started.issue, TimelineEvent(self._clock(), "migrated", text, agent.username, data))
        return started

    def _reschedule(self, issue: Issue, old: IssueType, new: IssueType, tasks: list[Task]) -> None:
        """Put the open tasks on the new version's definitions of their steps: where a step's
        checkpoints changed, computed again from when the task opened (the holder stays)."""
        for task in tasks:
            new_step = _step(new, task.step)
            if (
                not rules.is_waiting(task)
                or new_step is None
                or not rules.schedule_changed(old.step(task.step), new_step)
            ):
                continue
            segment = customer_of(self._issues, issue).segment
            opened_at = task.opened_at or self._clock()
            moments = deadlines.checkpoint_moments(new_step, new.calendar(new_step.calendar), opened_at, segment)
            due_at = deadlines.deadline_moment(new_step, moments) or opened_at
            moves_on = deadlines.ends_by_moving_on(new_step)

            def decide(
                current: Task | None, m: list[Any] = moments, d: Any = due_at, o: bool = moves_on, t: str = task.id
            ) -> Any:
                if current is None:
                    raise NotFound(f"no task {t}")
                return task_rules.Change(rules.rescheduled(current, tuple(m), d, o), RESCHEDULED)

            change(self._tasks, issue.id, task.step, decide)


def _step(issue_type: IssueType, step_id: str) -> Any:
    try:
        return issue_type.step(step_id)
    except KeyError:
        return None


def _parsed(request: Any) -> tuple[int, int, list[str] | None]:
    """The request's versions and issue ids; ValidationFailed names every field that is wrong."""
    if not isinstance(request, dict):
        raise ValidationFailed([FieldError("body", "must be a JSON object with from_version and to_version")])
    errors = [FieldError(str(k), "unknown key") for k in request if k not in ("from_version", "to_version", "issues")]
    versions = []
    for name in ("from_version", "to_version"):
        value = request.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            errors.append(FieldError(name, "is required: a version number (1 or more)"))
        versions.append(value)
    if not errors and versions[0] == versions[1]:
        errors.append(FieldError("to_version", "must differ from from_version"))
    chosen = request.get("issues")
    if chosen is not None and (
        not isinstance(chosen, list)
        or not 0 < len(chosen) <= MAX_ISSUES
        or not all(isinstance(i, str) and 0 < len(i) <= 64 for i in chosen)
    ):
        errors.append(FieldError("issues", f"must be a list of 1 to {MAX_ISSUES} issue ids (omit it for all)"))
    if errors:
        raise ValidationFailed(errors)
    return versions[0], versions[1], list(dict.fromkeys(chosen)) if chosen is not None else None
