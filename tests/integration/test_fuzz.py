"""Every route of the app, fed malformed and hostile input: bodies, headers, path parameters and
form fields. Whatever comes in, the answer is never a 5xx and never hangs, a JSON 400 names the
field, and the stack still serves normal requests afterwards.

Hypothesis draws the input (derandomized, so a run is repeatable); a fixed corpus adds the shapes
that once broke us. The counts are printed at the end of the module (`pytest -s`).
"""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import app
from chalicelib.adapters.dynamodb.tasks import TaskRepository
from chalicelib.web_tokens import csrf

#: Long enough for the slowest honest request (an hourly sweep); a request still running is hung.
HUNG_SECONDS = 60
EXAMPLES_PER_ROUTE = 25
_FORM = "application/x-www-form-urlencoded"
ROUTES = sorted((path, method) for path, methods in app.routes.items() for method in methods)
FORM_ROUTES = {
    (path, method)
    for path, methods in app.routes.items()
    for method, entry in methods.items()
    if _FORM in (entry.content_types or ())
}
#: What a probe from outside would try: control characters, surrogates, bidi marks, NUL, emoji, markup.
HOSTILE_TEXT = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "line\r\nBcc: victim@example.com",
    "\r\n\r\n",
    "\u202eevil\u202c",
    "\u200f\u200e",
    "😀" * 50,
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "{{ 7*7 }}",
    "../../etc/passwd",
    "%00%ff",
    "é" * 600,
    "NaN",
    "-Infinity",
    "1e400",
    "9" * 5000,
    "CF-00000",
    "x" * 25_000,
]
KEYS = [
    "type",
    "customer",
    "email",
    "name",
    "fields",
    "text",
    "body",
    "channel",
    "reason",
    "username",
    "password",
    "from",
    "to",
    "segment",
    "id",
    "steps",
    "calendar",
    "calendars",
    "subject",
    "message",
    "amount_disputed",
    "what_happened",
    "store",
    "incident_date",
    "comment",
    "score",
    csrf.FIELD,
    "customer-email",
    "customer-name",
    "website",
]
text = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=40))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    text,
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.one_of(st.sampled_from(KEYS), text), children, max_size=5)
    ),
    max_leaves=12,
)
#: Bodies no JSON library writes but anyone can send.
RAW_BODIES = [
    b"",
    b"{",
    b"null",
    b"[]",
    b'"just a string"',
    b"[" * 10_000 + b"]" * 10_000,
    b'{"a":' * 5_000 + b"1" + b"}" * 5_000,
    b'{"text": ' + b"9" * 5_000 + b"}",
    b'{"amount_disputed": NaN}',
    b'{"x": Infinity, "y": -Infinity}',
    b'{"text": "\\ud800"}',
    b'{"body": "\\udc00 lone"}',
    b"\xff\xfe\x00garbage",
    b'{"text": "' + b"x" * 1_000_000 + b'"}',
    b'{"customer": {"email": "a@b.co"}, "text": "\xc3\x28"}',
]


class Tally:
    """What the fuzzing sent and got back, for the printed summary and the assertions."""

    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()
        self.failures: list[str] = []
        self.lock = threading.Lock()

    def record(self, label: str, status: int, body: str) -> None:
        with self.lock:
            self.statuses[status] += 1
            if status >= 500:
                self.failures.append(f"{label} -> {status}: {body[:300]}")


TALLY = Tally()
_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fuzz")


@pytest.fixture(scope="module")
def material(stack):
    """Real ids, references and signed links, so that hostile input also reaches deep code."""
    from chalicelib.bootstrap import services

    opened = stack.open_issue(
        "rude-staff",
        {"store": "leeds-briggate", "incident_date": "2026-11-20", "what_happened": "Fuzzing material, long enough."},
        "fuzz-material@example.com",
    ).json_body
    task = stack.pump_until(lambda: stack.task_for("sam", opened["id"]), what="the store manager's task")
    found = services()
    return {
        "issue_id": opened["id"],
        "reference": opened["reference"],
        "task_id": task["id"],
        "token": found.status_links.link_for(opened["id"]).rsplit("/", 1)[-1],
        "task_token": found.task_links.link_for(TaskRepository().get(opened["id"], task["step"])).rsplit("/", 1)[-1],
        "survey_token": found.surveys.link(opened["id"], "csat", 2).rsplit("/", 1)[-1],
        "type_id": "rude-staff",
        "email": "fuzz-material@example.com",
        "key": "attachments/none",
    }


@pytest.fixture(scope="module")
def auth(stack):
    return {"admin": stack.token("ada"), "agent": stack.token("alice"), "ops": stack.token("omar")}


def _send(stack, method: str, path: str, headers: dict[str, str], body: bytes | str | None, label: str) -> Any:
    call = getattr(stack.client.http, method.lower())
    kwargs = {"headers": headers} if method in ("GET", "DELETE") else {"headers": headers, "body": body or b""}
    future = _POOL.submit(call, path, **kwargs)
    try:
        response = future.result(timeout=HUNG_SECONDS)
    except FutureTimeout:
        TALLY.record(label, 599, "hung")
        raise AssertionError(f"{label}: no answer in {HUNG_SECONDS} s") from None
    raw = response.body if isinstance(response.body, bytes) else str(response.body or "").encode()
    TALLY.record(label, response.status_code, raw.decode("utf-8", "replace"))
    return response


def _fill(path: str, values: dict[str, str]) -> str:
    for name in [p[1:-1] for p in path.split("/") if p.startswith("{")]:
        path = path.replace(
            "{" + name + "}", urllib.parse.quote(values.get(name, "x").encode("utf-8", "surrogatepass"), safe="")
        )
    return path


def _check(response: Any, label: str) -> None:
    assert response.status_code < 500, f"{label} -> {response.status_code}: {str(response.body)[:500]}"
    content_type = {k.lower(): v for k, v in response.headers.items()}.get("content-type", "")
    if response.status_code == 400 and content_type.startswith("application/json"):
        errors = json.loads(response.body)["errors"]
        assert errors and all(e["field"] and e["message"] for e in errors), label


def _path_values(material: dict[str, str], hostile: str) -> dict[str, str]:
    """Each path parameter as the real thing, the real thing tampered, or hostile text."""
    tampered = {name: value + hostile for name, value in material.items()}
    return {
        "issue_id": tampered["issue_id"] if hostile else material["issue_id"],
        "task_id": hostile or material["task_id"],
        "reference": hostile or material["reference"],
        "token": tampered["token"],
        "type_id": hostile or material["type_id"],
        "email": hostile or material["email"],
    }


def _page_token(stack, path: str, cookie: str) -> str | None:
    """The CSRF token of the form a browser holding `cookie` gets from the page at `path`, so
    that drawn form fields get past the forgery check into the service."""
    page = stack.client.http.get(path, headers={"Cookie": f"{csrf.COOKIE}={cookie}"})
    found = re.search(rf'name="{csrf.FIELD}" value="([^"]+)"', page.body.decode("utf-8", "replace"))
    return found.group(1) if found else None


def _token_for(path: str, material: dict[str, str]) -> str:
    if path.startswith("/t/"):
        return material["task_token"]
    if path.startswith("/survey/"):
        return material["survey_token"]
    return material["token"]


@pytest.mark.parametrize(("path", "method"), ROUTES, ids=[f"{m} {p}" for p, m in ROUTES])
def test_no_route_answers_malformed_input_with_a_server_error(stack, material, auth, path, method):
    """Per route: the fixed corpus, then drawn bodies, headers, path parameters and form fields."""
    is_form = (path, method) in FORM_ROUTES
    cookie = csrf.new_cookie()
    base_headers = {"Content-Type": _FORM if is_form else "application/json", "Cookie": f"{csrf.COOKIE}={cookie}"}
    for who in ("admin", "agent", None):
        headers = {**base_headers, **({"Authorization": f"Bearer {auth[who]}"} if who else {})}
        for raw in RAW_BODIES if method != "GET" else [None]:
            for hostile in ("", "\udcff", "é", "/../x"):
                values = {**_path_values(material, hostile)}
                values["token"] = _token_for(path, material) + hostile
                label = f"{method} {path} as {who} with {(raw or b'')[:30]!r} and {hostile!r} in the path"
                _check(_send(stack, method, _fill(path, values), headers, raw, label), label)

    page_token = _page_token(
        stack, _fill(path, {**_path_values(material, ""), "token": _token_for(path, material)}), cookie
    )

    @settings(
        max_examples=EXAMPLES_PER_ROUTE,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        body=json_values,
        form=st.dictionaries(st.sampled_from(KEYS), text, max_size=6),
        hostile=text,
        who=st.sampled_from(["admin", "agent", "ops", None]),
        header=st.sampled_from(["Authorization", "Cookie", "Idempotency-Key", "Content-Type", "Accept-Language"]),
        header_value=text,
        query=st.dictionaries(st.sampled_from(["from", "to", "key", "format", "type", "next"]), text, max_size=3),
        genuine=st.booleans(),
    )
    def probe(body, form, hostile, who, header, header_value, query, genuine):
        genuine = genuine and bool(page_token)
        values = _path_values(material, "" if genuine else hostile)
        values["token"] = _token_for(path, material) + ("" if genuine else hostile)
        headers = {**base_headers, **({"Authorization": f"Bearer {auth[who]}"} if who else {})}
        headers[header] = header_value if header != "Authorization" else f"Bearer {header_value}"
        if is_form:
            forged = form.get(csrf.FIELD, csrf.token("x", cookie, "y") + hostile)
            form = {**form, csrf.FIELD: page_token if genuine else forged}
            raw: bytes | str = urllib.parse.urlencode({k: v.encode("utf-8", "surrogatepass") for k, v in form.items()})
        else:
            raw = json.dumps(body)
        target = _fill(path, values)
        if query:
            target += "?" + urllib.parse.urlencode({k: v.encode("utf-8", "surrogatepass") for k, v in query.items()})
        label = f"{method} {target[:120]} as {who}, {header}={header_value[:40]!r}, body {str(raw)[:200]!r}"
        _check(_send(stack, method, target, headers, raw, label), label)

    probe()


def test_after_the_fuzzing_the_stack_still_serves_a_customer_and_an_agent(stack):
    opened = stack.open_issue(
        "rude-staff",
        {"store": "leeds-briggate", "incident_date": "2026-11-20", "what_happened": "After the storm, all fine."},
        "after-fuzz@example.com",
    )
    assert opened.status_code == 201, opened.body
    task = stack.pump_until(lambda: stack.task_for("sam", opened.json_body["id"]), what="the task after fuzzing")
    assert task["step"] == "manager_opinion"
    stack.drain()
    stack.run_jobs()  # the training runs the fuzzing asked for, so that the slot is free again
    served = sum(TALLY.statuses.values())
    print(f"\nfuzzed {served} requests over {len(ROUTES)} routes: {dict(sorted(TALLY.statuses.items()))}")
    assert not TALLY.failures, "\n".join(TALLY.failures[:20])
