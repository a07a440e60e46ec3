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
