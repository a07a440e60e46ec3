"""The SES receipt rule's Lambda action: each received message, stored in S3 first, filed by the service.

A message that cannot be filed for a passing reason raises: Lambda retries the asynchronous
invocation, then keeps the event in the function's dead-letter queue.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalice import Blueprint

from chalicelib.bootstrap import services
from chalicelib.observability import logger
from chalicelib.services.inbound_email import InboundNotice

inbound_email = Blueprint(__name__)


def notice_from_ses_record(record: dict[str, Any], prefix: str) -> InboundNotice:
    """The parts of an SES receipt event record that Caseflow reads; the receipt rule stored the
    message in the mail bucket under `<prefix><SES message id>`."""
    mail, receipt = record["ses"]["mail"], record["ses"]["receipt"]
    verdicts = {
        name: str((receipt.get(f"{name}Verdict") or {}).get("status", ""))
        for name in ("spam", "virus", "spf", "dkim", "dmarc")
    }
    return InboundNotice(
        ses_id=mail["messageId"],
        raw_key=f"{prefix}{mail['messageId']}",
        recipients=tuple(a.lower() for a in receipt.get("recipients") or mail.get("destination") or ()),
        received_at=_moment(receipt.get("timestamp") or mail.get("timestamp")),
        verdicts=verdicts,
    )


def _moment(raw: str | None) -> datetime:
    if not raw:
        return datetime.now(UTC)
    return datetime.fromisoformat(raw.replace("Z", "+00:00"))


@inbound_email.lambda_function(name="on_inbound_email")
def on_inbound_email(event: dict[str, Any], context: Any) -> dict[str, Any]:
    results = []
    for record in event.get("Records", []):
        notice = notice_from_ses_record(record, services().config.inbound_mail_prefix)
        received = services().inbound_email.receive(notice)
        logger.info("inbound email", extra={"ses_id": notice.ses_id, "raw_key": notice.raw_key, **received.as_dict()})
        results.append(received.as_dict())
    return {"results": results}
