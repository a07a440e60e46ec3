"""A task rule applied under the repository's optimistic locking, with what it changed."""

from __future__ import annotations

from collections.abc import Callable

from chalicelib.domain import tasks as rules
from chalicelib.domain.tasks import Task
from chalicelib.services.ports import TaskRepository

Decide = Callable[[Task | None], rules.Change]


def change(tasks: TaskRepository, issue_id: str, step_id: str, decide: Decide) -> rules.Change:
    """Apply `decide` to the stored task until a write wins; return that attempt's decision: the
    task as stored now, and what it changed (opened, reached, unchanged...)."""
    attempt = _Attempt(decide)
    tasks.change(issue_id, step_id, attempt)
    if attempt.decided is None:
        raise AssertionError("the task repository never asked for a decision")
    return attempt.decided


class _Attempt:
    """The repository calls this once per attempt (again after a lost race); the last one won."""

    def __init__(self, decide: Decide):
        self._decide = decide
        self.decided: rules.Change | None = None

    def __call__(self, current: Task | None) -> Task:
        self.decided = self._decide(current)
        return self.decided.task
