"""What one page of an issue search costs in DynamoDB, on moto in-process.

    python -m bench.issue_search [--issues 2000] [--seed 7]

Writes N issues of every public seeded type over 60 days (both channels, two in three resolved,
customers' words in English, German, French and Turkish) through the DynamoDB issues adapter, so
that each has its search entries, then runs a few searches as a supervisor (who sees every issue)
and as `lee` of logistics (whose visibility check reads the tasks of issues his role is not named
on), and prints, for the first two pages of each, the requests to DynamoDB and the items they read
(a Query's ScannedCount, a BatchGetItem's items, a GetItem's item). Counts, unlike timings, are
stable between runs.
"""

from __future__ import annotations

import argparse
import collections
import random
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.endpoint

from harness import in_process

CALLS: collections.Counter[str] = collections.Counter()
ITEMS: collections.Counter[str] = collections.Counter()
_original = botocore.endpoint.Endpoint.make_request

TYPES = ("general-enquiry", "late-delivery", "damaged-product", "billing-dispute", "rude-staff", "service-outage")
WORDS = {
    "en": [
        "parcel",
        "late",
        "broken",
        "screen",
        "refund",
        "invoice",
        "manager",
        "rude",
        "waiting",
        "courier",
        "box",
        "missing",
        "charge",
        "twice",
    ],
    "de": ["paket", "verspätet", "kaputt", "rechnung", "gebühr", "fahrer", "filiale", "müde", "warten", "lieferung"],
    "fr": ["colis", "retard", "cassé", "facture", "remboursement", "livreur", "magasin", "gérant", "attente"],
    "tr": ["kargo", "gecikti", "kırık", "fatura", "iade", "müdür", "mağaza", "bekliyorum", "teslimat"],
}
FIRST = ["Ada", "Bo", "Jean", "Zeynep", "Hans", "Marie", "Ömer", "Élodie", "Sam", "Lee", "Rita", "Kai"]
LAST = ["Lovelace", "Jönsson", "Dupont", "Yılmaz", "Müller", "Martin", "Öztürk", "Leclerc", "Smith", "Wong"]
SEARCHES = [
    {},
    {"type": "late-delivery"},
    {"status": "open"},
    {"type": "rude-staff", "status": "open", "channel": "email"},
    {"q": "parcel"},
    {"q": "kargo gecikti"},
    {"q": "zzrare"},
    {"name": "yilmaz"},
    {"opened_after": "{week_ago}"},
]


def _counting(self: Any, operation_model: Any, request_dict: dict[str, Any]) -> Any:
    """Every request boto3 and pynamodb send, and the items its answer read."""
    answer = _original(self, operation_model, request_dict)
    if (
        threading.current_thread() is threading.main_thread()
        and operation_model.service_model.service_name == "dynamodb"
    ):
        name, parsed = operation_model.name, answer[1]
        CALLS[name] += 1
        if name == "Query":
            ITEMS[name] += int(parsed.get("ScannedCount", 0))
        elif name == "BatchGetItem":
            ITEMS[name] += sum(len(items) for items in parsed.get("Responses", {}).values())
        elif name == "GetItem":
            ITEMS[name] += 1 if parsed.get("Item") else 0
    return answer


def _write_issues(count: int, rng: random.Random, now: datetime) -> dict[str, str]:
    """N issues with their customers; returns one customer's email and one reference to look up."""
    from chalicelib.adapters.dynamodb.issues import IssueRepository
    from chalicelib.domain.issues import Customer, Issue, TimelineEvent, new_id, new_reference
    from chalicelib.services.records import NewIssue

    repository = IssueRepository()
    customers = [
        Customer(new_id(), f"customer{n}@example.com", f"{rng.choice(FIRST)} {rng.choice(LAST)}") for n in range(400)
    ]
    used: set[str] = set()
    last: Issue | None = None
    for n in range(count):
        customer = rng.choice(customers)
        language = rng.choice(list(WORDS))
        text = " ".join(rng.choices(WORDS[language], k=8)) + (" zzrare" if n == 0 else "")
        opened = now - timedelta(days=60) + timedelta(seconds=60 * 24 * 3600 * n / count)
        issue = Issue.open(
            id=new_id(),
            reference=new_reference(),
            type_id=rng.choice(TYPES),
            type_version=1,
            channel="web" if rng.random() < 0.65 else "email",
            customer_id=customer.id,
            fields={"subject": text[:30], "message": text},
            created_at=opened,
        )
        event = TimelineEvent(opened, "issue_opened", "opened")
        repository.create(NewIssue(issue, customer, customer.id not in used, event, None, ""))
        used.add(customer.id)
        if rng.random() < 2 / 3:
            repository.change(
                issue, lambda current, at=opened: current.resolve(at + timedelta(hours=5), one_contact=True)
            )
        last = issue
    assert last is not None
    return {"email": customers[0].email, "reference": last.reference}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    now = datetime.now(UTC)
    with in_process(stage="bench") as stack:
        from chalicelib.domain.agents import Agent

        lookups = _write_issues(args.issues, rng, now)
        agents = {
            "sue": Agent("sue", "sue@caseflow.test", frozenset({"supervisor"})),
            "lee": Agent("lee", "lee@caseflow.test", frozenset({"logistics"})),
        }
        searches = [*SEARCHES, {"email": lookups["email"]}, {"reference": lookups["reference"]}]
        week_ago = (now - timedelta(days=7)).isoformat()
        botocore.endpoint.Endpoint.make_request = _counting
        print(f"DynamoDB requests and items read per search page, over {args.issues} issues")
        print(f"{'agent':<5} {'search':<48} {'page':>4} {'found':>5} {'requests':>8} {'items':>6}  by request")
        for username, agent in agents.items():
            for search in searches:
                params = {k: v.replace("{week_ago}", week_ago) for k, v in search.items()}
                cursor = None
                for page_number in (1, 2):
                    CALLS.clear()
                    ITEMS.clear()
                    page = stack.services.issue_search.page(agent, {**params, **({"cursor": cursor} if cursor else {})})
                    described = "&".join(f"{k}={v[:19]}" for k, v in search.items() if k) or "(newest)"
                    detail = ", ".join(f"{name} {count}/{ITEMS[name]}" for name, count in sorted(CALLS.items()))
                    print(
                        f"{username:<5} {described:<48} {page_number:>4} {len(page.issues):>5} "
                        f"{sum(CALLS.values()):>8} {sum(ITEMS.values()):>6}  {detail}"
                    )
                    if not (cursor := page.cursor):
                        break
        botocore.endpoint.Endpoint.make_request = _original


if __name__ == "__main__":
    main()
