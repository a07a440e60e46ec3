"""The bucket: raw inbound messages (written by SES's receipt rule), attachments, classifier models."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import boto3


class S3ObjectStore:
    def __init__(self, bucket: str, client: Any = None):
        self._bucket = bucket
        self._client = client or boto3.client("s3")

    def read(self, key: str) -> bytes:
        return self._client.get_object(Bucket=self._bucket, Key=key)["Body"].read()

    def write(self, key: str, data: bytes, content_type: str) -> None:
        self._client.put_object(Bucket=self._bucket, Key=key, Body=data, ContentType=content_type)

    def download_link(self, key: str, filename: str, seconds: int) -> str:
        return self._client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self._bucket,
                "Key": key,
                "ResponseContentDisposition": f"attachment; filename*=UTF-8''{quote(filename)}",
            },
            ExpiresIn=seconds,
        )

    def upload_form(self, key: str, max_bytes: int, redirect: str, seconds: int) -> dict[str, Any]:
        """A presigned POST: a browser form uploads one file straight to this key, at most
        `max_bytes` (S3 enforces the policy), then S3 sends the browser to `redirect`."""
        return self._client.generate_presigned_post(
            Bucket=self._bucket,
            Key=key,
            Fields={"success_action_redirect": redirect},
            Conditions=[["content-length-range", 1, max_bytes], {"success_action_redirect": redirect}],
            ExpiresIn=seconds,
        )

    def head(self, key: str, length: int) -> tuple[int, bytes] | None:
        """The object's size and first `length` bytes; None if there is no such object."""
        try:
            size = self._client.head_object(Bucket=self._bucket, Key=key)["ContentLength"]
        except self._client.exceptions.ClientError as exc:
            if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        if size == 0:
            return 0, b""
        first = self._client.get_object(Bucket=self._bucket, Key=key, Range=f"bytes=0-{length - 1}")["Body"].read()
        return size, first

    def delete(self, key: str) -> None:
        self._client.delete_object(Bucket=self._bucket, Key=key)
