"""Fixes to moto 5.2.5 that the embedded stack and the tests need, applied once per process.

Neither changes what an AWS call answers; they remove a race and a cost that AWS does not have:

- An execution is listed as RUNNING before its worker has an environment, so a SendTaskSuccess
  for another execution at that instant fails with AttributeError (in-process; the moto server
  answers 500 and botocore retries). Such an execution holds no token yet, so it is skipped.
- Every DynamoDB Query sorts the whole table and then filters it, so a Query costs
  O(n log n) in the table's size: with a demo month (about 100,000 items) one Query takes a
  second. A Query on the table now reads its own partition only, and a Query on an index
  filters the items without sorting them first (the index's results are sorted afterwards, as before).
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
        _query.scope = ("index",) if index_name else ("partition", hash_key)
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
        if not self.range_key_attr:
            return list(self.items.values())
        return [item for partition in self.items.values() for item in partition.values()]

    Table.query = query_by_partition
    Table.all_items = items_in_scope
