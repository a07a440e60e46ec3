"""Running processes resume: an open issue whose execution is lost gets a new one, entered at its step.

The embedded stack keeps its DynamoDB, S3, SQS and Cognito state across a restart, but not its
Step Functions executions. The tasks say where each issue stands (`domain.resumption`), so
`resume_all` starts, for every open issue whose execution is not running, a new execution of the
same state machine entered at that step with the answers so far (decision 0039). The step's open
task is kept with its holder, claim and deadlines: the new execution's `open` message finds it
and answers with its timers counted from now, so a checkpoint that fell due meanwhile is reached
at once, and once (the task records it under optimistic locking; the SLA sweep then finds it
reached). The new execution's waits hand the task their tokens, so a completion goes to it.
The versions' state machines must exist: a restarted embedded stack creates them again first
(`IssueTypeService.republish_versions`).

Each resumption is one conditional change of the issue's execution (a second resumer loses the
race and starts nothing), then a start under a new name (`<run's name>-r<n>`), then a
`workflow_resumed` event on the timeline.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from chalicelib.domain import resumption as rules
from chalicelib.domain.issue_search import HIGHEST, LOWEST, TYPE, Narrowing, Source
from chalicelib.domain.issues import OPEN, Issue, TimelineEvent, TransitionRefused
from chalicelib.domain.tasks import Task
from chalicelib.services.clock import Clock, utc_now
from chalicelib.services.issue_types import IssueTypeService, LoadedType
from chalicelib.services.ports import IssueRepository, IssueSearchIndex, TaskRepository, WorkflowEngine
from chalicelib.services.workflow.lookups import customer_of
from chalicelib.workflows.compiler import execution_input

log = logging.getLogger(__name__)

RUNNING = "RUNNING"
#: Issues read per page of a type's open issues.
_PAGE = 100
#: Who did it, on the timeline.
CASEFLOW = "caseflow"


@dataclass(frozen=True)
class ResumeReport:
    """What `resume_all` found and did: issues given a new execution, the open issues' open tasks
    (kept as they were), open issues whose execution was still running, and issues it could not resume (logged; the
    next call tries them again)."""

    resumed: int = 0
    open_tasks: int = 0
    running: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"resumed": self.resumed, "open_tasks": self.open_tasks, "running": self.running, "failed": self.failed}


@dataclass(frozen=True)
class Started:
    """A new execution of an issue's process: the issue as stored with it, and where it entered."""

    issue: Issue
    entry: rules.Entry
    tasks: list[Task]


class Resumption:
    def __init__(
        self,
        *,
        issues: IssueRepository,
        tasks: TaskRepository,
        issue_types: IssueTypeService,
        engine: WorkflowEngine,
        index: IssueSearchIndex,
        clock: Clock = utc_now,
    ):
        self._issues = issues
        self._tasks = tasks
        self._types = issue_types
        self._engine = engine
        self._index = index
        self._clock = clock

    def resume_all(self) -> ResumeReport:
        """Give every open issue whose execution is not running a new one, at its step. Safe to
        call again: a running execution is left alone."""
        resumed = open_tasks = running = failed = 0
        for issue_id in self.open_issue_ids():
            issue = self._issues.get(issue_id)
            if issue is None or issue.status != OPEN:
                continue
            try:
                if issue.execution_arn and self._engine.status(issue.execution_arn) == RUNNING:
                    running += 1
                    open_tasks += sum(1 for t in self._tasks.for_issue(issue.id) if rules.is_waiting(t))
                    continue
                started = self.resume(issue)
            except Exception:
                log.exception("could not resume the workflow of issue %s", issue_id)
                failed += 1
                continue
            if started is not None:
                resumed += 1
                open_tasks += sum(1 for t in started.tasks if rules.is_waiting(t))
        return ResumeReport(resumed, open_tasks, running, failed)

    def open_issue_ids(self) -> list[str]:
        """Every open issue's id, type by type, read from the opened-issues index page by page."""
        found: list[str] = []
        for issue_type in self._types.list_current():
            until = HIGHEST
            while True:
                page = self._index.entries(Source(TYPE, issue_type.id), LOWEST, until, _PAGE, Narrowing(status=OPEN))
                found += [issue_id for _, issue_id in page.found]
                if not page.more:
                    break
                until = page.more
        return list(dict.fromkeys(found))

    def resume(self, issue: Issue) -> Started | None:
        """A new execution of the issue's process at its step, recorded as `workflow_resumed`; None
        when another resumer replaced the execution first."""
        loaded = self._types.version(issue.type_id, issue.type_version)
        tasks = self._tasks.for_issue(issue.id)
        entry = rules.entry_point(loaded.issue_type, issue.current_step, tasks)
        name = rules.resumed_execution_name(issue.execution_name, issue.execution_arn)
        started = self.start_at(issue, loaded, entry, tasks, name, lambda current: current)
        if started is None:
            return None
        where = entry.step or "the start"
        self._issues.add_event(
            started.issue,
            TimelineEvent(
                self._clock(),
                "workflow_resumed",
                f"the process resumed at {where}",
                actor=CASEFLOW,
                data={"step": entry.step, "branches": _branches(entry), "execution": started.issue.execution_arn},
            ),
        )
        return started

    def start_at(
        self,
        issue: Issue,
        loaded: LoadedType,
        entry: rules.Entry,
        tasks: list[Task],
        name: str,
        transition: Callable[[Issue], Issue],
        prepare: Callable[[], None] | None = None,
    ) -> Started | None:
        """Store the issue as `transition` leaves it with the execution named `name` on `loaded`'s
        state machine, only if its execution is still the one read (else None: someone else moved
        it meanwhile), run `prepare`, then start that execution entered at `entry` with the answers
        so far."""
        arn = self._engine.execution_arn(loaded.published.state_machine_arn, name)
        expected = issue.execution_arn

        def replace_execution(current: Issue) -> Issue:
            if current.execution_arn != expected or current.status != OPEN:
                raise TransitionRefused(f"issue {current.reference} moved on meanwhile")
            return transition(current).with_execution(arn)

        try:
            stored = self._issues.change(issue, replace_execution)
        except TransitionRefused:
            return None
        if prepare is not None:
            prepare()
        customer = customer_of(self._issues, stored)
        payload = execution_input(
            loaded.issue_type,
            issue_id=stored.id,
            version=stored.type_version,
            fields=stored.fields,
            segment=customer.segment,
            answers=rules.answers(tasks),
            resume_at=entry.step,
            branches=entry.branches,
        )
        self._engine.start(loaded.published.state_machine_arn, name, payload)
        return Started(stored, entry, tasks)


def _branches(entry: rules.Entry) -> dict[str, str]:
    return {str(index + 1): step for index, step in entry.branches.items()}
