"""Who may see an issue, route by route, through HTTP on moto (decision 0025).

A rude-staff report (the customer's address, what happened, HR's decision) is seen by those its
process names (the store manager, the regional manager and HR lead its escalations name, HR) and
by supervisors and admins. Anyone else, `lee` of logistics here, finds no such issue on any route
that names it, task or attachment: reading or acting, 404, and nothing changes.
"""

from __future__ import annotations

from datetime import date
from email.message import EmailMessage
from email.utils import make_msgid

from tests.integration.conftest import sent_emails, sent_messages

TODAY = date.today().isoformat()
#: Each named by the rude-staff process: hana (hr), harry (hr-lead: an escalation notifies him),
#: sam (the Leeds store's manager, his role is the fallback), rita (regional-manager: a reassignment);
#: and sue (supervisor) and ada (admin), who see every issue.
SEE_IT = ("hana", "harry", "sam", "rita", "sue", "ada")


def rude_staff_with_a_photo(stack, customer: str) -> tuple[dict, dict, str]:
    """A rude-staff report at Leeds Briggate (sam's store), the customer's emailed photo on its
    timeline; the issue, sam's open task, the photo's key."""
    opened = stack.open_issue(
        "rude-staff",
        {"store": "leeds-briggate", "incident_date": TODAY, "what_happened": "The cashier shouted at me."},
        customer,
    )
    assert opened.status_code == 201, opened.body
    issue = opened.json_body
    ack = stack.pump_until(lambda: next(iter(sent_messages(customer)), None), what="the acknowledgement")
    reply = EmailMessage()
    reply["From"], reply["To"], reply["Subject"] = customer, ack["Reply-To"], f"Re: {ack['Subject']}"
    reply["Message-ID"], reply["In-Reply-To"] = make_msgid(domain="example.com"), ack["Message-ID"]
    reply.set_content("A photo of the receipt.")
    reply.add_attachment(b"\x89PNG\r\n\x1a\n" + b"0" * 500, maintype="image", subtype="png", filename="receipt.png")
    assert stack.deliver_email(reply.as_bytes())["issue_id"] == issue["id"]
    task = stack.wait_for_task("sam", issue["id"], "manager_opinion")
    [message] = [e for e in stack.issue(issue["id"])["timeline"] if e["kind"] == "customer_message"]
    return issue, task, message["data"]["email"]["attachments"][0]["key"]


def test_an_agent_the_process_does_not_name_finds_nothing_on_any_route_and_changes_nothing(stack):
    customer = "rude.unseen@example.com"
    issue, task, photo = rude_staff_with_a_photo(stack, customer)
    issue_id, reference = issue["id"], issue["reference"]
    before = stack.issue(issue_id)
    emails_before = len(sent_emails(customer))
    lee = stack.token("lee")

    reads = {
        "issue": f"/agent/issues/{issue_id}",
        "by reference": f"/agent/issues/by-reference/{reference}",
        "task": f"/agent/tasks/{task['id']}",
        "attachment": f"/agent/issues/{issue_id}/attachments?key={photo}",
    }
    acts = {
        "complete": (f"/agent/tasks/{task['id']}/complete", {"fields": {"manager_opinion": "Not my store."}}),
        "customer message": (f"/agent/issues/{issue_id}/customer-messages", {"text": "She called back."}),
        "reply": (f"/agent/issues/{issue_id}/replies", {"body": "We are sorry to hear it."}),
        "note": (f"/agent/issues/{issue_id}/notes", {"text": "Looks like a logistics matter."}),
        "type": (f"/agent/issues/{issue_id}/type", {"type": "late-delivery"}),
        "reopen": (f"/agent/issues/{issue_id}/reopen", {"reason": "customer called"}),
    }
    for route, path in reads.items():
        refused = stack.get(path, lee)
        assert refused.status_code == 404, route
        assert customer not in str(refused.body) and "cashier" not in str(refused.body), route
    for route, (path, body) in acts.items():
        assert stack.post(path, body, lee).status_code == 404, route
    # the same answer as for an issue that does not exist: no oracle of references
    unknown = stack.get("/agent/issues/by-reference/CF-ZZZZZ", lee)
    assert stack.get(reads["by reference"], lee).json_body == {"message": f"no issue {reference}"}
    assert unknown.json_body == {"message": "no issue CF-ZZZZZ"}
    assert stack.get(f"/agent/issues/{issue_id}", stack.token("alice")).status_code == 404, "first line: triage only"

    after = stack.issue(issue_id)
    assert after["timeline"] == before["timeline"] and after["type"] == "rude-staff"
    assert [(t["step"], t["status"]) for t in after["tasks"]] == [("manager_opinion", "open")]
    assert len(sent_emails(customer)) == emails_before, "no email reached the customer"


def test_everyone_the_process_names_and_supervisors_and_admins_see_it_and_may_act(stack):
    customer = "rude.seen@example.com"
    issue, task, photo = rude_staff_with_a_photo(stack, customer)
    issue_id, reference = issue["id"], issue["reference"]

    for username in SEE_IT:
        token = stack.token(username)
        shown = stack.get(f"/agent/issues/{issue_id}", token)
        assert shown.status_code == 200 and shown.json_body["customer"]["email"] == customer, username
        assert stack.get(f"/agent/issues/by-reference/{reference}", token).json_body["id"] == issue_id, username
        assert stack.get(f"/agent/tasks/{task['id']}", token).json_body["step"] == "manager_opinion", username
        link = stack.get(f"/agent/issues/{issue_id}/attachments?key={photo}", token)
        assert link.status_code == 200 and "Signature" in link.json_body["url"], username
        noted = stack.post(f"/agent/issues/{issue_id}/notes", {"text": f"Seen by {username}"}, token)
        assert noted.status_code == 201, username

    replied = stack.post(f"/agent/issues/{issue_id}/replies", {"body": "We are looking into it."}, stack.token("hana"))
    assert replied.status_code == 201 and replied.json_body["to"] == customer
    called = stack.post(f"/agent/issues/{issue_id}/customer-messages", {"text": "Called"}, stack.token("sue"))
    assert called.status_code == 201
    confirmed = stack.post(f"/agent/issues/{issue_id}/type", {"type": "rude-staff"}, stack.token("ada"))
    assert confirmed.status_code == 200 and confirmed.json_body["moved"] is False
    # Seeing an issue is not holding its task, nor making an open issue reopenable.
    not_theirs = stack.post(
        f"/agent/tasks/{task['id']}/complete", {"fields": {"manager_opinion": "x"}}, stack.token("harry")
    )
    assert not_theirs.status_code == 403
    assert stack.post(f"/agent/issues/{issue_id}/reopen", {"reason": "x"}, stack.token("sue")).status_code == 409
    done = stack.post(
        f"/agent/tasks/{task['id']}/complete", {"fields": {"manager_opinion": "I spoke to her."}}, stack.token("sam")
    )
    assert done.status_code == 200

    timeline = stack.issue(issue_id)["timeline"]
    assert [e["actor"] for e in timeline if e["kind"] == "internal_note"] == list(SEE_IT)
    assert [e["kind"] for e in timeline].count("type_confirmed") == 1


def test_the_customers_other_issues_are_shown_only_to_those_who_may_see_them(stack):
    customer = "rude.history@example.com"
    rude, _, _ = rude_staff_with_a_photo(stack, customer)
    late = stack.open_issue(
        "late-delivery",
        {"order_number": "AB123456", "promised_date": "2026-11-20", "what_happened": "Nothing came."},
        customer,
    ).json_body
    stack.wait_for_task("lee", late["id"])

    def others(username: str) -> set[str]:
        history = stack.get(f"/agent/issues/{late['id']}", stack.token(username)).json_body["customer_history"]
        return {entry["issue_id"] for entry in history}

    assert rude["id"] in others("sue")
    assert rude["id"] not in others("lee")
    lees = stack.get(f"/agent/issues/{late['id']}", stack.token("lee")).json_body
    assert "cashier" not in str(lees) and rude["reference"] not in str(lees)
