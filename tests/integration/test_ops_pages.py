"""Ops' dashboard pages on moto: signed in at the desk (CSRF and Cognito), the session cookie, roles, filters."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import urlencode

from chalicelib.local.provision import DEMO_PASSWORD

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
TODAY = datetime.now(UTC).date().isoformat()


def text(response) -> str:
    return response.body.decode() if isinstance(response.body, bytes) else response.body


def header(response, name: str) -> str:
    """A header's value; a header sent several times (Set-Cookie) as its values on lines of their own."""
    value = {k.lower(): v for k, v in response.headers.items()}.get(name.lower(), "")
    return "\n".join(value) if isinstance(value, list) else value


def form_cookie_and_token(stack) -> tuple[str, str]:
    moved = stack.client.http.get("/ops/sign-in")
    assert moved.status_code == 303 and header(moved, "location") == "/desk/sign-in?next=/ops/dashboard"
    shown = stack.client.http.get(header(moved, "location"))
    assert shown.status_code == 200 and 'name="password"' in text(shown)
    cookie = re.search(r"caseflow_form=([^;]+)", header(shown, "set-cookie")).group(1)
    token = re.search(r'name="csrf-token" value="([^"]+)"', text(shown)).group(1)
    return cookie, token


def sign_in(stack, username: str, password: str = DEMO_PASSWORD):
    cookie, token = form_cookie_and_token(stack)
    body = urlencode({"username": username, "password": password, "csrf-token": token, "next": "/ops/dashboard"})
    return stack.client.http.post("/desk/sign-in", headers={**FORM, "Cookie": f"caseflow_form={cookie}"}, body=body)


def session(stack, username: str) -> str:
    """The Cookie header of a browser signed in as `username`."""
    signed_in = sign_in(stack, username)
    assert signed_in.status_code == 303, text(signed_in)
    return "caseflow_session=" + re.search(r"caseflow_session=([^;]+)", header(signed_in, "set-cookie")).group(1)


def dashboard(stack, cookie: str, query: str = ""):
    return stack.client.http.get(f"/ops/dashboard{query}", headers={"Cookie": cookie})


def resolve_an_enquiry(stack, email: str) -> None:
    fields = {"subject": "Opening hours", "message": "When do you open on Sunday?"}
    issue_id = stack.open_issue("general-enquiry", fields, email).json_body["id"]
    task = stack.pump_until(lambda: stack.task_for("alice", issue_id, "answer"), what="the answer task")
    done = stack.post(
        f"/agent/tasks/{task['id']}/complete",
        {"fields": {"answer": "From 10:00.", "needs_follow_up": False}},
        stack.token("alice"),
    )
    assert done.status_code == 200, done.body
    stack.pump_until(lambda: stack.issue(issue_id)["status"] == "resolved", what="resolution")


def test_omar_signs_in_and_sees_the_report_with_its_charts(stack):
    resolve_an_enquiry(stack, "ops-pages@example.com")
    assert stack.post("/admin/ops/hourly", {}, stack.token("ada")).status_code == 200

    signed_in = sign_in(stack, "omar")
    assert signed_in.status_code == 303 and header(signed_in, "location") == "/ops/dashboard"
    cookie = header(signed_in, "set-cookie")
    cookie = cookie.splitlines()[0]
    assert cookie.startswith("caseflow_session=ey")
    assert {"HttpOnly", "SameSite=Strict", "Path=/", "Secure"} <= {p.strip() for p in cookie.split(";")}

    shown = dashboard(stack, cookie.split(";")[0], f"?from={TODAY}&to={TODAY}")
    page = text(shown)
    assert shown.status_code == 200, page
    assert "Signed in as <strong>omar</strong>" in page
    assert page.count('<svg class="chart"') == 5
    for chart in ("contacts", "resolution", "sla"):
        assert re.search(rf'id="chart-{chart}" data-state="data"', page), chart
    for kpi in ("contacts", "first-response", "resolution", "sla", "fcr", "backlog", "csat", "nps", "reopen"):
        assert f'data-kpi="{kpi}"' in page
    assert "general-enquiry" in page and f'value="{TODAY}"' in page
    assert "<script" not in page and "<style" not in page and ' style="' not in page
    policy = header(shown, "content-security-policy")
    assert "style-src 'self'" in policy and "script-src" not in policy and "default-src 'none'" in policy
    stylesheet = re.search(r'href="(/assets/ops-report\.css\?v=[0-9a-f]+)"', page).group(1)
    served = stack.client.http.get(stylesheet)
    assert served.status_code == 200 and header(served, "content-type").startswith("text/css")
    assert ".tiles" in text(served)


def test_a_bearer_token_opens_the_dashboard_too(stack):
    shown = stack.client.http.get("/ops/dashboard", headers={"Authorization": f"Bearer {stack.token('ada')}"})
    assert shown.status_code == 200 and "Signed in as <strong>ada</strong>" in text(shown)


def test_an_agent_without_the_ops_role_gets_a_403_page(stack):
    shown = dashboard(stack, session(stack, "alice"))
    assert shown.status_code == 403
    assert "alice" in text(shown) and "ops" in text(shown) and 'action="/desk/sign-out"' in text(shown)
    assert "<svg" not in text(shown)


def test_without_a_session_the_dashboard_sends_you_to_sign_in(stack):
    plain = stack.client.http.get("/ops/dashboard")
    assert plain.status_code == 303 and header(plain, "location") == "/desk/sign-in?next=/ops/dashboard"
    expired = dashboard(stack, "caseflow_session=not-a-token")
    assert expired.status_code == 303 and header(expired, "location") == "/desk/sign-in?next=/ops/dashboard"
    assert "caseflow_session=;" in (header(expired, "set-cookie")) and "Max-Age=0" in (header(expired, "set-cookie"))


def test_a_wrong_password_shows_the_form_again_with_a_401(stack):
    refused = sign_in(stack, "omar", "not-the-password")
    page = text(refused)
    assert refused.status_code == 401
    assert "Wrong username or password." in page and 'name="password"' in page and 'value="omar"' in page
    assert "caseflow_session" not in (header(refused, "set-cookie"))
    empty = sign_in(stack, "", "")
    assert empty.status_code == 400 and "Enter your username." in text(empty)


def test_a_sign_in_without_the_forms_token_is_refused(stack):
    cookie, _ = form_cookie_and_token(stack)
    body = urlencode({"username": "omar", "password": DEMO_PASSWORD, "csrf-token": "forged"})
    forged = stack.client.http.post("/desk/sign-in", headers={**FORM, "Cookie": f"caseflow_form={cookie}"}, body=body)
    assert forged.status_code == 403 and "caseflow_session" not in (header(forged, "set-cookie"))


def test_bad_filter_values_get_a_400_page_naming_the_field(stack):
    cookie = session(stack, "omar")
    bad_from = dashboard(stack, cookie, "?from=2026-13-01")
    page = text(bad_from)
    assert bad_from.status_code == 400
    assert 'id="filter-from-error"' in page and "from: must be a date as YYYY-MM-DD" in page
    assert 'aria-invalid="true"' in page and "<svg" not in page
    bad_channel = dashboard(stack, cookie, "?channel=fax")
    assert bad_channel.status_code == 400 and 'id="filter-channel-error"' in text(bad_channel)


def test_signing_out_clears_the_session(stack):
    cookie = session(stack, "omar")
    form_cookie, token = form_cookie_and_token(stack)
    out = stack.client.http.post(
        "/desk/sign-out",
        headers={**FORM, "Cookie": f"{cookie}; caseflow_form={form_cookie}"},
        body=urlencode({"csrf-token": token}),
    )
    assert out.status_code == 303 and header(out, "location") == "/desk/sign-in"
    assert "caseflow_session=;" in (header(out, "set-cookie")) and "Max-Age=0" in (header(out, "set-cookie"))
