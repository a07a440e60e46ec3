"""Outbound email through SES."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

import boto3


def build_message(sender: str, to: list[str], subject: str, body: str, headers: dict[str, str]) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    for name, value in headers.items():
        message[name] = value
    message.set_content(body)
    return message


class SesMailer:
    def __init__(self, sender: str, client: Any = None):
        self._client = client or boto3.client("ses")
        self.sender = sender

    def send(self, to: list[str], subject: str, body: str, headers: dict[str, str] | None = None) -> EmailMessage:
        message = build_message(self.sender, to, subject, body, headers or {})
        self._client.send_raw_email(Source=self.sender, Destinations=to, RawMessage={"Data": message.as_bytes()})
        return message
