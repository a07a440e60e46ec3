"""The local outbox: a copy of every email sent through SES, as .eml files (dev stage only)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from chalicelib.adapters.ses import SesMailer


class OutboxMailer:
    """Sends through SES and also writes each message as an .eml file (local stage only)."""

    def __init__(self, mailer: SesMailer, directory: str):
        self._mailer = mailer
        self.sender = mailer.sender
        self._directory = Path(directory)
        self._directory.mkdir(parents=True, exist_ok=True)

    def send(self, to: list[str], subject: str, body: str, headers: dict[str, str] | None = None) -> EmailMessage:
        message = self._mailer.send(to, subject, body, headers)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        slug = re.sub(r"[^A-Za-z0-9]+", "-", subject)[:40].strip("-")
        (self._directory / f"{stamp}-{slug}.eml").write_bytes(message.as_bytes())
        return message


class OutboxFolder:
    """Lists the outbox's messages, oldest first, as to/subject/path."""

    def __init__(self, directory: str):
        self._directory = Path(directory)

    def messages(self) -> list[dict[str, str]]:
        if not self._directory.is_dir():
            return []
        parser = BytesParser(policy=policy.default)
        listing = []
        for path in sorted(self._directory.glob("*.eml")):
            with path.open("rb") as handle:
                headers = parser.parse(handle, headersonly=True)
            listing.append(
                {
                    "to": str(headers["To"]),
                    "subject": str(headers["Subject"]),
                    "path": str(path.resolve()),
                    "name": path.name,
                }
            )
        return listing

    def message(self, name: str) -> dict[str, str] | None:
        """One message of the outbox by its file name: its headers and plain-text body; None for none."""
        if not re.fullmatch(r"[0-9T]+-[A-Za-z0-9-]*\.eml", name or ""):
            return None
        path = self._directory / name
        if not path.is_file():
            return None
        with path.open("rb") as handle:
            message = BytesParser(policy=policy.default).parse(handle)
        plain = message.get_body(("plain",))
        return {
            "name": name,
            "from": str(message["From"]),
            "to": str(message["To"]),
            "subject": str(message["Subject"]),
            "date": str(message["Date"] or ""),
            "body": plain.get_content() if plain is not None else "",
        }
