"""An issue's workflow execution carries only what its Choice states read, however long the answers.

Step Functions refuses an execution's input, a state's data or a task's output beyond 256 KiB;
moto enforces none of it, so the sizes are measured on the execution's history.
"""

from __future__ import annotations

import json

from tests.integration.conftest import sent_emails

#: 20,000 characters (the most a long text takes) of four UTF-8 bytes each: 80 kB an answer.
LONG = "\U0001f9fe" * 20_000
SMALL_STATE = 8 * 1024


def long_answer(label: str) -> str:
    return label + LONG[len(label) :]


def utf8_size(value: object) -> int:
    return len(json.dumps(value, ensure_ascii=False).encode())


def data_sizes(stack, execution_arn: str) -> list[int]:
    """The size of every input and output the execution's history shows, the execution's own too."""
    sizes = []
    for page in stack.sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
        for event in page["events"]:
            for key, details in event.items():
                if key.endswith("EventDetails") and isinstance(details, dict):
                    sizes += [len(details[k].encode()) for k in ("input", "output") if isinstance(details.get(k), str)]
    described = stack.sfn.describe_execution(executionArn=execution_arn)
    return sizes + [len(described[k].encode()) for k in ("input", "output") if k in described]


def test_a_billing_dispute_with_long_answers_keeps_its_execution_state_small_and_branches_right(stack):
    fields = {
        "invoice_number": "INV-300300",
        "amount_disputed": 250,
        "reason": "wrong_amount",
        "details": long_answer("details:"),
    }
    opened = stack.open_issue("billing-dispute", fields, "long.answers@example.com")
    assert opened.status_code == 201, opened.body
    issue_id = opened.json_body["id"]
    review = {"finding": "upheld", "refund_amount": 250, "explanation": long_answer("explanation:")}
    approval = {"approved": True, "note": long_answer("note:")}
    reply = long_answer("reply:")
    outcome = {"outcome": long_answer("outcome:")}
    assert utf8_size([fields, review, approval, reply, outcome]) > 300 * 1024

    stack.complete("bella", stack.pump_until(lambda: stack.task_for("bella", issue_id), what="the review"), review)
    # A refund over GBP 100 needs finance's approval: the Choice read the refund amount.
    stack.complete("fred", stack.pump_until(lambda: stack.task_for("fred", issue_id), what="approval"), approval)
    stack.pump_until(lambda: "waiting_for_customer" in kinds(stack, issue_id), what="the wait for the reply")
    said = stack.post(
        f"/agent/issues/{issue_id}/customer-messages", {"text": reply, "channel": "phone"}, stack.token("bella")
    )
    assert said.status_code == 201, said.body
    # The customer answered: the Choice saw the reply present, and the second review opens.
    second = stack.pump_until(lambda: stack.task_for("fiona", issue_id), what="the second review")
    stack.complete("fiona", second, outcome)
    stack.pump_until(lambda: stack.issue(issue_id)["status"] == "resolved", what="resolution")

    execution = stack.execution_arn(issue_id)
    assert stack.sfn.describe_execution(executionArn=execution)["status"] == "SUCCEEDED"
    sizes = data_sizes(stack, execution)
    assert sizes and max(sizes) < SMALL_STATE
    # The answers themselves are kept, and the customer's emails quote them in full.
    bodies = "\n".join(m["body"] for m in sent_emails("long.answers@example.com"))
    assert review["explanation"] in bodies and outcome["outcome"] in bodies
    tasks = {t["step"] for t in stack.issue(issue_id)["tasks"]}
    assert {"billing_review", "finance_approval", "await_reply", "second_review"} <= tasks


def test_a_small_refund_skips_the_approval_and_silence_skips_the_second_review(stack):
    fields = {"invoice_number": "INV-300301", "amount_disputed": 40, "reason": "double_charge"}
    issue_id = stack.open_issue("billing-dispute", fields, "small.refund@example.com").json_body["id"]
    review = {"finding": "partly_upheld", "refund_amount": 40, "explanation": long_answer("explanation:")}
    stack.complete("bella", stack.pump_until(lambda: stack.task_for("bella", issue_id), what="the review"), review)
    stack.pump_until(lambda: "waiting_for_customer" in kinds(stack, issue_id), what="the wait for the reply")
    stack.wait_idle(issue_id)
    assert {t["step"] for t in stack.issue(issue_id)["tasks"]} == {"billing_review", "await_reply"}
    assert max(data_sizes(stack, stack.execution_arn(issue_id))) < SMALL_STATE


def kinds(stack, issue_id: str) -> list[str]:
    return [e["kind"] for e in stack.issue(issue_id)["timeline"]]
