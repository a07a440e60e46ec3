"""The workflow's entries on an issue's timeline.

An entry about a task stores the task as it stood then (`TaskMoment`, under `data.task`) beside
the entry's own details; how agents see it is computed when the timeline is read (`task_views`).
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain.issues import Issue, TimelineEvent
from chalicelib.domain.task_moments import TaskMoment
from chalicelib.domain.tasks import Task
from chalicelib.services.clock import Clock, utc_now
from chalicelib.services.ports import IssueRepository

#: Who did it, on the timeline, when no person did.
CASEFLOW = "caseflow"


class TaskTimeline:
    def __init__(self, issues: IssueRepository, clock: Clock = utc_now):
        self._issues = issues
        self._clock = clock

    def note(
        self, issue: Issue, kind: str, text: str, task: Task | None = None, actor: str = CASEFLOW, **data: Any
    ) -> None:
        """Put an entry on the issue's timeline, with the task as it stands now if it is about one."""
        details = {**({"task": TaskMoment.of(task).as_data()} if task else {}), **data}
        self._issues.add_event(issue, TimelineEvent(self._clock(), kind, text, actor=actor, data=details))
