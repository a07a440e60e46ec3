"""Outbound email through SES, as SES really behaves.

SES refuses some emails for good (in the sandbox, every recipient that is not verified) and some
for now (sending faster than the account's rate): the first are UnsendableEmail, the second
MailServiceBusy once the client's own retries are spent. SES also replaces the Message-ID we give
it with its own, `<id>@<region>.amazonses.com` (`email.amazonses.com` in us-east-1): the message
answered is the one its recipient sees, so that their reply's In-Reply-To can be found.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ReadTimeoutError
from botocore.exceptions import ConnectionError as Unreachable

from chalicelib.services.ports import MailServiceBusy, UnsendableEmail

#: Python folds a long In-Reply-To or References line into RFC 2047 encoded words, which no mail
#: program reads as Message-IDs: threading would break. SMTP allows lines of 998 characters.
UNFOLDED = policy.default.clone(max_line_length=998)
#: The client retries throttling and SES's own failures with backoff before MailServiceBusy.
RETRIES = Config(retries={"mode": "standard", "max_attempts": 5})
#: Error codes that say "not now" rather than "not this email": sending again later may work.
_BUSY_CODES = {"Throttling", "ThrottlingException", "ServiceUnavailable", "InternalFailure", "RequestTimeout"}
#: A Throttling that waiting minutes does not lift: the 24-hour quota is spent.
_DAILY_QUOTA = "daily message quota"


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
        self._client = client or boto3.client("ses", config=RETRIES)
        self.sender = sender

    def send(self, to: list[str], subject: str, body: str, headers: dict[str, str] | None = None) -> EmailMessage:
        try:
            message = build_message(self.sender, to, subject, body, headers or {})
            data = message.as_bytes()
        except (ValueError, TypeError, UnicodeError) as exc:  # the email package's refusals
            raise UnsendableEmail(f"the email could not be built: {exc}") from exc
        try:
            answer = self._client.send_raw_email(Source=self.sender, Destinations=to, RawMessage={"Data": data})
        except ClientError as exc:
            raise refusal(exc) from exc
        except (Unreachable, ReadTimeoutError) as exc:
            raise MailServiceBusy(f"SES could not be reached: {exc}") from exc
        del message["Message-ID"]
        message["Message-ID"] = f"<{answer['MessageId']}@{ses_domain(self._client.meta.region_name)}>"
        return message


def refusal(error: ClientError) -> UnsendableEmail | MailServiceBusy:
    """What SES's refusal means for the email: never sendable as it is, or busy for now."""
    details = error.response.get("Error", {})
    code = str(details.get("Code", ""))
    text = str(details.get("Message", "")) or code
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    reason = f"SES refused it ({code}): {text}"
    if _DAILY_QUOTA in text.lower():
        return UnsendableEmail(reason)
    if code in _BUSY_CODES or status >= 500:
        return MailServiceBusy(reason)
    return UnsendableEmail(reason)


def ses_domain(region: str) -> str:
    """The domain of the Message-IDs SES gives the emails it sends from a region."""
    return "email.amazonses.com" if region == "us-east-1" else f"{region}.amazonses.com"
