"""Similar resolved issues for agents: the nearest resolved issues of the same type, with how each
was resolved (the steps' answers and the reply the customer got), so an agent reuses what worked
(decision 0043).

When an issue is resolved, the workflow's side calls `remember`: the customer's text is encoded
and the vector kept, quantised, under the issue's type. `for_agent` encodes the asked issue's text,
ranks the type's vectors, and shows the nearest that are still resolved, still of that type and
that the agent may see (decision 0025): an issue they may not see is neither the subject (NotFound)
nor listed.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from chalicelib.domain import similarity
from chalicelib.domain.agents import Agent
from chalicelib.domain.issue_search import HIGHEST, LOWEST, TYPE, Narrowing, Source
from chalicelib.domain.issues import RESOLVED, Issue
from chalicelib.services.access import IssueAccess
from chalicelib.services.issue_types import IssueTypeService
from chalicelib.services.notifications import NOT_A_RESPONSE
from chalicelib.services.ports import IssueRepository, IssueSearchIndex, SimilarVectors, TaskRepository, TextEncoder
from chalicelib.services.workflow.task_views import earlier_answers

logger = logging.getLogger(__name__)

#: Ranked candidates checked for the page, past which a short list is answered: those the agent
#: may not see, reopened or (after a reopening) retyped ones cost a read each.
CHECKED = 4 * similarity.NEIGHBOURS
#: Resolved issues encoded at once by the backfill (the encoder batches them).
BACKFILL_PAGE = 64
#: The reply shown, in characters.
REPLY_LENGTH = 2_000
_TEXT_TYPES = ("text", "long_text")
_CHOICE_TYPES = ("choice",)


class SimilarIssues:
    def __init__(
        self,
        issues: IssueRepository,
        tasks: TaskRepository,
        issue_types: IssueTypeService,
        access: IssueAccess,
        vectors: SimilarVectors,
        encoder: TextEncoder | None,
    ):
        self._issues = issues
        self._tasks = tasks
        self._types = issue_types
        self._access = access
        self._vectors = vectors
        self._encoder = encoder

    def remember(self, issue: Issue) -> bool:
        """Keep the resolved issue's vector under its type (again after a reopening: replaced).
        Never fails the resolution: a missing encoder or a failed write is logged, and the issue
        is only missing from others' neighbours (the backfill can add it)."""
        try:
            text = self.text_of(issue)
            if not text or self._encoder is None:
                return False
            [vector] = self._encoder.encode([text])
            self._vectors.put(issue.type_id, issue.id, similarity.quantise(vector))
            return True
        except Exception:
            logger.exception("could not keep the vector of resolved issue %s", issue.id)
            return False

    def backfill(self, index: IssueSearchIndex, type_ids: list[str]) -> int:
        """Keep the vectors of the types' resolved issues (those resolved before this existed, or
        whose write failed): each type's issues read newest first from the opened-issues index,
        resolved ones only, encoded a page at a time. Idempotent; returns how many were kept."""
        if self._encoder is None:
            return 0
        kept = 0
        for type_id in type_ids:
            until: str | None = HIGHEST
            while until is not None:
                page = index.entries(Source(TYPE, type_id), LOWEST, until, BACKFILL_PAGE, Narrowing(status=RESOLVED))
                found = [i for i in index.issues([issue_id for _, issue_id in page.found]) if i.status == RESOLVED]
                texts = {i.id: self.text_of(i) for i in found}
                wanted = [i for i in found if texts[i.id]]
                if wanted:
                    vectors = self._encoder.encode([texts[i.id] for i in wanted])
                    for issue, vector in zip(wanted, vectors, strict=True):
                        self._vectors.put(issue.type_id, issue.id, similarity.quantise(vector))
                    kept += len(wanted)
                until = page.more
        return kept

    def for_agent(self, issue_id: str, agent: Agent, limit: int = similarity.NEIGHBOURS) -> dict[str, Any]:
        """The issue's nearest resolved neighbours of its type that `agent` may see, nearest first."""
        agent.require_any_role()
        issue = self._access.require_visible(agent, issue_id)
        text = self.text_of(issue)
        found: list[dict[str, Any]] = []
        candidates = 0
        if text and self._encoder is not None:
            [vector] = self._encoder.encode([text])
            stored = self._vectors.candidates(issue.type_id)
            candidates = stored.distinct()
            ranked = similarity.rank(vector, stored, exclude={issue.id}, limit=CHECKED)
            found = self._shown(issue, agent, ranked, limit)
        return {
            "issue_id": issue.id,
            "reference": issue.reference,
            "type": issue.type_id,
            "candidates": candidates,
            "encoder_available": self._encoder is not None,
            "similar": found,
        }

    def text_of(self, issue: Issue) -> str:
        """The customer's text of the issue, as the encoder reads it."""
        issue_type = self._types.version(issue.type_id, issue.type_version).issue_type
        texts = [f.id for f in issue_type.fields if f.type in _TEXT_TYPES]
        choices = {f.id: {o.value: o.label for o in f.options} for f in issue_type.fields if f.type in _CHOICE_TYPES}
        return similarity.issue_text(issue.fields, texts, choices)

    def _shown(self, issue: Issue, agent: Agent, ranked: list[tuple[str, float]], limit: int) -> list[dict[str, Any]]:
        """The first `limit` of the ranked that are still resolved issues of the type and that the
        agent may see, read a page's worth at a time."""
        shown: list[dict[str, Any]] = []
        for start in range(0, len(ranked), limit):
            piece = ranked[start : start + limit]
            read = self._issues.get_many(i for i, _ in piece)
            for other_id, score in piece:
                other = read.get(other_id)
                if other is None or other.status != RESOLVED or other.type_id != issue.type_id:
                    continue
                if not self._access.visible(agent, other):
                    continue
                shown.append(self._resolution(other, score))
                if len(shown) == limit:
                    return shown
        return shown

    def _resolution(self, issue: Issue, score: float) -> dict[str, Any]:
        """How the neighbour was resolved: its steps' answers and the last reply the customer got."""
        issue_type = self._types.version(issue.type_id, issue.type_version).issue_type
        return {
            "id": issue.id,
            "reference": issue.reference,
            "similarity": round(score, 4),
            "resolved_at": _moment(issue.resolved_at),
            "summary": similarity.summary(self.text_of(issue)),
            "steps": earlier_answers(issue_type, self._tasks.for_issue(issue.id)),
            "reply": self._reply(issue),
        }

    def _reply(self, issue: Issue) -> dict[str, Any] | None:
        replies = [
            e
            for e in self._issues.timeline(issue.id)
            if e.kind == "email_sent" and e.data.get("message") not in NOT_A_RESPONSE
        ]
        if not replies:
            return None
        last = replies[-1]
        body = str(last.data.get("body", ""))
        return {
            "subject": last.text,
            "body": body[:REPLY_LENGTH],
            "sent_at": _moment(last.at),
            "by": last.actor or None,
        }


def _moment(at: datetime | None) -> str | None:
    return at.isoformat() if at else None
