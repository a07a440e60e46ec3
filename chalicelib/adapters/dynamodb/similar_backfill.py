"""Keep the vectors of issues resolved before similar resolved issues existed, or whose vector a
failure left unwritten (decision 0043), in the table the environment names:

    python -m chalicelib.adapters.dynamodb.similar_backfill [type id ...]

Reads each current type's resolved issues from the opened-issues index (no Scan), encodes them in
batches and puts their vectors; idempotent, so it may be run again at any time.
"""

from __future__ import annotations

import sys

from chalicelib.adapters.dynamodb.issue_search import IssueSearchRepository
from chalicelib.bootstrap import services


def main(argv: list[str] | None = None) -> None:
    built = services()
    wanted = list(argv if argv is not None else sys.argv[1:])
    type_ids = wanted or [t.id for t in built.issue_types.list_current()]
    kept = built.similar_issues.backfill(IssueSearchRepository(), type_ids)
    print(f"kept the vectors of {kept} resolved issues of {len(type_ids)} types in {built.config.table_name}")


if __name__ == "__main__":
    main()
