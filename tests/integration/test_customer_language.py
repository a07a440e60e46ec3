"""A customer in their own language and time, on moto: a German browser files a web report; the
acknowledgement, the status page and every later email are German, times in the customer's zone and
named; switching the status page to French makes the next email French."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlencode

from tests.integration.conftest import sent_emails

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}
RUDE = {
    "store": "leeds-briggate",
    "incident_date": "2026-11-01",
    "what_happened": "Der Kassierer hat mich angeschrien, als ich nach einer Quittung gefragt habe.",
}
#: A moment as a German customer reads it in Berlin: "05.12.2026, 14:30 CET" (CEST in summer).
BERLIN_MOMENT = r"\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2} CES?T"


def text(response) -> str:
    return response.body.decode() if isinstance(response.body, bytes) else response.body


def cookie_of(response, name: str) -> str:
    headers = {k.lower(): v for k, v in response.headers.items()}
    found = headers.get("set-cookie", "")
    for cookie in found if isinstance(found, list) else [found]:
        if cookie.startswith(f"{name}="):
            return cookie.split(";")[0].split("=", 1)[1]
    return ""


def hidden(html: str) -> dict[str, str]:
    return {
        name: unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)"(?: id="[^"]+")? value="([^"]*)">', html)
    }


def status_path(body: str) -> str:
    return re.search(r"https?://[^/\s]+(/s/[^\s]+)", body).group(1)


def task_of(stack, issue_id: str, step: str, people: tuple[str, ...]) -> tuple[str, dict]:
    """Whoever of `people` holds the issue's open task at `step`, and the task."""

    def held():
        for person in people:
            if task := stack.task_for(person, issue_id, step):
                return person, task
        return None

    return stack.pump_until(held, what=f"the {step} task")


def test_a_german_customer_reads_everything_in_german_until_they_switch_to_french(stack):
    email = "greta.deutsch@example.com"
    http = stack.client.http

    # The form, in the browser's language.
    shown = http.get("/report/rude-staff", headers=GERMAN)
    html = text(shown)
    assert shown.status_code == 200 and '<html lang="de">' in html and shown.headers["Content-Language"] == "de"
    assert "Ihre Meldung" in html and "Meldung senden" in html and "(Pflichtfeld)" in html
    assert 'hreflang="fr"' in html and "script-src 'self'" in shown.headers["Content-Security-Policy"]
    form_cookie = cookie_of(shown, "caseflow_form")
    fields = hidden(html)
    assert fields["lang"] == "de" and fields["time-zone"] == ""

    # A mistake comes back in German, beside its field.
    cookie = {"Cookie": f"caseflow_form={form_cookie}"}
    sent = {**fields, "time-zone": "Europe/Berlin", "customer-email": email, "customer-name": "Greta"}
    wrong = http.post(
        "/report/rude-staff", headers={**FORM, **GERMAN, **cookie}, body=urlencode({**sent, **RUDE, "store": ""})
    )
    assert wrong.status_code == 400
    assert "Bei Ihrer Meldung gibt es ein Problem" in text(wrong) and "ist ein Pflichtfeld." in text(wrong)
    assert 'value="Europe/Berlin"' in text(wrong), "the browser's zone is kept on a form sent back"

    # The report, confirmed in German.
    done = http.post("/report/rude-staff", headers={**FORM, **GERMAN, **cookie}, body=urlencode({**sent, **RUDE}))
    page = text(done)
    assert done.status_code == 200 and "Ihre Meldung ist bei uns eingegangen" in page, page
    reference = re.search(r"CF-[0-9A-Z]{5}", page).group(0)

    # The acknowledgement: German, the moment we received it in Berlin time, named.
    ack = stack.pump_until(lambda: sent_emails(email), what="the acknowledgement")[0]
    assert ack["subject"].startswith(f"Wir haben Ihre Meldung {reference} erhalten"), ack["subject"]
    assert ack["body"].startswith("Guten Tag Greta,") and "Referenz: " + reference in ack["body"]
    assert re.search(rf"Eingegangen: {BERLIN_MOMENT}", ack["body"]), ack["body"]
    path = status_path(ack["body"])

    # The status page in German, even opened from a browser that says nothing: the customer's language is remembered.
    for headers in (GERMAN, {}):
        status = http.get(path, headers=headers)
        assert status.status_code == 200 and '<html lang="de">' in text(status)
        assert f"Ihr Anliegen {reference}" in text(status) and "Bisheriger Verlauf" in text(status)
        assert "Sie haben das Anliegen gemeldet" in text(status) and re.search(BERLIN_MOMENT, text(status))
    issue_id = _issue_id(stack, reference)

    # A later step email, in the customer's language (the seed's German translation), then the survey in ours.
    person, task = task_of(stack, issue_id, "manager_opinion", ("sam", "rita", "sue"))
    stack.complete(person, task, {"manager_opinion": "Der Kassierer entschuldigt sich."})
    person, task = task_of(stack, issue_id, "hr_decision", ("hana", "harry", "sue"))
    stack.complete(person, task, {"decision": "coaching", "notes": "Ein Coaching ist gebucht."})
    outcome = stack.pump_until(
        lambda: next((m for m in sent_emails(email) if "unsere Entscheidung" in m["subject"]), None),
        what="the outcome email",
    )
    assert outcome["subject"].startswith(f"Ihre Meldung {reference}: unsere Entscheidung")
    assert "Unsere Entscheidung: " in outcome["body"], "the type's own German texts (its translations block)"
    survey = stack.pump_until(
        lambda: next((m for m in sent_emails(email) if "Wie zufrieden" in m["subject"]), None), what="the survey"
    )
    assert "Wie wahrscheinlich ist es, dass Sie uns" in survey["body"]

    # The customer switches their status page to French: the page, and every email after it.
    switched = http.get(f"{path}?lang=fr", headers=GERMAN)
    assert switched.status_code == 200 and '<html lang="fr">' in text(switched)
    assert f"Votre demande {reference}" in text(switched) and cookie_of(switched, "caseflow-lang") == "fr"
    again = http.get(path, headers={**GERMAN, "Cookie": "caseflow-lang=fr"})
    assert '<html lang="fr">' in text(again)

    before = len(sent_emails(email))
    asked = _send_form(stack, "/s", {"email": email}, GERMAN)
    assert asked.status_code == 200
    link = stack.pump_until(lambda: sent_emails(email)[before:], what="the new status link")[0]
    assert link["subject"].startswith(f"Votre lien de suivi pour {reference}"), link["subject"]
    assert link["body"].startswith("Bonjour Greta,") and "Il fonctionne pendant 90 jours." in link["body"]


def test_a_customer_with_no_language_gets_english_pages_and_emails(stack):
    email = "plain.english@example.com"
    shown = stack.client.http.get("/report/rude-staff", headers={"Accept-Language": "ja, zh;q=0.8"})
    assert '<html lang="en">' in text(shown) and "Send report" in text(shown)
    opened = stack.open_issue("general-enquiry", {"subject": "Card", "message": "Where is it?"}, email)
    assert opened.status_code == 201
    ack = stack.pump_until(lambda: sent_emails(email), what="the acknowledgement")[0]
    assert ack["body"].startswith("Dear Test Customer,") and "We have received your report" in ack["body"]
    assert re.search(r"Received: \d{1,2} \w{3} \d{4}, \d{2}:\d{2} \w+", ack["body"]), ack["body"]


def _issue_id(stack, reference: str) -> str:
    found = stack.get(f"/agent/issues/by-reference/{reference}", stack.token("sue"))
    assert found.status_code == 200, found.body
    return stack.json_of(found)["id"]


def _send_form(stack, path: str, fields: dict[str, str], headers: dict[str, str]):
    """Post the status pages' "new link" form as a browser would: its cookie and CSRF token."""
    shown = stack.client.http.get("/s/not-a-real-token", headers=headers)
    cookie = cookie_of(shown, "caseflow_form")
    token = re.search(r'name="csrf-token" value="([^"]+)"', text(shown)).group(1)
    body = urlencode({**fields, "csrf-token": token})
    return stack.client.http.post(path, headers={**FORM, **headers, "Cookie": f"caseflow_form={cookie}"}, body=body)


def test_a_refused_form_and_a_bad_link_speak_the_browsers_language(stack):
    http = stack.client.http
    forged = http.post("/my-issues", headers={**FORM, "Accept-Language": "es"}, body=urlencode({"email": "a@b.es"}))
    assert forged.status_code == 403 and "Vuelva a cargar la página" in text(forged)
    bad = http.get("/s/not-a-real-token", headers={"Accept-Language": "tr-TR"})
    assert bad.status_code == 404 and "Bu bağlantı çalışmıyor" in text(bad) and '<html lang="tr">' in text(bad)
    survey = http.get("/survey/not-a-real-token", headers={"Accept-Language": "fr"})
    assert "Ce lien ne fonctionne pas" in text(survey)
