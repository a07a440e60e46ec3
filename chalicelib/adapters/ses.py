"""Outbound email through SES."""

from __future__ import annotations

from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

import boto3

from chalicelib.services.ports import UnsendableEmail

#: Python folds a long In-Reply-To or References line into RFC 2047 encoded words, which no mail
#: program reads as Message-IDs: threading would break. SMTP allows lines of 998 characters.
UNFOLDED = policy.default.clone(max_line_length=998)


def build_message(sender: str, to: list[str], subject: str, body: str, headers: dict[str, str]) -> EmailMessage:
    message = EmailMessage(policy=UNFOLDED)
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    extra = dict(headers)
    message["Message-ID"] = extra.pop("Message-ID", None) or make_msgid(domain=sender.rpartition("@")[2] or None)
    for name, value in extra.items():
        message[name] = value
    message.set_content(body)
    return message


class SesMailer:
    def __init__(self, sender: str, client: Any = None):
        self._client = client or boto3.client("ses")
        self.sender = sender

    def send(self, to: list[str], subject: str, body: str, headers: dict[str, str] | None = None) -> EmailMessage:
        try:
            message = build_message(self.sender, to, subject, body, headers or {})
            data = message.as_bytes()
        except (ValueError, TypeError, UnicodeError) as exc:  # the email package's refusals
            raise UnsendableEmail(f"the email could not be built: {exc}") from exc
        self._client.send_raw_email(Source=self.sender, Destinations=to, RawMessage={"Data": data})
        return message
