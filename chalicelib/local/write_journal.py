"""The DynamoDB writes the embedded moto server answered since the tables' last snapshot, replayed after it.

The tables' snapshot (`state_keeper`) is taken seldom, so on its own a `kill -9` would lose every
write since, an issue whose intake was already answered 201 among them. Every DynamoDB write the
server answers with 200 is first appended to the journal (one JSON line per request, written to
the kernel before the answer leaves, so a killed process loses none of them), in the order moto
applied them. A tables' snapshot starts a new segment of the journal and records its number; a
restart restores that snapshot and replays the segments from that number on. Segments older than
the previous tables' snapshot's are deleted (decisions 0038 and 0049).

Only DynamoDB is journaled: it holds the issues, tasks, timelines and receipts. A raw email in S3
or a queued message sent in the last seconds can still be lost; both are sent again by their
sources (SES's retry, the workflow's redelivery).
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger("caseflow.local.state")

_PREFIX = "DynamoDB_20120810."
WRITE_ACTIONS = frozenset(
    {
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "BatchWriteItem",
        "TransactWriteItems",
        "CreateTable",
        "UpdateTable",
        "DeleteTable",
        "UpdateTimeToLive",
    }
)
_SEGMENT = re.compile(r"dynamodb-writes\.(\d+)\.jsonl")
#: The request headers a replay needs: which API, and the credential scope that names the region.
_HEADERS = ("HTTP_X_AMZ_TARGET", "HTTP_AUTHORIZATION", "CONTENT_TYPE", "HTTP_HOST")

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def is_dynamodb(environ: dict[str, Any]) -> bool:
    return str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith(_PREFIX)


def is_write(environ: dict[str, Any]) -> bool:
    return is_dynamodb(environ) and environ["HTTP_X_AMZ_TARGET"][len(_PREFIX) :] in WRITE_ACTIONS


def segment_path(directory: Path, number: int) -> Path:
    return directory / f"dynamodb-writes.{number}.jsonl"


def segments(directory: Path) -> dict[int, Path]:
    found = {}
    for path in directory.glob("dynamodb-writes.*.jsonl"):
        if match := _SEGMENT.fullmatch(path.name):
            found[int(match.group(1))] = path
    return dict(sorted(found.items()))


class WriteJournal:
    """The journal of one moto server process, in `directory`."""

    def __init__(self, directory: Path):
        self.directory = directory
        self._lock = threading.Lock()
        self._descriptor: int | None = None
        self.segment = max(segments(directory), default=-1) + 1 if directory.is_dir() else 0

    def open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._descriptor = os.open(segment_path(self.directory, self.segment), os.O_WRONLY | os.O_CREAT | os.O_APPEND)

    def journaled(self, app: WsgiApp, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        """Serve a DynamoDB write and, when it succeeded, append it before answering. Writes pass
        one at a time, so the journal's order is the order moto applied them in."""
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        answered: list[str] = []

        def keep_status(status: str, headers: list[Any], *rest: Any) -> Any:
            answered.append(status)
            return start_response(status, headers, *rest)

        with self._lock:
            response = list(app(environ, keep_status))
            if answered and answered[0].startswith("200") and self._descriptor is not None:
                record = {name: environ.get(name, "") for name in _HEADERS}
                record["body"] = body.decode("utf-8")
                os.write(self._descriptor, (json.dumps(record) + "\n").encode())
        return response

    def rotate(self) -> int:
        """Start a new segment (while no request is inside); a snapshot taken now covers every
        segment before the number returned."""
        with self._lock:
            if self._descriptor is not None:
                os.close(self._descriptor)
            self.segment += 1
            self.open()
            return self.segment

    def discard_before(self, number: int) -> None:
        for found, path in segments(self.directory).items():
            if found < number:
                path.unlink(missing_ok=True)


def _records(path: Path) -> Iterator[dict[str, str]]:
    """A segment's records; a last line cut short by a kill is skipped."""
    with path.open("rb") as lines:
        for line in lines:
            try:
                yield json.loads(line)
            except ValueError:
                log.warning("a journal line cut short in %s is skipped", path.name)


def replay(directory: Path, since: int, app: WsgiApp) -> int:
    """Apply, in order, every journaled write of the segments from `since` on; returns how many."""
    from werkzeug.test import EnvironBuilder

    applied = 0
    for number, path in segments(directory).items():
        if number < since:
            continue
        for record in _records(path):
            builder = EnvironBuilder(
                method="POST",
                path="/",
                data=record["body"].encode("utf-8"),
                content_type=record["CONTENT_TYPE"] or "application/x-amz-json-1.0",
                headers={"X-Amz-Target": record["HTTP_X_AMZ_TARGET"], "Authorization": record["HTTP_AUTHORIZATION"]},
            )
            environ = builder.get_environ()
            environ["HTTP_HOST"] = record["HTTP_HOST"] or "localhost"
            status = _served(app, environ)
            if not status.startswith("200"):
                log.warning("a journaled %s answered %s on replay", record["HTTP_X_AMZ_TARGET"], status)
            applied += 1
    return applied


def _served(app: WsgiApp, environ: dict[str, Any]) -> str:
    """The status `app` answers `environ` with."""
    statuses: list[str] = []
    b"".join(app(environ, lambda status, headers, *_: statuses.append(status)))
    return statuses[0] if statuses else ""
