"""Outbound email through SES, and the local outbox that keeps a copy of every message."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
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


class OutboxMailer:
    """Sends through SES and also writes each message as an .eml file (local stage only)."""

    def __init__(self, mailer: SesMailer, directory: str):
        self._mailer = mailer
        self._directory = Path(directory)
        self._directory.mkdir(parents=True, exist_ok=True)

    def send(self, to: list[str], subject: str, body: str, headers: dict[str, str] | None = None) -> EmailMessage:
        message = self._mailer.send(to, subject, body, headers)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        slug = re.sub(r"[^A-Za-z0-9]+", "-", subject)[:40].strip("-")
        (self._directory / f"{stamp}-{slug}.eml").write_bytes(message.as_bytes())
        return message


def read_outbox(directory: str) -> list[dict[str, str]]:
    """The outbox's messages, oldest first, as to/subject/path."""
    from email import policy
    from email.parser import BytesParser

    folder = Path(directory)
    if not folder.is_dir():
        return []
    parser = BytesParser(policy=policy.default)
    listing = []
    for path in sorted(folder.glob("*.eml")):
        with path.open("rb") as handle:
            headers = parser.parse(handle, headersonly=True)
        listing.append({"to": str(headers["To"]), "subject": str(headers["Subject"]), "path": str(path.resolve())})
    return listing
