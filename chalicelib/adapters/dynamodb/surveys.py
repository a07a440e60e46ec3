"""Survey answers and recovery links in the single table, under the issue they are about."""

from __future__ import annotations

from pynamodb.exceptions import PutError

from chalicelib.adapters.dynamodb.access import get_or_none, issue_pk
from chalicelib.adapters.dynamodb.models import RecoveryLinkItem, SurveyAnswerItem
from chalicelib.services.records import SurveyAnswer


class SurveyRepository:
    def answer(self, issue_id: str, question: str) -> SurveyAnswer | None:
        item = get_or_none(SurveyAnswerItem, issue_pk(issue_id), f"SURVEY#{question}", consistent_read=True)
        if item is None:
            return None
        return SurveyAnswer(question, int(item.score), item.answered_at, item.first_answered_at, item.comment)

    def save(self, issue_id: str, answer: SurveyAnswer) -> None:
        SurveyAnswerItem(
            issue_pk(issue_id),
            f"SURVEY#{answer.question}",
            score=answer.score,
            answered_at=answer.answered_at,
            first_answered_at=answer.first_answered_at,
            comment=answer.comment,
        ).save()

    def recovery_issue(self, issue_id: str) -> str | None:
        item = get_or_none(RecoveryLinkItem, issue_pk(issue_id), "RECOVERY", consistent_read=True)
        return item.recovery_issue_id if item else None

    def claim_recovery(self, issue_id: str, recovery_issue_id: str) -> bool:
        try:
            RecoveryLinkItem(issue_pk(issue_id), "RECOVERY", recovery_issue_id=recovery_issue_id).save(
                condition=RecoveryLinkItem.pk.does_not_exist()
            )
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True
