"""Does locally what SES inbound does: accepts mail for the support address over SMTP, stores the
raw message in (moto) S3 under the receipt rule's prefix, and invokes the inbound handler with the
event SES's Lambda action sends.

Like SES, it refuses mail for other addresses at RCPT time and messages over 40 MB at DATA time.
Like Lambda's asynchronous invocation, it retries a failed handler twice and then puts the event
on the dead-letter queue, so a message is never lost.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email import policy
from email.parser import BytesHeaderParser
from typing import Any

import boto3
from aiosmtpd.controller import Controller

from chalicelib.local import events
from chalicelib.local.events import LambdaContext
from chalicelib.mail.threading import SupportAddress
from chalicelib.settings import INBOUND_MAIL_PREFIX

log = logging.getLogger("caseflow.smtp")
#: SES receives messages up to 40 MB (with headers), the limit of its S3 action.
MAX_MESSAGE_BYTES = 40 * 1024 * 1024
#: Lambda retries a failed asynchronous invocation twice.
ATTEMPTS = 3
RETRY_DELAY_SECONDS = 1.0
#: Verdicts of the local relay: it scans nothing and checks no SPF/DKIM/DMARC ("GRAY" = not checked).
LOCAL_VERDICTS = {"spam": "PASS", "virus": "PASS", "spf": "GRAY", "dkim": "GRAY", "dmarc": "GRAY"}
#: The function the receipt rule invokes (`chalicelib.events.inbound_email`).
INBOUND_FUNCTION = "on_inbound_email"
Handler = Callable[[dict[str, Any], Any], Any]


def new_ses_message_id() -> str:
    """An id shaped like SES's: lower-case letters and digits."""
    return "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(40))


def ses_event(ses_id: str, raw: bytes, envelope_from: str, recipients: list[str], at: datetime) -> dict[str, Any]:
    """The event SES's Lambda action sends for a message the relay received (the content stays in S3)."""
    try:
        parsed = BytesHeaderParser(policy=policy.compat32).parsebytes(raw)
        headers = [{"name": name, "value": str(value)} for name, value in parsed.items()]
        common = {
            "from": [str(parsed.get("From", ""))],
            "to": [str(parsed.get("To", ""))],
            "subject": str(parsed.get("Subject", "")),
            "messageId": str(parsed.get("Message-ID", "")),
            "date": str(parsed.get("Date", "")),
        }
    except Exception:  # the handler reads the message itself; the event's copy of headers is a courtesy
        headers, common = [], {}
    region = _s3().meta.region_name
    return events.ses_event(
        ses_id, recipients, envelope_from, at, headers, common, LOCAL_VERDICTS, INBOUND_FUNCTION, region
    )


@functools.lru_cache(maxsize=1)
def _s3() -> Any:
    return boto3.client("s3")


def receive(
    raw: bytes, bucket: str, recipients: list[str], envelope_from: str, ses_id: str | None = None
) -> dict[str, Any]:
    """Do SES's part of receiving a message: store it in S3, return the event for the handler."""
    ses_id = ses_id or new_ses_message_id()
    _s3().put_object(Bucket=bucket, Key=f"{INBOUND_MAIL_PREFIX}{ses_id}", Body=raw)
    return ses_event(ses_id, raw, envelope_from, [address.lower() for address in recipients], datetime.now(UTC))


class InboundMailRelay:
    def __init__(
        self,
        port: int,
        support: SupportAddress,
        bucket: str,
        handler: Handler,
        dead_letter_queue_url: str,
        host: str = "127.0.0.1",
    ):
        self._support = support
        self._bucket = bucket
        self._handler = handler
        self._dead_letter_queue_url = dead_letter_queue_url
        self._sqs = boto3.client("sqs")
        self._region = self._sqs.meta.region_name
        self._invocations = ThreadPoolExecutor(max_workers=4, thread_name_prefix="inbound-mail")
        self._controller = Controller(self, hostname=host, port=port, data_size_limit=MAX_MESSAGE_BYTES)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()
        self._invocations.shutdown(wait=True)

    # aiosmtpd hooks

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:  # noqa: N802
        if not self._support.is_ours(address):
            return f"550 5.1.1 <{address}>: no such mailbox here; write to {self._support.address}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        raw = envelope.original_content or envelope.content
        event = await asyncio.get_running_loop().run_in_executor(
            None, receive, raw, self._bucket, envelope.rcpt_tos, envelope.mail_from or ""
        )
        self._invocations.submit(self._invoke, event)
        return f"250 2.0.0 Ok: queued as {event['Records'][0]['ses']['mail']['messageId']}"

    def _invoke(self, event: dict[str, Any]) -> None:
        ses_id = event["Records"][0]["ses"]["mail"]["messageId"]
        for attempt in range(1, ATTEMPTS + 1):
            try:
                self._handler(event, LambdaContext(INBOUND_FUNCTION, self._region))
                return
            except Exception:
                log.exception("inbound message %s failed (attempt %d of %d)", ses_id, attempt, ATTEMPTS)
                time.sleep(RETRY_DELAY_SECONDS * attempt)
        self._sqs.send_message(QueueUrl=self._dead_letter_queue_url, MessageBody=json.dumps(event))
        log.error("inbound message %s is in the dead-letter queue", ses_id)
