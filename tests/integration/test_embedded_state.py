"""The embedded moto server keeps its state in CASEFLOW_STATE_DIR (decision 0038): stopped and started
again, it has the same items, objects, queued messages, user pool (same id: tokens issued before
still verify), secret and verified identities. A snapshot it cannot read is set aside, not fatal.

Each test runs the real server (`chalicelib.local.moto_server`) as a subprocess on a free port.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from chalicelib import settings
from chalicelib.adapters.cognito import CognitoTokenVerifier
from chalicelib.local import aws_state
from chalicelib.local.provision import DEMO_PASSWORD, provision
from chalicelib.local.state_keeper import STATUS_PATH
from harness import free_port

REGION = "us-east-1"
AGENTS = {"alice": "agent", "harry": "hr-lead"}


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def status(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.endpoint + STATUS_PATH, timeout=5) as response:
            return json.loads(response.read())


@contextmanager
def moto_server(
    state_dir: Path, stop: signal.Signals = signal.SIGTERM, table_writes_per_snapshot: int | None = None
) -> Iterator[Server]:
    """The embedded moto server on `state_dir`, stopped with `stop` (SIGKILL: as if it crashed)."""
    port = free_port()
    environment = {**os.environ, settings.STATE_DIR: str(state_dir), "MOTO_PORT": str(port)}
    if table_writes_per_snapshot:
        environment[settings.TABLE_WRITES_PER_SNAPSHOT] = str(table_writes_per_snapshot)
    process = subprocess.Popen(
        [sys.executable, "-m", "chalicelib.local.moto_server", "-p", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = Server(port, process)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                server.status()
                break
            except OSError:
                assert process.poll() is None, "the moto server exited"
                assert time.monotonic() < deadline, "the moto server did not start"
                time.sleep(0.05)
        yield server
    finally:
        process.send_signal(stop)
        process.wait(timeout=30)


@pytest.fixture
def aws_of(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Point this process's boto3 clients at a server (provisioning uses plain `boto3.client`)."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "local")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)

    def point(server: Server) -> settings.Settings:
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.endpoint)
        return settings.from_environ({settings.REGION: REGION, settings.ENDPOINT_URL: server.endpoint})

    return point


def _id_token(server: Server, client_id: str, username: str) -> str:
    answer = server.client("cognito-idp").initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": DEMO_PASSWORD},
    )
    return answer["AuthenticationResult"]["IdToken"]


def _verifier(config: settings.Settings, pool_id: str, client_id: str) -> CognitoTokenVerifier:
    kept = settings.from_environ(
        {
            settings.REGION: REGION,
            settings.ENDPOINT_URL: config.endpoint_url or "",
            settings.USER_POOL_ID: pool_id,
        }
    )
    return CognitoTokenVerifier(kept.jwks_url, kept.token_issuer, client_id)


def test_a_restarted_server_has_everything_it_had(tmp_path, aws_of):
    state = tmp_path / "state"
    with moto_server(state) as first:
        config = aws_of(first)
        made = provision(config, AGENTS)
        token = _id_token(first, made.user_pool_client_id, "harry")
        first.client("dynamodb").put_item(
            TableName=config.table_name, Item={"pk": {"S": "ISSUE#kept"}, "sk": {"S": "META"}, "n": {"N": "7"}}
        )
        first.client("s3").put_object(Bucket=config.mail_bucket, Key="raw/one.eml", Body=b"raw mail")
        first.client("sqs").send_message(QueueUrl=made.task_queue_url, MessageBody="queued task")
        first.client("sqs").send_message(QueueUrl=made.dead_letter_queue_url, MessageBody="dead letter")
        secret = first.client("secretsmanager").get_secret_value(SecretId=config.link_secret_id)["SecretString"]

    with moto_server(state) as second:
        config = aws_of(second)
        assert second.status()["restored"]["path"] == str(state / aws_state.SNAPSHOT_NAME)
        again = provision(config, AGENTS)
        assert (again.user_pool_id, again.user_pool_client_id) == (made.user_pool_id, made.user_pool_client_id)
        pools = second.client("cognito-idp").list_user_pools(MaxResults=10)["UserPools"]
        assert [p["Id"] for p in pools] == [made.user_pool_id]
        claims = _verifier(config, again.user_pool_id, again.user_pool_client_id).verify(token)
        assert claims["cognito:username"] == "harry" and claims["cognito:groups"] == ["hr-lead"]
        assert _id_token(second, again.user_pool_client_id, "alice")

        item = second.client("dynamodb").get_item(
            TableName=config.table_name, Key={"pk": {"S": "ISSUE#kept"}, "sk": {"S": "META"}}
        )
        assert item["Item"]["n"] == {"N": "7"}
        body = second.client("s3").get_object(Bucket=config.mail_bucket, Key="raw/one.eml")["Body"].read()
        assert body == b"raw mail"
        sqs = second.client("sqs")
        assert sqs.receive_message(QueueUrl=again.task_queue_url)["Messages"][0]["Body"] == "queued task"
        assert sqs.receive_message(QueueUrl=again.dead_letter_queue_url)["Messages"][0]["Body"] == "dead letter"
        kept_secret = second.client("secretsmanager").get_secret_value(SecretId=config.link_secret_id)
        assert kept_secret["SecretString"] == secret
        identities = second.client("ses").list_identities()["Identities"]
        assert config.sender_address in identities


def _saved(server: Server) -> None:
    deadline = time.monotonic() + 10
    while server.status()["unsaved_changes"]:
        assert time.monotonic() < deadline, "no snapshot within 10 s"
        time.sleep(0.2)


def test_a_killed_server_loses_at_most_what_its_last_snapshot_missed(tmp_path, aws_of):
    state = tmp_path / "state"
    with moto_server(state, stop=signal.SIGKILL) as first:
        config = aws_of(first)
        made = provision(config, {})
        first.client("dynamodb").put_item(
            TableName=config.table_name, Item={"pk": {"S": "ISSUE#early"}, "sk": {"S": "META"}}
        )
        first.client("sqs").send_message(QueueUrl=made.task_queue_url, MessageBody="queued task")
        _saved(first)
        # The frequent snapshot leaves the tables to the journal and the bulk snapshot.
        assert not (state / aws_state.BULK_SNAPSHOT_NAME).exists()

    with moto_server(state) as second:
        config = aws_of(second)
        key = {"pk": {"S": "ISSUE#early"}, "sk": {"S": "META"}}
        assert "Item" in second.client("dynamodb").get_item(TableName=config.table_name, Key=key)
        assert (
            second.client("sqs").receive_message(QueueUrl=made.task_queue_url)["Messages"][0]["Body"] == "queued task"
        )


def test_the_bulk_is_snapshotted_after_so_many_table_writes_and_a_restart_replays_only_the_rest(tmp_path, aws_of):
    state = tmp_path / "state"
    with moto_server(state, stop=signal.SIGKILL, table_writes_per_snapshot=20) as first:
        config = aws_of(first)
        provision(config, {})
        dynamodb = first.client("dynamodb")
        for n in range(50):
            dynamodb.put_item(TableName=config.table_name, Item={"pk": {"S": f"ISSUE#{n}"}, "sk": {"S": "META"}})
            if n == 25:
                deadline = time.monotonic() + 10
                while first.status()["journaled_writes"] >= 20:
                    assert time.monotonic() < deadline, "no bulk snapshot within 10 s"
                    time.sleep(0.1)
        journaled = first.status()["journaled_writes"]
        assert 0 < journaled < 50
        assert (state / aws_state.BULK_SNAPSHOT_NAME).exists()

    with moto_server(state) as second:
        config = aws_of(second)
        restored = second.status()["restored"]
        assert restored["bulk_path"] == str(state / aws_state.BULK_SNAPSHOT_NAME)
        assert restored["replayed"] == journaled
        pages = second.client("dynamodb").get_paginator("scan").paginate(TableName=config.table_name)
        assert {f"ISSUE#{n}" for n in range(50)} <= {item["pk"]["S"] for page in pages for item in page["Items"]}
        # Stopped, it takes a bulk snapshot with the rest: the next start replays nothing.
    with moto_server(state) as third:
        assert third.status()["restored"]["replayed"] == 0


def _as_first_format(state: Path) -> None:
    """Turn the state's two snapshots into one of the first format (every service in aws.pickle)."""
    import io
    import pickle

    bulk = pickle.loads((state / aws_state.BULK_SNAPSHOT_NAME).read_bytes())
    others = pickle.loads((state / aws_state.SNAPSHOT_NAME).read_bytes())
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = aws_state._dispatch_table()
    backends = {**others["backends"], **bulk["backends"]}
    pickler.dump({"format": 1, "moto": others["moto"], "backends": backends, "journal_from": bulk["journal_from"]})
    for path in state.glob("*.pickle*"):
        path.unlink()
    (state / aws_state.SNAPSHOT_NAME).write_bytes(buffer.getvalue())


def test_a_state_kept_in_one_file_by_the_first_format_is_restored_and_its_bulk_snapshotted_at_once(tmp_path, aws_of):
    state = tmp_path / "state"
    with moto_server(state) as first:
        config = aws_of(first)
        provision(config, {})
        first.client("dynamodb").put_item(
            TableName=config.table_name, Item={"pk": {"S": "ISSUE#old"}, "sk": {"S": "META"}}
        )
    _as_first_format(state)

    with moto_server(state, stop=signal.SIGKILL) as second:
        config = aws_of(second)
        restored = second.status()["restored"]
        assert (restored["path"], restored["bulk_path"]) == (str(state / aws_state.SNAPSHOT_NAME), None)
        deadline = time.monotonic() + 10
        while not second.status()["last_bulk_snapshot"]:
            assert time.monotonic() < deadline, "the restored bulk was not snapshotted within 10 s"
            time.sleep(0.1)

    with moto_server(state) as third:
        config = aws_of(third)
        assert third.status()["restored"]["bulk_path"] == str(state / aws_state.BULK_SNAPSHOT_NAME)
        key = {"pk": {"S": "ISSUE#old"}, "sk": {"S": "META"}}
        assert "Item" in third.client("dynamodb").get_item(TableName=config.table_name, Key=key)


def test_a_killed_server_keeps_every_table_write_it_answered(tmp_path, aws_of):
    """An issue whose intake was answered 201 is never lost: DynamoDB writes are journaled as they
    are answered and replayed after the last snapshot, though the kill comes before the next one."""
    state = tmp_path / "state"
    with moto_server(state, stop=signal.SIGKILL) as first:
        config = aws_of(first)
        provision(config, {})
        dynamodb = first.client("dynamodb")
        for n in range(40):
            dynamodb.put_item(TableName=config.table_name, Item={"pk": {"S": f"ISSUE#{n}"}, "sk": {"S": "META"}})
        dynamodb.update_item(
            TableName=config.table_name,
            Key={"pk": {"S": "ISSUE#7"}, "sk": {"S": "META"}},
            UpdateExpression="SET #s = :s",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": {"S": "resolved"}},
        )
        dynamodb.delete_item(TableName=config.table_name, Key={"pk": {"S": "ISSUE#8"}, "sk": {"S": "META"}})
        assert first.status()["journaled_writes"] >= 42, "killed before the next bulk snapshot"

    with moto_server(state) as second:
        config = aws_of(second)
        assert second.status()["restored"]["replayed"] >= 42
        pages = second.client("dynamodb").get_paginator("scan").paginate(TableName=config.table_name)
        items = {item["pk"]["S"]: item for page in pages for item in page["Items"]}
        assert {f"ISSUE#{n}" for n in range(40)} - set(items) == {"ISSUE#8"}
        assert items["ISSUE#7"]["status"] == {"S": "resolved"}


def test_a_truncated_snapshot_is_set_aside_and_the_previous_one_restored(tmp_path):
    state = tmp_path / "state"
    with moto_server(state) as first:
        first.client("secretsmanager").create_secret(Name="first", SecretString="one")
    with moto_server(state) as second:
        second.client("secretsmanager").create_secret(Name="second", SecretString="two")
    snapshot = state / aws_state.SNAPSHOT_NAME
    snapshot.write_bytes(snapshot.read_bytes()[: snapshot.stat().st_size // 2])
    (state / f"{aws_state.SNAPSHOT_NAME}.123.tmp").write_bytes(b"a write cut short")

    with moto_server(state) as third:
        restored = third.status()["restored"]
        assert restored["path"] == str(state / (aws_state.SNAPSHOT_NAME + aws_state.PREVIOUS_SUFFIX))
        [aside] = restored["set_aside"]
        assert Path(aside).name.startswith(f"{aws_state.SNAPSHOT_NAME}.broken-") and Path(aside).exists()
        assert not list(state.glob("*.tmp"))
        names = [s["Name"] for s in third.client("secretsmanager").list_secrets()["SecretList"]]
        assert names == ["first"]


def test_an_unreadable_snapshot_alone_means_starting_empty(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    (state / aws_state.SNAPSHOT_NAME).write_bytes(b"not a pickle")
    with moto_server(state) as server:
        restored = server.status()["restored"]
        assert restored["path"] is None and len(restored["set_aside"]) == 1
        assert server.client("sqs").list_queues().get("QueueUrls", []) == []


def test_the_server_keeps_a_connection_open_between_calls(tmp_path):
    """Each AWS call of the stack reuses its connection (decision 0048): werkzeug's development
    server closed it after every response, so every call paid a new connection and a new thread."""
    import http.client

    with moto_server(tmp_path / "state") as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        try:
            for _ in range(3):
                connection.request("GET", STATUS_PATH)
                response = connection.getresponse()
                assert response.status == 200
                response.read()
                assert not response.will_close, response.getheader("Connection")
        finally:
            connection.close()
