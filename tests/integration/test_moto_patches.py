"""moto as patched by `chalicelib.local.moto_patches` still answers as DynamoDB does: a cancelled
transaction leaves every item as it was, and Queries find the same items."""

import uuid

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

TABLE = f"patched-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def dynamodb():
    """A table of its own, emptied for each test (another test's mock may hold the backend open)."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "gpk", "gsk")],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "gsi",
                    "KeySchema": [
                        {"AttributeName": "gpk", "KeyType": "HASH"},
                        {"AttributeName": "gsk", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client
        client.delete_table(TableName=TABLE)


def put(pk: str, sk: str, **values: str) -> dict:
    item = {"pk": {"S": pk}, "sk": {"S": sk}} | {name: {"S": value} for name, value in values.items()}
    return {"Put": {"TableName": TABLE, "Item": item}}


def items(client) -> list[tuple[str, str, str]]:
    found = client.scan(TableName=TABLE)["Items"]
    return sorted((i["pk"]["S"], i["sk"]["S"], i.get("note", {}).get("S", "")) for i in found)


def test_a_cancelled_transaction_leaves_new_updated_and_deleted_items_as_they_were(dynamodb):
    dynamodb.transact_write_items(TransactItems=[put("a", "1", note="old"), put("b", "1", note="kept")])
    before = items(dynamodb)

    with pytest.raises(ClientError) as cancelled:
        dynamodb.transact_write_items(
            TransactItems=[
                put("a", "1", note="new"),
                put("c", "1", note="new item"),
                {"Delete": {"TableName": TABLE, "Key": {"pk": {"S": "b"}, "sk": {"S": "1"}}}},
                {
                    "Put": {
                        **put("d", "1")["Put"],
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )

    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert items(dynamodb) == before == [("a", "1", "old"), ("b", "1", "kept")]


def test_a_transaction_that_goes_through_writes_every_item(dynamodb):
    dynamodb.transact_write_items(TransactItems=[put("a", "1", note="old")])
    dynamodb.transact_write_items(TransactItems=[put("a", "1", note="new"), put("a", "2", note="second")])

    assert items(dynamodb) == [("a", "1", "new"), ("a", "2", "second")]


def test_queries_on_the_table_and_on_an_index_find_their_items_in_key_order(dynamodb):
    for pk, sk, gsk in [("x", "2", "b"), ("x", "1", "c"), ("y", "1", "a"), ("z", "3", "d")]:
        dynamodb.put_item(
            TableName=TABLE, Item={"pk": {"S": pk}, "sk": {"S": sk}, "gpk": {"S": "g"}, "gsk": {"S": gsk}}
        )

    partition = dynamodb.query(
        TableName=TABLE, KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": "x"}}
    )["Items"]
    index = dynamodb.query(
        TableName=TABLE,
        IndexName="gsi",
        KeyConditionExpression="gpk = :g",
        ExpressionAttributeValues={":g": {"S": "g"}},
        ScanIndexForward=False,
    )["Items"]

    assert [i["sk"]["S"] for i in partition] == ["1", "2"]
    assert [i["gsk"]["S"] for i in index] == ["d", "c", "b", "a"]


def index_keys(client, value: str) -> list[tuple[str, str]]:
    found = client.query(
        TableName=TABLE,
        IndexName="gsi",
        KeyConditionExpression="gpk = :g",
        ExpressionAttributeValues={":g": {"S": value}},
    )["Items"]
    return [(i["pk"]["S"], i["sk"]["S"]) for i in found]


def test_an_index_query_sees_every_kind_of_write_since_the_last_one(dynamodb):
    """The index's items are kept grouped by partition value between Queries: each write moves them."""
    key = {"pk": {"S": "a"}, "sk": {"S": "1"}}
    dynamodb.put_item(TableName=TABLE, Item={**key, "gpk": {"S": "g"}, "gsk": {"S": "1"}})
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "b"}, "sk": {"S": "1"}, "gpk": {"S": "g"}, "gsk": {"S": "2"}})
    assert index_keys(dynamodb, "g") == [("a", "1"), ("b", "1")]

    dynamodb.update_item(
        TableName=TABLE, Key=key, UpdateExpression="SET gpk = :h", ExpressionAttributeValues={":h": {"S": "h"}}
    )
    assert (index_keys(dynamodb, "g"), index_keys(dynamodb, "h")) == ([("b", "1")], [("a", "1")])

    dynamodb.update_item(TableName=TABLE, Key=key, UpdateExpression="REMOVE gpk")
    assert index_keys(dynamodb, "h") == []

    dynamodb.batch_write_item(
        RequestItems={
            TABLE: [
                {"PutRequest": {"Item": {**key, "gpk": {"S": "g"}, "gsk": {"S": "0"}}}},
                {"DeleteRequest": {"Key": {"pk": {"S": "b"}, "sk": {"S": "1"}}}},
            ]
        }
    )
    assert index_keys(dynamodb, "g") == [("a", "1")]

    with pytest.raises(ClientError):
        dynamodb.transact_write_items(
            TransactItems=[
                put("a", "1", gpk="h", gsk="0"),
                put("c", "1", gpk="g", gsk="5"),
                {"Put": {**put("d", "1")["Put"], "ConditionExpression": "attribute_exists(pk)"}},
            ]
        )
    assert (index_keys(dynamodb, "g"), index_keys(dynamodb, "h")) == ([("a", "1")], [])

    dynamodb.delete_item(TableName=TABLE, Key=key)
    assert index_keys(dynamodb, "g") == []


#: One attribute of every DynamoDB type, nested ones included.
EVERY_TYPE = {
    "pk": {"S": "every"},
    "sk": {"S": "type"},
    "number": {"N": "12.5"},
    "binary": {"B": b"\x00\x01\xfe"},
    "strings": {"SS": ["a", "b"]},
    "numbers": {"NS": ["1", "2"]},
    "binaries": {"BS": [b"\x01", b"\x02"]},
    "flag": {"BOOL": False},
    "nothing": {"NULL": True},
    "map": {"M": {"inner": {"L": [{"S": "x"}, {"N": "3"}, {"M": {}}, {"NULL": True}]}, "empty": {"S": ""}}},
    "list": {"L": []},
}


def _sets_sorted(item: dict) -> dict:
    return {
        name: {kind: sorted(v) if kind in ("SS", "NS", "BS") else v for kind, v in value.items()}
        for name, value in item.items()
    }


def test_every_kind_of_attribute_reads_back_as_written_by_every_read(dynamodb):
    key = {"pk": EVERY_TYPE["pk"], "sk": EVERY_TYPE["sk"]}
    dynamodb.put_item(TableName=TABLE, Item=EVERY_TYPE)
    expected = _sets_sorted(EVERY_TYPE)

    read = {
        "GetItem": dynamodb.get_item(TableName=TABLE, Key=key)["Item"],
        "Query": dynamodb.query(
            TableName=TABLE, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": key["pk"]}
        )["Items"][0],
        "Scan": dynamodb.scan(TableName=TABLE)["Items"][0],
        "BatchGetItem": dynamodb.batch_get_item(RequestItems={TABLE: {"Keys": [key]}})["Responses"][TABLE][0],
        "TransactGetItems": dynamodb.transact_get_items(TransactItems=[{"Get": {"TableName": TABLE, "Key": key}}])[
            "Responses"
        ][0]["Item"],
        "UpdateItem": dynamodb.update_item(
            TableName=TABLE,
            Key=key,
            UpdateExpression="SET flag = :f",
            ExpressionAttributeValues={":f": {"BOOL": False}},
            ReturnValues="ALL_NEW",
        )["Attributes"],
        "DeleteItem": dynamodb.delete_item(TableName=TABLE, Key=key, ReturnValues="ALL_OLD")["Attributes"],
    }

    assert {operation: _sets_sorted(item) for operation, item in read.items()} == {op: expected for op in read}


def test_moto_answers_as_it_did_before_its_serializer_kept_what_it_worked_out(dynamodb, monkeypatch):
    from moto.core.serialize import ResponseSerializer

    for n in range(3):
        dynamodb.put_item(
            TableName=TABLE, Item={**EVERY_TYPE, "sk": {"S": f"{n}"}, "gpk": {"S": "g"}, "gsk": {"S": f"{n}"}}
        )

    def answers() -> list[dict]:
        calls = [
            dynamodb.batch_write_item(
                RequestItems={TABLE: [{"PutRequest": {"Item": {"pk": {"S": "w"}, "sk": {"S": "1"}}}}]},
                ReturnItemCollectionMetrics="SIZE",
            ),
            dynamodb.describe_table(TableName=TABLE),
            dynamodb.query(
                TableName=TABLE,
                KeyConditionExpression="pk = :p",
                ExpressionAttributeValues={":p": {"S": "every"}},
                Limit=2,
                ReturnConsumedCapacity="TOTAL",
            ),
            dynamodb.query(
                TableName=TABLE,
                IndexName="gsi",
                KeyConditionExpression="gpk = :g",
                ExpressionAttributeValues={":g": {"S": "g"}},
                ProjectionExpression="#m, strings",
                ExpressionAttributeNames={"#m": "map"},
            ),
            dynamodb.scan(TableName=TABLE, Select="COUNT"),
            dynamodb.list_tables(),
        ]
        for answer in calls:
            answer.pop("ResponseMetadata")
        return calls

    patched = answers()
    monkeypatch.setattr(
        ResponseSerializer, "_serialize_type_structure", ResponseSerializer._serialize_type_structure.__wrapped__
    )
    assert answers() == patched


def run_to_the_end(definition: dict, inputs: dict) -> dict:
    """Start one execution per input of a new state machine (moto interpreting it) and wait for
    each to end: {key: (status, output)}."""
    import json
    import time

    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    machine = sfn.create_state_machine(
        name=f"machine-{uuid.uuid4().hex[:8]}",
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )["stateMachineArn"]
    runs = {
        key: sfn.start_execution(stateMachineArn=machine, name=f"run-{i}", input=json.dumps(given))["executionArn"]
        for i, (key, given) in enumerate(inputs.items())
    }
    outputs: dict = {}
    deadline = time.monotonic() + 20
    while len(outputs) < len(runs) and time.monotonic() < deadline:
        for key, arn in runs.items():
            described = sfn.describe_execution(executionArn=arn)
            if described["status"] != "RUNNING":
                outputs[key] = (described["status"], json.loads(described.get("output") or "null"))
        time.sleep(0.05)
    return outputs


def test_executions_of_one_definition_parse_it_once_and_keep_their_own_state(monkeypatch):
    """The parse tree is kept per definition (moto parsed it at every execution's start); each
    execution still evaluates its own input to its own output."""

    from moto.stepfunctions.parser.asl.antlr.runtime.ASLParser import ASLParser

    parses = []
    parse = ASLParser.state_machine
    monkeypatch.setattr(ASLParser, "state_machine", lambda self: parses.append(1) or parse(self))
    definition = {
        "Comment": f"parsed once {uuid.uuid4().hex}",
        "StartAt": "Pick",
        "States": {
            "Pick": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"}],
                "Default": "Small",
            },
            "Big": {"Type": "Pass", "Parameters": {"size": "big", "n.$": "$.n"}, "End": True},
            "Small": {"Type": "Pass", "Parameters": {"size": "small", "n.$": "$.n"}, "End": True},
        },
    }
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        outputs = run_to_the_end(definition, {n: {"n": n} for n in (3, 30, 7)})
    assert outputs == {
        3: ("SUCCEEDED", {"size": "small", "n": 3}),
        30: ("SUCCEEDED", {"size": "big", "n": 30}),
        7: ("SUCCEEDED", {"size": "small", "n": 7}),
    }
    assert len(parses) == 1


def test_executions_share_their_service_clients_and_parsed_paths(monkeypatch):
    """Each SQS task of an execution created a boto3 client, and each JSONPath built a parser:
    they are kept, and every execution still sends its own message."""
    import json

    from jsonpath_ng.ext.parser import ExtendedJsonPathParser

    created, parsers = [], []
    make_client = boto3.client
    monkeypatch.setattr(boto3, "client", lambda *a, **k: created.append(k.get("service_name")) or make_client(*a, **k))
    build = ExtendedJsonPathParser.__init__
    monkeypatch.setattr(
        ExtendedJsonPathParser, "__init__", lambda self, *a, **k: parsers.append(1) or build(self, *a, **k)
    )
    field = f"v{uuid.uuid4().hex[:8]}"
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        sqs = make_client("sqs", region_name="us-east-1")
        queue = sqs.create_queue(QueueName=f"kept-{field}")["QueueUrl"]
        definition = {
            "StartAt": "Send",
            "States": {
                "Send": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::sqs:sendMessage",
                    "Parameters": {"QueueUrl": queue, "MessageBody": {"n.$": f"$.{field}"}},
                    "ResultPath": "$.sent",
                    "End": True,
                }
            },
        }
        outputs = run_to_the_end(definition, {n: {field: n} for n in (1, 2, 3)})
        assert [status for status, _ in outputs.values()] == ["SUCCEEDED"] * 3
        bodies = []
        while True:
            messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                break
            bodies += [json.loads(m["Body"])["n"] for m in messages]
    assert sorted(bodies) == [1, 2, 3]
    assert created.count("sqs") <= 1  # none if an earlier test's execution created it
    assert len(parsers) == 1


def test_a_receive_reads_the_retention_period_without_counting_the_queue_and_still_drops_expired_messages(
    monkeypatch,
):
    from moto.sqs.models import Queue

    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName=f"retained-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        for n in range(30):
            sqs.send_message(QueueUrl=url, MessageBody=f"m{n}")
        counted = []
        attributes = Queue.attributes
        monkeypatch.setattr(Queue, "attributes", property(lambda queue: counted.append(1) or attributes.fget(queue)))

        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        assert len(received) == 10 and not counted

        monkeypatch.undo()
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"MessageRetentionPeriod": "60"})
        from moto.sqs.models import sqs_backends

        for queue in sqs_backends["123456789012"]["us-east-1"].queues.values():
            for message in queue._messages:
                message.sent_timestamp -= 120_000
        assert sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", []) == []


def test_a_choice_on_an_absent_answer_takes_its_branch_without_logging_an_error(caplog):
    """A step moved on by an escalation gives no answer: the Choice after it tests an absent path."""
    import logging

    rule = {"Variable": "$.results.triage.fields.severity", "StringEquals": "sev3"}
    definition = {
        "StartAt": "Fix?",
        "States": {
            "Fix?": {
                "Type": "Choice",
                "Choices": [
                    {
                        "Not": {"And": [{"Variable": rule["Variable"], "IsPresent": True}, rule]},
                        "Next": "Fix",
                    }
                ],
                "Default": "NoFix",
            },
            "Fix": {"Type": "Pass", "Result": {"branch": "fix"}, "End": True},
            "NoFix": {"Type": "Pass", "Result": {"branch": "no fix"}, "End": True},
        },
    }
    caplog.set_level(logging.INFO, logger="moto")
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        outputs = run_to_the_end(
            definition,
            {"moved on": {"results": {}}, "sev3": {"results": {"triage": {"fields": {"severity": "sev3"}}}}},
        )
    assert outputs == {"moved on": ("SUCCEEDED", {"branch": "fix"}), "sev3": ("SUCCEEDED", {"branch": "no fix"})}
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_an_item_projected_has_what_moto_projected_before_and_is_read_once(monkeypatch):
    from moto.dynamodb.models.dynamo_type import Item

    attributes = {
        "pk": {"S": "ISSUE#1"},
        "sk": {"S": "META"},
        "status": {"S": "open"},
        "n": {"N": "3"},
        "tags": {"L": [{"S": "a"}, {"M": {"x": {"N": "1"}}}]},
        "fields": {"M": {"store": {"S": "leeds"}, "when": {"M": {"day": {"S": "mon"}}}}},
        "blob": {"B": b"bytes"},
        "set": {"SS": ["x", "y"]},
        "none": {"NULL": True},
    }
    item = Item(hash_key=None, range_key=None, attrs=attributes)
    readings = []
    to_json = Item.to_regular_json
    monkeypatch.setattr(Item, "to_regular_json", lambda self: readings.append(1) or to_json(self))
    for projection, reads in (
        ([["status"], ["n"], ["tags"], ["fields"], ["blob"], ["set"], ["none"], ["missing"]], 1),
        ([["fields", "when", "day"], ["tags[1]", "x"], ["status"]], 3),
    ):
        readings.clear()
        projected = item.project(projection).attrs
        assert len(readings) == reads
        expected = Item.project.__wrapped__(item, projection).attrs
        assert {k: v.to_json() for k, v in projected.items()} == {k: v.to_json() for k, v in expected.items()}
