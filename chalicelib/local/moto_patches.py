"""Fixes to moto 5.2.5 that the embedded stack and the tests need, applied once per process.

None of them changes what an AWS call answers; they remove a race and costs that AWS does not have:

- An execution is listed as RUNNING before its worker has an environment, so a SendTaskSuccess
  for another execution at that instant fails with AttributeError (in-process; the moto server
  answers 500 and botocore retries). Such an execution holds no token yet, so it is skipped.
- Every DynamoDB Query sorts the whole table and then filters it, so a Query costs
  O(n log n) in the table's size: with a demo month (about 100,000 items) one Query takes a
  second. A Query on the table now reads its own partition only, and a Query on an index reads
  its partition's items only, without sorting the table first (its results are sorted afterwards,
  as before): beside each table (not in it: a saved state holds none) are, per index
  partition-key attribute queried, its items grouped by that attribute's value, kept up to date by
  every write (PutItem, UpdateItem, DeleteItem, batch and transaction writes, a cancelled
  transaction's rollback) under one lock. The sort compares
  each item's key values as Python values, read once per item, not as moto's DynamoType objects,
  which convert both values again at every comparison (the same order: a key attribute has one type).
- Every TransactWriteItems deep-copies the whole table once per item it writes, to roll back
  on failure: a transaction costs O(n) in the table's size, 1.5 s per new issue once a demo
  month has filled the table. The transaction now saves only the items it writes and puts them
  back when it is cancelled.
- The moto server finds the backend of every request by matching its host against several
  hundred URL patterns, under a lock. The answer for a host never changes, so it is kept.
- Every response is serialized by walking the operation's output shape, and for each member of
  each value the serializer works out again which keys may hold it (six alias rules, each key also
  in snake_case). For a DynamoDB Query of 20 items that is thousands of such look-ups, and it was
  the largest single cost of moto in a demo month. For a plain dict the answer depends only on the
  shape, its parent and the key, so it is worked out once and kept.
- Every request lists the handler class's methods with `inspect.getmembers` to find its action
  (a quarter of an empty Query's cost in-process). A class's methods do not change: kept per class.
- Every execution's start parses its state machine's definition with ANTLR again (a fifth of the
  moto server's busy time over a demo month). The parse tree of a definition is kept; each
  execution still gets evaluation components of its own, built from it.
- Every service task of an execution (our workflows' SQS messages) creates a new boto3 client, and
  every JSONPath a state reads builds a new JSONPath parser (its yacc tables) to parse it: together
  another seventh of the moto server's busy time. Clients are kept per region and service, parsed
  paths per text.
- Every message an SQS ReceiveMessage hands out is checked against the queue's retention period,
  read through GetQueueAttributes' code, which works out every attribute of the queue, and the
  message counts among them walk all its messages, twice per message received. With a few hundred
  messages queued (the workflows a restart resumes), one receive took a quarter of a second of the
  server's CPU. The retention period is now read from the queue itself.
- A Choice rule that tests a path the input lacks (`IsPresent`, or a step's answer that a step
  moved on by an escalation never gave) is answered as absent, as AWS does, but moto first logs the
  lookup's exception as an ERROR. The lookup now runs without that log; the answer is the same.
- Projecting an item (an index's INCLUDE projection, a ProjectionExpression) turns the whole item
  into plain JSON once per attribute projected: seven times per item for the open-issues index,
  which made the hourly backlog snapshot's Queries the costliest of a demo month's hours. When every
  attribute projected is a top-level name, the item is turned into JSON once.
"""

from __future__ import annotations

import functools
import threading
import weakref
from typing import Any

_applied = False
_query = threading.local()


def apply() -> None:
    """Patch moto in this process; calling it again does nothing."""
    global _applied
    if _applied:
        return
    _applied = True
    _skip_executions_still_starting()
    _query_partitions_only()
    _transactions_save_their_items_only()
    _backend_per_host_kept()
    _serializer_picks_kept()
    _handler_methods_kept()
    _state_machines_parsed_once()
    _step_functions_clients_and_paths_kept()
    _retention_read_from_the_queue()
    _absent_paths_a_choice_tests_not_logged()
    _items_projected_from_one_reading()


def _items_projected_from_one_reading() -> None:
    from moto.dynamodb.models import dynamo_type

    project = dynamo_type.Item.project

    def project_once(self: Any, projection_expressions: list[list[str]]) -> Any:
        if not all(len(path) == 1 and "[" not in path[0] for path in projection_expressions):
            return project(self, projection_expressions)
        plain = self.to_regular_json()
        kept = {path[0]: plain[path[0]] for path in projection_expressions if path[0] in plain}
        return dynamo_type.Item(
            hash_key=self.hash_key,
            range_key=self.range_key,
            attrs=dynamo_type.serializer.serialize(kept)["M"],
        )

    project_once.__wrapped__ = project  # type: ignore[attr-defined]
    dynamo_type.Item.project = project_once


def _absent_paths_a_choice_tests_not_logged() -> None:
    from moto.stepfunctions.parser.asl.component.state.choice.comparison import variable

    def _eval_body(self: Any, env: Any) -> None:
        try:
            self.string_sampler._eval_body(env)  # not `eval`, which logs what it raises as an ERROR
            value = env.stack.pop()
        except Exception as exc:  # noqa: BLE001 - as moto: any failed lookup is an absent variable
            value = variable.NoSuchVariable(f"{self.string_sampler.literal_value}, {exc}")
        env.stack.append(value)

    variable.Variable._eval_body = _eval_body


def _retention_read_from_the_queue() -> None:
    from moto.core.utils import unix_time
    from moto.sqs.models import SQSBackend

    def is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
        retention = int(self.get_queue(queue_name).message_retention_period)
        return retention + message.sent_timestamp / 1000 > unix_time()

    SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period


def _skip_executions_still_starting() -> None:
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    listed = StepFunctionsParserBackend._get_executions

    def ready(self: Any, execution_status: Any = None) -> list[Any]:
        return [e for e in listed(self, execution_status) if getattr(e.exec_worker, "env", None) is not None]

    StepFunctionsParserBackend._get_executions = ready


def _query_partitions_only() -> None:
    from moto.dynamodb.models.table import Table

    query = Table.query
    all_items = Table.all_items

    index_position = 6  # index_name, after range_comparison … projection_expressions

    def query_by_partition(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[index_position] if len(args) > index_position else kwargs.get("index_name")
        if index_name:
            _query.scope = ("index", _index_hash_attribute(self, index_name), hash_key)
        else:
            _query.scope = ("partition", hash_key)
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            _query.scope = None

    def items_in_scope(self: Any) -> list[Any]:
        scope = getattr(_query, "scope", None)
        if scope is None:
            return all_items(self)
        if scope[0] == "partition":
            partition = self.items.get(scope[1])
            if partition is None:
                return []
            if not self.range_key_attr:
                return [partition]
            return sorted(partition.values(), key=lambda item: item.range_key.cast_value)
        _, attribute, hash_key = scope
        if attribute is None or hash_key is None:
            return list(_table_items(self))
        with _index_lock:
            return list(_buckets(self, attribute).get(hash_key.value, {}).values())

    def sorted_items(self: Any, hash_key_attrs: list[str], range_key_attrs: list[Any], items: list[Any]) -> list[Any]:
        attributes = self._generate_attr_to_sort_by(hash_key_attrs, range_key_attrs)
        items.sort(key=lambda item: tuple([item.attrs[name].cast_value for name in attributes]))
        return items

    Table.query = query_by_partition
    Table.all_items = items_in_scope
    Table.sorted_items = sorted_items
    _writes_keep_the_buckets()


#: Guards every table's buckets (`_buckets`) and the writes that change them.
_index_lock = threading.RLock()
#: Table -> index partition-key attribute -> (value -> {item key: item}, item key -> value). Kept
#: outside the table, so that a saved state (decision 0038) holds none: a restored table builds its own.
_kept_buckets: weakref.WeakKeyDictionary[Any, dict[str, tuple[dict[Any, Any], dict[Any, Any]]]] = (
    weakref.WeakKeyDictionary()
)


def _table_items(table: Any) -> Any:
    if not table.range_key_attr:
        return table.items.values()
    return (item for partition in table.items.values() for item in partition.values())


def _bucket_value(item: Any, attribute: str) -> Any:
    """The value an index partition key `attribute` groups the item under; None if it has none."""
    value = item.attrs.get(attribute)
    if value is None or not isinstance(value.value, str | bytes):
        return None
    return value.value


def _item_key(hash_value: Any, range_value: Any) -> tuple[Any, Any]:
    return (hash_value.value, range_value.value if range_value is not None else None)


def _buckets(table: Any, attribute: str) -> dict[Any, dict[tuple[Any, Any], Any]]:
    """The table's items grouped by their value of `attribute`, in the table's order; built on the
    first Query that needs them, then kept by the writes (`_rebucket`). Call under `_index_lock`."""
    kept = _kept_buckets.setdefault(table, {})
    if attribute not in kept:
        buckets: dict[Any, dict[tuple[Any, Any], Any]] = {}
        where: dict[tuple[Any, Any], Any] = {}
        for item in _table_items(table):
            value = _bucket_value(item, attribute)
            if value is not None:
                key = _item_key(item.hash_key, item.range_key)
                buckets.setdefault(value, {})[key] = item
                where[key] = value
        kept[attribute] = (buckets, where)
    return kept[attribute][0]


def _rebucket(table: Any, hash_value: Any, range_value: Any) -> None:
    """Put the item at this key (or its absence) in the table's buckets, after a write. An item whose
    value is unchanged keeps its place. Call under `_index_lock`."""
    kept = _kept_buckets.get(table)
    if not kept:
        return
    partition = table.items.get(hash_value)
    item = partition if not table.range_key_attr else (partition or {}).get(range_value)
    key = _item_key(hash_value, range_value if table.range_key_attr else None)
    for attribute, (buckets, where) in kept.items():
        old = where.get(key)
        new = _bucket_value(item, attribute) if item is not None else None
        if old is not None and old != new:
            bucket = buckets[old]
            bucket.pop(key, None)
            if not bucket:
                del buckets[old]
        if new is None:
            where.pop(key, None)
        else:
            buckets.setdefault(new, {})[key] = item
            where[key] = new


def _writes_keep_the_buckets() -> None:
    from moto.dynamodb import models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    put, delete, update = Table.put_item, Table.delete_item, models.DynamoDBBackend.update_item

    def put_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _index_lock:
            item = put(self, *args, **kwargs)
            _rebucket(self, item.hash_key, item.range_key)
            return item

    def delete_item(self: Any, hash_key: Any, range_key: Any) -> Any:
        with _index_lock:
            try:
                return delete(self, hash_key, range_key)
            finally:
                _rebucket(self, hash_key, range_key)

    def update_item(self: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        with _index_lock:
            try:
                return update(self, table_name, key, *args, **kwargs)
            finally:
                table = self.tables.get(table_name)
                if table is not None and isinstance(key, dict) and table.hash_key_attr in key:
                    ranged = table.range_key_attr and table.range_key_attr in key
                    range_value = DynamoType(key[table.range_key_attr]) if ranged else None
                    _rebucket(table, DynamoType(key[table.hash_key_attr]), range_value)

    Table.put_item = put_item
    Table.delete_item = delete_item
    models.DynamoDBBackend.update_item = update_item


def _index_hash_attribute(table: Any, index_name: str) -> str | None:
    """The attribute of the index's partition key, if it has exactly one."""
    for index in table.indexes + table.global_indexes:
        if index.name == index_name:
            hashes = [key["AttributeName"] for key in index.schema if key["KeyType"] == "HASH"]
            return hashes[0] if len(hashes) == 1 else None
    return None


def _transactions_save_their_items_only() -> None:
    import copy

    from moto.dynamodb import models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    class TablesKept:
        """Stands in for the `copy` module in moto's DynamoDB backend: a table is not copied (the
        transaction below saves its own items instead), anything else is."""

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    models.copy = TablesKept  # type: ignore[assignment]
    transact = models.DynamoDBBackend.transact_write_items

    def written_items(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any, Any]]:
        saved = []
        for entry in transact_items:
            operation = next(iter(entry.values()), {})
            table = backend.tables.get(operation.get("TableName"))
            key = operation.get("Item") or operation.get("Key") or {}
            if table is None or table.hash_key_attr not in key:
                continue
            if table.range_key_attr and table.range_key_attr not in key:
                continue
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            saved.append((table, hash_value, range_value, copy.deepcopy(table.get_item(hash_value, range_value))))
        return saved

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        with _index_lock:
            saved = written_items(self, transact_items)
            try:
                transact(self, transact_items)
            except Exception:
                for table, hash_value, range_value, item in reversed(saved):
                    if item is None:
                        table.delete_item(hash_value, range_value)
                    elif range_value is None:
                        table.items[hash_value] = item
                    else:
                        table.items.setdefault(hash_value, {})[range_value] = item
                    _rebucket(table, hash_value, range_value)
                raise

    models.DynamoDBBackend.transact_write_items = transact_write_items


def _backend_per_host_kept() -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    find = DomainDispatcherApplication.get_backend_for_host
    found: dict[str | None, Any] = {}

    def backend_for_host(self: Any, host: str | None) -> Any:
        if host not in found:
            found[host] = find(self, host)
        return found[host]

    DomainDispatcherApplication.get_backend_for_host = backend_for_host


#: Structure shapes whose plan `_serializer_picks_kept` keeps before it starts again (the shapes of
#: every AWS operation the stack calls make a few thousand).
_PICKS_KEPT = 50_000


def _serializer_picks_kept() -> None:
    from moto.core import serialize

    serializer = serialize.ResponseSerializer

    def members_plan(self: Any, shape: Any) -> list[tuple[str, Any, tuple[str, ...]]] | None:
        """Each member of a structure shape with the keys of a plain dict that may hold it, in
        moto's order; None if one of them is a dotted path into the value (left to moto)."""
        plan = []
        for member_key, member_shape in shape.members.items():
            member_shape.parent = shape
            context = serialize.AttributePickerContext(
                obj={},
                key=member_key,
                shape=member_shape,
                operation_model=self.operation_model,
                service_model=self.operation_model.service_model,
                key_path="",
            )
            keys = tuple(self._value_picker.get_possible_keys(context))
            if any("." in k for k in keys):
                return None
            plan.append((member_key, member_shape, keys))
        return plan

    def structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        picker = self._value_picker
        # Only a plain dict: an object's keys may also depend on its class name and its Meta, and a
        # response transformer may give a value to a member that has none.
        plan = None
        if (
            type(value) is dict
            and type(picker) is serialize.XFormedAttributePicker
            and not picker.response_transformers
            and picker.alias_providers is serialize.DEFAULT_ALIAS_PROVIDERS
        ):
            found = plans.get(id(shape))
            if found is None:
                if len(plans) > _PICKS_KEPT:
                    plans.clear()
                # The shape is kept with its plan, so that its id is not taken by another.
                found = plans[id(shape)] = (members_plan(self, shape), shape)
            plan = found[0]
        if plan is None:
            serialized_structure(self, serialized, value, shape, key)
            return
        wrapper = self.MAP_TYPE() if key else serialized
        for member_key, member_shape, keys in plan:
            for possible in keys:
                if possible in value:
                    member_value = value[possible]
                    if member_value is not None:
                        self._serialize(wrapper, member_value, member_shape, member_key)
                    break
        if key:
            self._default_serialize(serialized, wrapper, shape, key)

    plans: dict[int, tuple[list[tuple[str, Any, tuple[str, ...]]] | None, Any]] = {}
    serialized_structure = serializer._serialize_type_structure
    structure.__wrapped__ = serialized_structure  # type: ignore[attr-defined]
    serializer._serialize_type_structure = structure


def _handler_methods_kept() -> None:
    import functools

    from moto.core import responses

    responses.method_names_from_class = functools.cache(responses.method_names_from_class)


#: State machine definitions whose parse tree `_state_machines_parsed_once` keeps (each published
#: version of each issue type is one).
_TREES_KEPT = 256


def _state_machines_parsed_once() -> None:
    """moto parses a definition with ANTLR when a state machine is created and again at the start of
    every execution: a fifth of the moto server's busy time over a demo month. The parse tree depends
    on the text alone and moto's preprocessor only reads it, so the tree is kept per definition. The
    preprocessor still builds each execution's own evaluation components from it, as they hold the
    execution's state."""
    from moto.stepfunctions.parser.asl.parse import asl_parser

    parse = asl_parser.AmazonStateLanguageParser.parse

    @functools.lru_cache(maxsize=_TREES_KEPT)
    def tree_of(definition: str) -> Any:
        return parse(definition)[1]

    def parse_once(definition: str) -> tuple[Any, Any]:
        tree = tree_of(definition)
        return asl_parser.Preprocessor().visit(tree), tree

    asl_parser.AmazonStateLanguageParser.parse = staticmethod(parse_once)


#: moto's modules that create a boto3 client for a Step Functions service task.
_SERVICE_TASK_MODULES = (
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_dynamodb",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_events",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sns",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sqs",
)
#: JSONPath texts whose parse `_step_functions_clients_and_paths_kept` keeps.
_PATHS_KEPT = 4096


def _step_functions_clients_and_paths_kept() -> None:
    import importlib

    from jsonpath_ng import parse as parse_path
    from jsonpath_ng.ext import parse as parse_extended_path
    from moto.core.models import botocore_stubber
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.utils import boto_client, json_path

    create = boto_client.boto_client_for
    clients: dict[tuple[str, str, bool], Any] = {}
    lock = threading.Lock()

    def client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        """One client per region and service (and whether moto intercepts in-process): the
        credentials moto passes are its own constants, whatever `state_credentials` holds."""
        key = (region, service, bool(botocore_stubber.enabled))
        with lock:
            if key not in clients:
                clients[key] = create(region, service, state_credentials)
            return clients[key]

    boto_client.boto_client_for = client_for
    for name in _SERVICE_TASK_MODULES:
        module = importlib.import_module(name)
        if getattr(module, "boto_client_for", None) is create:
            module.boto_client_for = client_for
    json_path.parse = functools.lru_cache(maxsize=_PATHS_KEPT)(parse_extended_path)
    result_path.parse = functools.lru_cache(maxsize=_PATHS_KEPT)(parse_path)
