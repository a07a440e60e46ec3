"""Intake: validation that names every bad field, and idempotent retries."""

from datetime import date, timedelta

GOOD_FIELDS = {"store": "york-coney-street", "incident_date": "2026-11-01", "what_happened": "Ignored and insulted."}


def test_every_bad_field_is_named(stack):
    tomorrow = (date.today() + timedelta(days=3)).isoformat()
    response = stack.post(
        "/issues",
        {
            "type": "rude-staff",
            "customer": {"email": "not-an-address"},
            "fields": {"incident_date": tomorrow, "what_happened": "short", "colour": "red"},
        },
    )
    assert response.status_code == 400
    errors = {e["field"]: e["message"] for e in response.json_body["errors"]}
    assert errors == {
        "customer.email": "must be an email address",
        "fields.colour": "unknown field",
        "fields.store": "is required",
        "fields.incident_date": "must not be in the future",
        "fields.what_happened": "must be at least 10 characters",
    }


def test_pattern_and_unknown_type_and_bad_json(stack):
    bad_order = stack.open_issue("late-delivery", {"order_number": "12", "promised_date": "2026-11-01"}, "a@b.co")
    assert bad_order.status_code == 400
    assert bad_order.json_body["errors"][0]["field"] == "fields.order_number"

    unknown = stack.open_issue("broken-toaster", {}, "a@b.co")
    assert unknown.status_code == 400
    [error] = unknown.json_body["errors"]
    assert error["field"] == "type" and "unknown issue type 'broken-toaster'" in error["message"]
    assert "rude-staff" in error["message"]

    no_type = stack.post("/issues", {"customer": {"email": "a@b.co"}, "fields": {}})
    assert no_type.json_body["errors"] == [{"field": "type", "message": "is required"}]

    not_json = stack.post("/issues", "{oops")
    assert not_json.status_code == 400
    assert not_json.json_body["errors"][0]["field"] == "body"


def test_issue_types_are_listed_with_their_fields(stack):
    response = stack.get("/issue-types")
    assert response.status_code == 200
    types = {t["id"]: t for t in response.json_body["issue_types"]}
    assert {"rude-staff", "late-delivery", "demo-quick"} <= set(types)
    store = types["rude-staff"]["fields"][0]
    assert store == {
        "id": "store",
        "label": "Store",
        "type": "choice",
        "required": True,
        "help": "The store where it happened.",
        "options": [
            {"value": "leeds-briggate", "label": "Leeds Briggate"},
            {"value": "york-coney-street", "label": "York Coney Street"},
            {"value": "manchester-arndale", "label": "Manchester Arndale"},
        ],
    }
    decision_free = types["late-delivery"]["fields"][0]
    assert decision_free["pattern"] == "^[A-Z]{2}[0-9]{6}$"


def test_a_retried_request_returns_the_first_answer_and_creates_nothing(stack):
    headers = {"Idempotency-Key": "retry-7f3a"}
    first = stack.open_issue("rude-staff", GOOD_FIELDS, "Retry@Example.com", **headers)
    second = stack.open_issue("rude-staff", GOOD_FIELDS, "Retry@Example.com", **headers)
    assert first.status_code == 201 and second.status_code == 201
    assert second.json_body == first.json_body
    history = stack.issue(first.json_body["id"])["customer_history"]
    assert history == []  # the customer has no other issue
    assert stack.execution_status(first.json_body["id"]) == "RUNNING"

    changed = stack.open_issue(
        "rude-staff", {**GOOD_FIELDS, "store": "manchester-arndale"}, "retry@example.com", **headers
    )
    assert changed.status_code == 409


def test_the_customer_is_found_by_email_whatever_its_case(stack):
    first = stack.open_issue("rude-staff", GOOD_FIELDS, "Case.Test@Example.COM")
    second = stack.open_issue("rude-staff", GOOD_FIELDS, "case.test@example.com")
    one = stack.issue(first.json_body["id"])["customer"]
    two = stack.issue(second.json_body["id"])["customer"]
    assert one == two and one["email"] == "case.test@example.com"
