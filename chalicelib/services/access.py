"""Who may see an issue, for every route that names one (decision 0025).

The rule is `domain.access`; this service reads what it needs: the issue, the version of its type
the issue runs on (cached by `IssueTypeService`), and, only when the type's process does not name
the agent, the holders of the issue's tasks (current and archived runs: two key-bounded Queries).
An issue the agent may not see is NotFound, as if it did not exist, so that nobody can learn from
a 403 that a reference is taken.
"""

from __future__ import annotations

from chalicelib.domain.access import may_see, named_holders
from chalicelib.domain.agents import Agent
from chalicelib.domain.errors import NotFound
from chalicelib.domain.issues import Issue
from chalicelib.services.classification import TRIAGE_TYPE
from chalicelib.services.issue_types import IssueTypeService
from chalicelib.services.ports import IssueRepository, TaskRepository


class IssueAccess:
    """Whether an agent may see (and so act on) an issue."""

    def __init__(self, issues: IssueRepository, tasks: TaskRepository, issue_types: IssueTypeService):
        self._issues = issues
        self._tasks = tasks
        self._types = issue_types
        self._named: dict[tuple[str, int], frozenset[str]] = {}

    def visible(self, agent: Agent, issue: Issue) -> bool:
        """Whether the issue is one `agent` may see: named by its process, held by them, or open to all
        of their role."""
        named = self._named_by(issue)
        triage = issue.type_id == TRIAGE_TYPE
        if may_see(agent, named, (), triage=triage):
            return True
        return may_see(agent, named, self._tasks.holders(issue.id), triage=triage)

    def require_visible(self, agent: Agent, issue_id: str) -> Issue:
        """The issue, if `agent` may see it; NotFound if it does not exist or they may not."""
        issue = self._issues.get(issue_id)
        if issue is None or not self.visible(agent, issue):
            raise NotFound(f"no issue {issue_id}")
        return issue

    def _named_by(self, issue: Issue) -> frozenset[str]:
        key = (issue.type_id, issue.type_version)
        if key not in self._named:
            self._named[key] = named_holders(self._types.version(*key).issue_type)
        return self._named[key]
