"""Every event the local stack hands to a handler, in the shape AWS sends it.

Chalice parses events strictly (a scheduled event without `version` raises), and on AWS the
handlers get exactly these shapes, so the local event sources (the queue pumps, the schedules,
the SMTP relay) build their events here and nowhere else.
"""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from datetime import UTC, datetime
from typing import Any

#: moto's account, which the local stack's ARNs name.
ACCOUNT_ID = "123456789012"


def _iso(at: datetime, timespec: str = "seconds") -> str:
    return at.astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def function_arn(function_name: str, region: str) -> str:
    return f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{function_name}"


class LambdaContext:
    """What a handler may read of its Lambda context: a fresh one per invocation, as Lambda gives."""

    memory_limit_in_mb = 512
    function_version = "$LATEST"

    def __init__(self, function_name: str = "caseflow-local", region: str = "us-east-1", timeout_seconds: int = 60):
        self.function_name = function_name
        self.invoked_function_arn = function_arn(function_name, region)
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _sqs_message_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    """ReceiveMessage's attributes (`StringValue`, bytes) as Lambda writes them (`stringValue`, base64)."""
    converted = {}
    for name, value in attributes.items():
        entry: dict[str, Any] = {"stringListValues": [], "binaryListValues": [], "dataType": value["DataType"]}
        if "StringValue" in value:
            entry["stringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            entry["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
        converted[name] = entry
    return converted


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """Lambda's SQS event source event for messages as ReceiveMessage returned them."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": _sqs_message_attributes(message.get("MessageAttributes", {})),
                "md5OfBody": hashlib.md5(message["Body"].encode()).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for message in messages
        ]
    }


def scheduled_event(rule_name: str, at: datetime, region: str) -> dict[str, Any]:
    """The event an EventBridge schedule rule sends its target at `at`."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": _iso(at),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{ACCOUNT_ID}:rule/{rule_name}"],
        "detail": {},
    }


def ses_event(
    ses_id: str,
    recipients: list[str],
    envelope_from: str,
    at: datetime,
    headers: list[dict[str, str]],
    common_headers: dict[str, Any],
    verdicts: dict[str, str],
    function_name: str,
    region: str,
) -> dict[str, Any]:
    """The event an SES receipt rule's Lambda action sends for a received message (its content is in S3)."""
    timestamp = _iso(at, "milliseconds")
    return {
        "Records": [
            {
                "eventSource": "aws:ses",
                "eventVersion": "1.0",
                "ses": {
                    "mail": {
                        "timestamp": timestamp,
                        "source": envelope_from,
                        "messageId": ses_id,
                        "destination": recipients,
                        "headersTruncated": False,
                        "headers": headers,
                        "commonHeaders": {"returnPath": envelope_from, **common_headers},
                    },
                    "receipt": {
                        "timestamp": timestamp,
                        "processingTimeMillis": 0,
                        "recipients": recipients,
                        **{f"{name}Verdict": {"status": status} for name, status in verdicts.items()},
                        "action": {
                            "type": "Lambda",
                            "functionArn": function_arn(function_name, region),
                            "invocationType": "Event",
                        },
                    },
                },
            }
        ]
    }
