"""Count the AWS API calls Caseflow makes per request, on moto in-process.

    python -m bench.aws_calls [--issues N]

Prints the calls (service.operation) of one intake, averaged over N new customers' issues of the
rude-staff type. Counts, unlike timings, are stable between runs.
"""

from __future__ import annotations

import argparse
import collections
import threading
from datetime import date
from typing import Any

import botocore.endpoint

from harness import in_process

CALLS: collections.Counter[str] = collections.Counter()
_original = botocore.endpoint.Endpoint.make_request


def _counting(self: Any, operation_model: Any, request_dict: dict[str, Any]) -> Any:
    """Every request boto3 and pynamodb send goes through an Endpoint, so all are counted.

    Only the request's own thread counts: moto's Step Functions interpreter runs in others.
    """
    if threading.current_thread() is threading.main_thread():
        CALLS[f"{operation_model.service_model.service_name}.{operation_model.name}"] += 1
    return _original(self, operation_model, request_dict)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=20)
    args = parser.parse_args()
    totals: dict[str, collections.Counter[str]] = {}
    with in_process(stage="bench") as stack:
        botocore.endpoint.Endpoint.make_request = _counting
        for index in range(args.issues):
            fields = {
                "store": "manchester-arndale",
                "incident_date": date.today().isoformat(),
                "what_happened": "Shouted at me.",
            }
            CALLS.clear()
            response = stack.open_issue("rude-staff", fields, f"bench{index}@example.com", name=None)
            assert response.status_code == 201, response.body
            totals.setdefault("intake (POST /issues)", collections.Counter()).update(CALLS)
        botocore.endpoint.Endpoint.make_request = _original
    print(f"AWS calls per request, mean over {args.issues} issues")
    for name, counter in totals.items():
        print(f"\n{name}: {sum(counter.values()) / args.issues:.2f}")
        for call, count in sorted(counter.items()):
            print(f"  {call:<40} {count / args.issues:.2f}")


if __name__ == "__main__":
    main()
