"""The agents' workspace (`/desk`) on moto, through the app as a browser without JavaScript uses
it: sign-in with CSRF and the session cookies, queues, the issue page and its forms, search."""

from __future__ import annotations

import re
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest

from chalicelib.bootstrap import services
from chalicelib.local.provision import DEMO_PASSWORD
from tests.integration.test_access_by_role import rude_staff_with_a_photo

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
RUDE_STAFF = {
    "store": "leeds-briggate",
    "incident_date": "2026-11-20",
    "what_happened": "The cashier shouted at me when I asked for a receipt.",
}


def text(response) -> str:
    return response.body.decode() if isinstance(response.body, bytes) else response.body


def set_cookies(response) -> list[str]:
    for name, value in response.headers.items():
        if name.lower() == "set-cookie":
            return value if isinstance(value, list) else [value]
    return []


class Browser:
    """Cookies kept between requests, and the CSRF token of the last page shown."""

    def __init__(self, stack):
        self.stack = stack
        self.cookies: dict[str, str] = {}
        self.token = ""
        self.last = None

    def _keep(self, response) -> None:
        for header in set_cookies(response):
            for name, morsel in SimpleCookie(header).items():
                if morsel.value:
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        found = re.search(r'name="csrf-token" value="([^"]+)"', text(response))
        if found:
            self.token = found.group(1)
        self.last = response

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return {**({"Cookie": cookie} if cookie else {}), **(extra or {})}

    def get(self, path: str):
        response = self.stack.client.http.get(path, headers=self._headers())
        self._keep(response)
        return response

    def post(self, path: str, values: dict | list, token: str | None = None):
        pairs = list(values.items()) if isinstance(values, dict) else list(values)
        body = urlencode([("csrf-token", self.token if token is None else token), *pairs])
        response = self.stack.client.http.post(path, headers=self._headers(FORM), body=body)
        self._keep(response)
        return response

    def sign_in(self, username: str, next_path: str = ""):
        self.get(f"/desk/sign-in{'?next=' + next_path if next_path else ''}")
        values = {"username": username, "password": DEMO_PASSWORD, "next": next_path}
        return self.post("/desk/sign-in", values)


def location(response) -> str:
    return {k.lower(): v for k, v in response.headers.items()}.get("location", "")


@pytest.fixture
def sam(stack) -> Browser:
    browser = Browser(stack)
    assert browser.sign_in("sam").status_code == 303
    return browser


def rude_staff_issue(stack, email: str, what: str = RUDE_STAFF["what_happened"]) -> dict:
    opened = stack.open_issue("rude-staff", {**RUDE_STAFF, "what_happened": what}, email)
    assert opened.status_code == 201, opened.body
    issue = opened.json_body
    stack.pump_until(lambda: stack.task_for("sam", issue["id"]), what="sam's task")
    return issue


def test_signing_in_sets_the_session_cookies_and_returns_to_the_page_asked_for(stack):
    browser = Browser(stack)
    away = browser.get("/desk/search?q=receipt")
    assert away.status_code == 303 and location(away) == "/desk/sign-in?next=/desk/search%3Fq%3Dreceipt"
    form = browser.get(location(away))
    assert 'name="next" value="/desk/search?q=receipt"' in text(form)
    signed_in = browser.post(
        "/desk/sign-in", {"username": "sam", "password": DEMO_PASSWORD, "next": "/desk/search?q=receipt"}
    )
    assert signed_in.status_code == 303 and location(signed_in) == "/desk/search?q=receipt"
    session = next(c for c in set_cookies(signed_in) if c.startswith("caseflow_session="))
    assert {"HttpOnly", "SameSite=Strict", "Path=/"} <= {p.strip() for p in session.split(";")}
    assert any(c.startswith("caseflow_refresh=") for c in set_cookies(signed_in))
    assert browser.get("/desk").status_code == 200 and "Signed in as <strong>sam</strong>" in text(browser.last)


def test_sign_in_never_sends_the_browser_to_another_site(stack):
    browser = Browser(stack)
    for target in ("https://evil.example/desk", "//evil.example/desk", "/\\evil.example", "/report/x"):
        browser.get("/desk/sign-in")
        out = browser.post("/desk/sign-in", {"username": "sam", "password": DEMO_PASSWORD, "next": target})
        assert out.status_code == 303 and location(out) == "/desk", target


def test_a_wrong_password_keeps_the_username_and_says_so(stack):
    browser = Browser(stack)
    browser.get("/desk/sign-in")
    refused = browser.post("/desk/sign-in", {"username": "sam", "password": "wrong"})
    assert refused.status_code == 401 and "Wrong username or password." in text(refused)
    assert 'value="sam"' in text(refused) and "caseflow_session" not in browser.cookies


def test_an_expired_session_is_renewed_with_the_refresh_cookie(stack, sam):
    sam.cookies["caseflow_session"] = "expired.or.forged"
    renewed = sam.get("/desk")
    assert renewed.status_code == 200, text(renewed)
    assert any(c.startswith("caseflow_session=ey") for c in set_cookies(renewed))
    sam.cookies.pop("caseflow_refresh")
    sam.cookies["caseflow_session"] = "expired.or.forged"
    assert sam.get("/desk").status_code == 303 and location(sam.last).startswith("/desk/sign-in")


def test_a_form_post_without_the_pages_token_is_refused(stack, sam):
    forged = sam.post("/desk/sign-out", {}, token="forged")
    assert forged.status_code == 403 and "caseflow_session" in sam.cookies
    out = sam.post("/desk/sign-out", {})
    assert out.status_code == 303 and "caseflow_session" not in sam.cookies


def test_sam_sees_his_task_in_his_queue_and_answers_it_on_the_issue_page(stack, sam):
    issue = rude_staff_issue(stack, "desk-queue@example.com")
    queue = sam.get("/desk?scope=mine")
    page = text(queue)
    assert queue.status_code == 200 and issue["reference"] in page
    assert "Test Customer" in page and re.search(r'class="countdown countdown-[a-z-]+">Due (soon: )?in ', page)

    shown = sam.get(f"/desk/issues/{issue['reference']}")
    page = text(shown)
    assert shown.status_code == 200, page
    assert "The cashier shouted at me" in page and 'name="t-manager_opinion"' in page
    assert "Where the process stands" in page and "<script" not in page

    task = stack.task_for("sam", issue["id"])
    missing = sam.post(f"/desk/issues/{issue['reference']}/tasks/{task['id']}/complete", {"t-manager_opinion": ""})
    assert missing.status_code == 400 and 'aria-invalid="true"' in text(missing)
    assert '<a href="#t-manager_opinion">Your account of the incident is required.</a>' in text(missing)
    done = sam.post(
        f"/desk/issues/{issue['reference']}/tasks/{task['id']}/complete", {"t-manager_opinion": "Spoke to them."}
    )
    assert done.status_code == 303 and "done=completed" in location(done)
    assert "Your answer was recorded" in text(sam.get(location(done).split("#")[0]))


def test_a_note_is_on_the_issue_page_but_never_on_the_status_page(stack, sam):
    issue = rude_staff_issue(stack, "desk-note@example.com")
    noted = sam.post(f"/desk/issues/{issue['reference']}/notes", {"text": "Team only: CCTV requested."})
    assert noted.status_code == 303
    page = text(sam.get(f"/desk/issues/{issue['reference']}"))
    assert "Team only: CCTV requested." in page and "entry-internal" in page
    token = services().status_links.link_for(issue["id"]).rsplit("/", 1)[-1]
    status_page = stack.client.http.get(f"/s/{token}")
    assert status_page.status_code == 200 and "The cashier shouted" in text(status_page)
    assert "CCTV" not in text(status_page)


def test_an_empty_reply_shows_the_form_again_with_its_error(stack, sam):
    issue = rude_staff_issue(stack, "desk-reply@example.com")
    empty = sam.post(f"/desk/issues/{issue['reference']}/replies", {"body": "   "})
    assert empty.status_code == 400
    page = text(empty)
    assert (
        '<a href="#reply-body">Your email is required.</a>' in page
        and '<details class="subform" open><summary>Reply to the customer' in page
    )


def test_lee_cannot_open_a_rude_staff_issue(stack):
    issue = rude_staff_issue(stack, "desk-lee@example.com")
    lee = Browser(stack)
    lee.sign_in("lee")
    refused = lee.get(f"/desk/issues/{issue['reference']}")
    assert refused.status_code == 404 and "The cashier" not in text(refused)
    found = lee.get(f"/desk/search?q={issue['reference']}")
    assert found.status_code == 400 and "that you may see" in text(found)


def test_a_reference_typed_in_the_search_box_opens_its_issue(stack, sam):
    issue = rude_staff_issue(stack, "desk-search@example.com")
    typed = sam.get(f"/desk/search?q={issue['reference'].lower()}")
    assert typed.status_code == 303 and location(typed) == f"/desk/issues/{issue['reference']}"
    words = sam.get("/desk/search?q=receipt+shouted")
    assert words.status_code == 200 and issue["reference"] in text(words)


def test_the_task_emails_link_opens_the_task_after_sign_in(stack):
    issue = rude_staff_issue(stack, "desk-link@example.com")
    task = stack.task_for("sam", issue["id"])
    browser = Browser(stack)
    away = browser.get(f"/desk/tasks/{task['id']}")
    assert away.status_code == 303 and location(away) == f"/desk/sign-in?next=/desk/tasks/{task['id']}"
    browser.get(location(away))
    back = browser.post(
        "/desk/sign-in", {"username": "sam", "password": DEMO_PASSWORD, "next": f"/desk/tasks/{task['id']}"}
    )
    there = browser.get(location(back))
    assert there.status_code == 303 and location(there) == f"/desk/issues/{issue['reference']}#task-{task['id']}"


def test_a_photo_the_customer_sent_is_previewed_and_the_pages_policy_lets_only_its_store_in(stack, sam):
    issue, _, _ = rude_staff_with_a_photo(stack, "desk-photo@example.com")
    shown = sam.get(f"/desk/issues/{issue['reference']}")
    page = text(shown)
    preview = re.search(r'<img src="([^"]+)" alt="receipt.png" class="preview">', page)
    assert shown.status_code == 200 and preview, page
    origin = "/".join(preview.group(1).replace("&amp;", "&").split("/")[:3])
    policy = {k.lower(): v for k, v in shown.headers.items()}["content-security-policy"]
    assert f"img-src 'self' {origin};" in policy and "script-src" not in policy
    plain = sam.get(f"/desk/issues/{rude_staff_issue(stack, 'desk-no-photo@example.com')['reference']}")
    assert "img-src 'self';" in {k.lower(): v for k, v in plain.headers.items()}["content-security-policy"]
