"""Fixes to moto 5.2.5 that the embedded stack and the tests need, applied once per process.

None of them changes what an AWS call answers; they remove a race and costs that AWS does not have:

- An execution is listed as RUNNING before its worker has an environment, so a SendTaskSuccess
  for another execution at that instant fails with AttributeError (in-process; the moto server
  answers 500 and botocore retries). Such an execution holds no token yet, so it is skipped.
- Every DynamoDB Query sorts the whole table and then filters it, so a Query costs
  O(n log n) in the table's size: with a demo month (about 100,000 items) one Query takes a
  second. A Query on the table now reads its own partition only, and a Query on an index picks
  its partition's items in one cheap pass, without sorting the table first (its results are
  sorted afterwards, as before).
- Every TransactWriteItems deep-copies the whole table once per item it writes, to roll back
  on failure: a transaction costs O(n) in the table's size, 1.5 s per new issue once a demo
  month has filled the table. The transaction now saves only the items it writes and puts them
  back when it is cancelled.
- The moto server finds the backend of every request by matching its host against several
  hundred URL patterns, under a lock. The answer for a host never changes, so it is kept.
"""

from __future__ import annotations

import threading
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
            return sorted(partition.values(), key=lambda item: item.range_key)
        items = self.items.values() if not self.range_key_attr else (i for p in self.items.values() for i in p.values())
        _, attribute, hash_key = scope
        if attribute is None or hash_key is None:
            return list(items)
        wanted = hash_key.value
        return [item for item in items if (value := item.attrs.get(attribute)) is not None and value.value == wanted]

    Table.query = query_by_partition
    Table.all_items = items_in_scope


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
