"""Help articles on moto: admins write them (API and desk pages), the help centre shows them, and a
report form offers them before anything is filed; "This answered my question" files nothing and is
counted as a deflection in GET /ops/kpis and on the dashboard.

Every article here answers only this module's own issue type, so no other test's form sees them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from chalice.local import LambdaEventConverter

from tests.integration.conftest import FAST_TYPE
from tests.integration.test_desk_pages import Browser, location, text

TYPE_ID = "help-articles-test"
TYPE = {
    **FAST_TYPE,
    "id": TYPE_ID,
    "name": "Parcel questions (help article tests)",
    "public": True,
    "fields": [{"id": "summary", "type": "long_text", "required": True, "label": "What happened?"}],
}
REFUND = {
    "slug": "refund-for-a-late-parcel",
    "title": "Refund for a late parcel",
    "body": "# When a parcel is late\n\nIf your parcel is more than five days late, we refund the delivery "
    "charge automatically within ten days.\n\n<script>alert('x')</script>\n\n[click](javascript:alert(1))",
    "languages": ["en", "de"],
    "issue_types": [TYPE_ID],
}
LATE_PARCEL = "My parcel is late, more than five days now. Do I get a refund of the delivery charge?"
TODAY = datetime.now(UTC).date().isoformat()


@pytest.fixture(scope="module")
def published(stack):
    assert stack.put(f"/admin/issue-types/{TYPE_ID}", TYPE, stack.token("ada")).status_code in (200, 201)
    answer = stack.post("/admin/articles", REFUND, stack.token("ada"))
    assert answer.status_code == 201, answer.body
    yield answer.json_body
    stack.request("DELETE", f"/admin/articles/{REFUND['slug']}", token=stack.token("ada"))


@pytest.fixture
def customer(stack, monkeypatch, request) -> Browser:
    """A browser at an address of its own (the forms' rate limits count per address)."""
    number = abs(hash(request.node.name)) % 200 + 20
    monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", f"203.0.113.{number}")
    return Browser(stack)


def _form_values(browser: Browser, summary: str, email: str) -> list[tuple[str, str]]:
    page = browser.get(f"/report/{TYPE_ID}")
    assert page.status_code == 200, text(page)
    hidden = [
        (name, unescape(value))
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', text(page))
        if name != "csrf-token"
    ]
    return [*hidden, ("summary", summary), ("customer-email", email)]


def _roll_up_and_report(stack) -> dict:
    assert stack.post("/admin/ops/hourly", {}, stack.token("ada")).status_code == 200
    report = stack.get(f"/ops/kpis?from={TODAY}&to={TODAY}&type={TYPE_ID}", stack.token("omar"))
    assert report.status_code == 200, report.body
    return report.json_body


def test_an_admin_writes_an_article_rendered_to_sanitised_html(stack, published):
    assert published["slug"] == REFUND["slug"]
    assert "<h2>When a parcel is late</h2>" in published["html"]
    assert "<script" not in published["html"]
    assert 'href="javascript' not in published["html"]
    listed = stack.get("/admin/articles", stack.token("ada")).json_body["articles"]
    assert REFUND["slug"] in [a["slug"] for a in listed]
    again = stack.post("/admin/articles", REFUND, stack.token("ada"))
    assert again.status_code == 409


def test_bad_input_is_a_400_naming_each_field_and_others_get_403(stack, published):
    bad = stack.post(
        "/admin/articles",
        {"title": "", "body": "x", "languages": ["xx"], "issue_types": ["no-such-type"], "slug": "Bad Slug"},
        stack.token("ada"),
    )
    assert bad.status_code == 400
    named = {e["field"] for e in bad.json_body["errors"]}
    assert {"title", "languages", "issue_types", "slug"} <= named
    assert stack.post("/admin/articles", REFUND, stack.token("sue")).status_code == 403
    assert stack.get("/admin/articles", stack.token("omar")).status_code == 403
    assert stack.request("DELETE", "/admin/articles/never-written", token=stack.token("ada")).status_code == 404


def test_the_help_centre_lists_searches_and_shows_published_articles(stack, published):
    home = stack.client.http.get("/")
    assert 'href="/help"' in text(home)
    listing = text(stack.client.http.get("/help?lang=de"))  # a German page lists the articles in German
    assert f'href="/help/{REFUND["slug"]}"' in listing
    assert f'href="/help/{REFUND["slug"]}"' not in text(stack.client.http.get("/help?lang=tr"))
    found = text(stack.client.http.get("/help/search?q=late+parcel+refund"))
    assert REFUND["title"] in found
    shown = stack.client.http.get(f"/help/{REFUND['slug']}")
    assert shown.status_code == 200
    body = text(shown)
    assert '<h1 id="article-title">Refund for a late parcel</h1>' in body and "<script" not in body
    assert stack.client.http.get("/help/no-such-article").status_code == 404


def test_the_form_shows_the_article_and_this_answered_my_question_files_nothing(stack, published, customer):
    before = _roll_up_and_report(stack)["totals"]
    values = _form_values(customer, LATE_PARCEL, "help-deflected@example.com")
    checked = customer.post(f"/report/{TYPE_ID}", values)
    page = text(checked)
    assert checked.status_code == 200, page
    assert "This answered my question" in page and "Send my report anyway" in page
    assert f'href="/help/{REFUND["slug"]}"' in page
    assert '<p class="reference">' not in page  # nothing filed yet
    submission = dict(values)["submission-id"]
    answered = customer.post(f"/report/{TYPE_ID}/answered", {"submission-id": submission, "article": REFUND["slug"]})
    assert answered.status_code == 200, text(answered)
    assert "nothing was sent" in text(answered)
    after = _roll_up_and_report(stack)
    assert after["totals"]["deflections"] == before["deflections"] + 1
    assert after["totals"]["contacts"] == before["contacts"]  # no issue opened
    assert after["articles"]["deflecting_most"][0]["article"] == REFUND["slug"]
    omar = Browser(stack)
    assert omar.sign_in("omar").status_code == 303
    dashboard = text(omar.get(f"/ops/dashboard?from={TODAY}&to={TODAY}&type={TYPE_ID}"))
    tile = re.search(r'<li class="tile" data-kpi="deflections">(.*?)</li>', dashboard, re.S).group(1)
    assert re.search(r'class="tile-value">[1-9]\d*<', tile)
    assert f'<th scope="row">{REFUND["slug"]}</th>' in dashboard


def test_a_report_sent_anyway_is_filed_and_counts_against_the_articles(stack, published, customer):
    before = _roll_up_and_report(stack)["totals"]
    values = _form_values(customer, LATE_PARCEL, "help-filed-anyway@example.com")
    checked = text(customer.post(f"/report/{TYPE_ID}", values))
    again = [
        (name, unescape(value))
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', checked)
        if name in ("articles-checked", "shown-article")
    ]
    assert ("articles-checked", "1") in again and ("shown-article", REFUND["slug"]) in again
    sent = customer.post(f"/report/{TYPE_ID}", [*values, *again])
    assert sent.status_code == 200 and re.search(r'<p class="reference">CF-', text(sent)), text(sent)
    after = _roll_up_and_report(stack)
    assert after["totals"]["filed_after_articles"] == before["filed_after_articles"] + 1
    assert after["articles"]["failing_most"][0]["article"] == REFUND["slug"]
    assert after["totals"]["deflection_rate_percent"] is not None


def test_text_that_matches_no_article_files_at_once(stack, published, customer):
    values = _form_values(customer, "The courier was rude to my neighbour at the door.", "help-none@example.com")
    sent = customer.post(f"/report/{TYPE_ID}", values)
    assert sent.status_code == 200 and re.search(r'<p class="reference">CF-', text(sent)), text(sent)


def test_the_form_script_asks_for_articles_as_json(stack, published):
    answer = stack.client.http.get(f"/report/{TYPE_ID}/articles?q=parcel+late+refund+delivery")
    assert answer.status_code == 200
    assert [a["slug"] for a in answer.json_body["articles"]] == [REFUND["slug"]]
    assert stack.client.http.get("/report/no-such-type/articles?q=x").status_code == 404
    script = stack.client.http.get("/assets/deflection.js")
    assert script.status_code == 200 and script.headers["Content-Type"].startswith("text/javascript")
    policy = stack.client.http.get(f"/report/{TYPE_ID}").headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy


def test_answered_without_the_forms_token_is_refused(stack, published, customer):
    customer.get(f"/report/{TYPE_ID}")
    refused = customer.post(
        f"/report/{TYPE_ID}/answered", {"submission-id": "x" * 24, "article": REFUND["slug"]}, token="forged"
    )
    assert refused.status_code == 403


def test_admins_write_change_and_delete_articles_in_the_desk(stack, published):
    ada = Browser(stack)
    assert ada.sign_in("ada").status_code == 303
    assert 'href="/desk/admin/articles"' in text(ada.get("/desk/admin"))
    form = ada.get("/desk/admin/articles/new")
    assert form.status_code == 200 and 'name="csrf-token"' in text(form)
    wrong = ada.post("/desk/admin/articles", [("title", ""), ("body", "Some text"), ("languages", "en")])
    assert wrong.status_code == 400 and 'id="title-error"' in text(wrong)
    values = [
        ("title", "Desk written article"),
        ("slug", "desk-written-article"),
        ("body", "Some **bold** text."),
        ("languages", "en"),
        ("issue_types", TYPE_ID),
        ("published", "yes"),
    ]
    created = ada.post("/desk/admin/articles", values)
    assert created.status_code == 303 and location(created).startswith("/desk/admin/articles?done=created")
    assert "Desk written article" in text(ada.get("/desk/admin/articles"))
    edit = ada.get("/desk/admin/articles/desk-written-article")
    assert "<strong>bold</strong>" in text(edit)
    changed = ada.post(
        "/desk/admin/articles/desk-written-article",
        [*values[:1], ("body", "Changed."), *values[3:5], ("published", "no")],
    )
    assert changed.status_code == 303
    assert stack.client.http.get("/help/desk-written-article").status_code == 404  # a draft now
    ada.get("/desk/admin/articles/desk-written-article")
    assert ada.post("/desk/admin/articles/desk-written-article/delete", {}).status_code == 303
    assert stack.get("/admin/articles/desk-written-article", stack.token("ada")).status_code == 404
    sue = Browser(stack)
    assert sue.sign_in("sue").status_code == 303
    assert sue.get("/desk/admin/articles").status_code == 403


def test_looking_up_articles_is_rate_limited_per_address(stack, published, monkeypatch):
    """Each lookup runs the encoder: one address cannot make the API encode without end."""
    from chalicelib.services.web_forms import FormLimits

    web_forms = stack.services.web_forms
    # A window of its own length numbers its windows apart from the other tests' (which looked up before).
    limits = FormLimits(per_address=1, suggestions_per_post=2, window=timedelta(seconds=3571))
    monkeypatch.setattr(web_forms, "_limits", limits)
    url = f"/report/{TYPE_ID}/articles?q=parcel+late+refund+delivery"
    answers = [stack.client.http.get(url) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert int(answers[-1].headers["Retry-After"]) > 0


# --- in the customer's language --------------------------------------------------------------------


def _german(stack, path: str):
    return stack.client.http.get(path, headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})


def test_the_help_centre_speaks_the_browsers_language_with_a_switcher(stack, published):
    german = _german(stack, "/help")
    page = text(german)
    assert german.status_code == 200 and '<html lang="de">' in page
    assert german.headers["Content-Language"] == "de"
    assert "Hilfe-Center" in page and "Artikel in allen Sprachen anzeigen" in page
    assert '<nav class="languages"' in page and 'href="/help?lang=fr"' in page
    assert f'href="/help/{REFUND["slug"]}"' in page  # an article in German
    assert "Set-Cookie" not in german.headers  # nothing chosen: nothing remembered

    french = stack.client.http.get("/help?lang=fr", headers={"Accept-Language": "de"})
    assert '<html lang="fr">' in text(french) and "Centre d’aide" in text(french)
    assert french.headers["Set-Cookie"].startswith("caseflow-lang=fr;")

    searched = text(_german(stack, "/help/search?q=late+parcel+refund"))
    assert '<html lang="de">' in searched and "1 Artikel gefunden" in searched and REFUND["title"] in searched
    assert "Hilfe-Center durchsuchen" in searched

    article = text(_german(stack, f"/help/{REFUND['slug']}"))
    assert '<html lang="de">' in article and "Hat das Ihre Frage nicht beantwortet?" in article
    assert re.search(r"Aktualisiert am \d{1,2}\. \w+ \d{4} ·", article), article  # t.day: the locale's date
    missing = _german(stack, "/help/no-such-article")
    assert missing.status_code == 404 and "Diese Seite finden wir nicht" in text(missing)


def test_articles_in_every_language_are_one_link_away(stack, published):
    turkish = text(stack.client.http.get("/help", headers={"Accept-Language": "tr"}))
    assert '<html lang="tr">' in turkish
    assert f'href="/help/{REFUND["slug"]}"' not in turkish  # English and German only
    assert 'href="/help?all=1"' in turkish and "Tüm dillerdeki makaleleri göster" in turkish
    every = text(stack.client.http.get("/help?all=1", headers={"Accept-Language": "tr"}))
    assert f'href="/help/{REFUND["slug"]}"' in every and 'href="/help"' in every
    assert 'href="/help?all=1&amp;lang=de"' in every  # the switcher keeps "every language"

    none = text(stack.client.http.get("/help/search?q=late+parcel+refund", headers={"Accept-Language": "tr"}))
    assert REFUND["title"] not in none and 'href="/help/search?q=late%20parcel%20refund&amp;all=1"' in none
    found = text(stack.client.http.get("/help/search?q=late+parcel+refund&all=1", headers={"Accept-Language": "tr"}))
    assert REFUND["title"] in found and '<input type="hidden" name="all" value="1">' in found
    assert 'name="lang"' not in found  # the search form no longer filters by language


def test_a_german_report_form_offers_articles_in_german_and_the_deflection_is_german(stack, published, customer):
    assert customer.get(f"/report/{TYPE_ID}?lang=de").status_code == 200  # switched: the cookie keeps it
    values = _form_values(customer, LATE_PARCEL, "help-deflected-de@example.com")
    page = text(customer.post(f"/report/{TYPE_ID}", values))
    assert '<html lang="de">' in page
    assert "Bevor Sie senden: Diese Artikel beantworten vielleicht Ihre Frage" in page, page
    suggestions = re.search(r'<section class="suggestions".*?</section>', page, re.S).group(0)
    assert "This answered my question" not in suggestions and "Nothing has been sent yet." not in suggestions
    live = re.search(r'<div id="article-suggestions"[^>]*>', page).group(0)
    assert "These articles may answer your question" not in live and "This answered my question" not in live
    submission = dict(values)["submission-id"]
    answered = customer.post(f"/report/{TYPE_ID}/answered", {"submission-id": submission, "article": REFUND["slug"]})
    body = text(answered)
    assert answered.status_code == 200 and '<html lang="de">' in body, body
    assert "Schön, dass das geholfen hat" in body and "Es wurde nichts gesendet." in body
    assert '<nav class="languages"' in body
