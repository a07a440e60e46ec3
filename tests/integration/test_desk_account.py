"""An agent turns two-step sign-in on and off themselves on the desk's account page, on moto's
Cognito (which checks the codes of the app's secret when told to): the key shown, a wrong first
code refused, then sign-in asks for the app's code until it is turned off."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import boto3
import pytest

from chalicelib import settings
from chalicelib.local.provision import DEMO_PASSWORD
from tests.integration.test_desk_mfa import code_now, wrong
from tests.integration.test_desk_pages import Browser, location, text

USERNAME = "nell"


@pytest.fixture
def nell(stack, monkeypatch) -> Iterator[Browser]:
    """An agent of her own (so the demo users keep signing in without a code), signed in at the desk."""
    monkeypatch.setenv("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "true")
    cognito = boto3.client("cognito-idp")
    pool = settings.get().user_pool_id
    cognito.admin_create_user(
        UserPoolId=pool,
        Username=USERNAME,
        UserAttributes=[{"Name": "email", "Value": "nell@agents.caseflow.test"}],
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(UserPoolId=pool, Username=USERNAME, Password=DEMO_PASSWORD, Permanent=True)
    cognito.admin_add_user_to_group(UserPoolId=pool, Username=USERNAME, GroupName="store-manager")
    browser = Browser(stack)
    assert browser.sign_in(USERNAME).status_code == 303
    yield browser
    cognito.admin_delete_user(UserPoolId=pool, Username=USERNAME)


def shown_key(page: str) -> str:
    """The key the set-up page shows, its blocks joined."""
    found = re.search(r'<p class="totp-key"><code>(.*?)</code></p>', page)
    assert found, page
    blocks = re.findall(r"<span>([A-Za-z2-7]+)</span>", found.group(1))
    assert blocks and all(len(b) == 4 for b in blocks[:-1]) and 0 < len(blocks[-1]) <= 4
    return "".join(blocks)


def turn_on(browser: Browser) -> str:
    """Two-step sign-in turned on through the account page: the app's key."""
    browser.get("/desk/account")
    key = shown_key(text(browser.post("/desk/account/mfa/setup", {})))
    done = browser.post("/desk/account/mfa/verify", {"code": code_now(key)})
    assert done.status_code == 303 and location(done) == "/desk/account?done=on", text(done)
    return key


def signs_in_with_password_alone(browser: Browser) -> bool:
    browser.post("/desk/sign-out", {})
    browser.get("/desk/sign-in")
    answer = browser.post("/desk/sign-in", {"username": USERNAME, "password": DEMO_PASSWORD})
    if answer.status_code == 303:
        return True
    assert answer.status_code == 200 and "Enter the 6-digit code from your authenticator app" in text(answer)
    return False


def test_the_account_page_says_who_the_agent_is_and_that_two_step_sign_in_is_off(stack, nell):
    page = text(nell.get("/desk/account"))
    assert nell.last.status_code == 200
    assert '<a href="/desk/account" aria-current="page">Account</a>' in page
    assert "<dd>nell</dd>" in page and "nell@agents.caseflow.test" in page and "<dd>store-manager</dd>" in page
    assert "Not set: times are shown in UTC" in page
    assert "<strong>Off.</strong>" in page and 'action="/desk/account/mfa/setup"' in page
    assert Browser(stack).get("/desk/account").status_code == 303  # signed out: off to sign in


def test_an_agent_turns_two_step_sign_in_on_after_a_wrong_code_and_sign_in_then_asks_for_it(nell):
    nell.get("/desk/account")
    setup = nell.post("/desk/account/mfa/setup", {})
    page = text(setup)
    assert setup.status_code == 200 and "Type this key into your app" in page
    key = shown_key(page)
    assert html.escape(f"otpauth://totp/Caseflow:nell?secret={key}&issuer=Caseflow") in page
    assert key not in page.split('<form method="post" action="/desk/account/mfa/verify"', 1)[1]

    refused = nell.post("/desk/account/mfa/verify", {"code": wrong(code_now(key))})
    page = text(refused)
    assert refused.status_code == 400 and "That is not the code your app shows now." in page
    assert 'class="error-summary" role="alert"' in page and 'href="#code"' in page and 'aria-invalid="true"' in page
    assert "Start again with a new key" in page
    malformed = nell.post("/desk/account/mfa/verify", {"code": "12ab"})
    assert malformed.status_code == 400 and "Enter the 6 digits your app shows." in text(malformed)
    assert "<strong>Off.</strong>" in text(nell.get("/desk/account"))

    done = nell.post("/desk/account/mfa/verify", {"code": code_now(key)})
    assert done.status_code == 303 and location(done) == "/desk/account?done=on"
    page = text(nell.get(location(done)))
    assert "Two-step sign-in is on." in page and "<strong>On.</strong>" in page and "Turn two-step sign-in off" in page

    assert not signs_in_with_password_alone(nell)
    session = text(nell.last).split('name="session" value="', 1)[1].split('"', 1)[0]
    signed_in = nell.post("/desk/sign-in/code", {"username": USERNAME, "session": session, "code": code_now(key)})
    assert signed_in.status_code == 303 and "Signed in as <strong>nell</strong>" in text(nell.get("/desk"))


def test_turning_two_step_sign_in_off_stops_asking_for_the_code(nell):
    turn_on(nell)
    again = nell.post("/desk/account/mfa/setup", {})
    assert again.status_code == 409 and "already on" in text(again)  # a new key would drop the app in use

    off = nell.post("/desk/account/mfa/off", {})
    assert off.status_code == 303 and location(off) == "/desk/account?done=off"
    page = text(nell.get(location(off)))
    assert "Two-step sign-in is off." in page and "<strong>Off.</strong>" in page
    assert signs_in_with_password_alone(nell)


def test_odd_posts_are_refused_with_a_page_and_change_nothing(nell):
    nell.get("/desk/account")
    for values in ([("code", "123456"), ("code", "654321")], {"code": "9" * 5000}, {"code": "１２３４５６"}, {}):
        refused = nell.post("/desk/account/mfa/verify", values)
        assert refused.status_code == 400 and 'class="error-summary" role="alert"' in text(refused), values
    nell.cookies.pop("caseflow_refresh")  # the account's own calls need it: sign in again
    gone = nell.post("/desk/account/mfa/setup", {})
    assert gone.status_code == 303 and location(gone).startswith("/desk/sign-in")
    assert signs_in_with_password_alone(nell)
