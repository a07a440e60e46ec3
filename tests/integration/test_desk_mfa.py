"""An agent with an authenticator app signs in in two steps, on moto's Cognito: the password, then
the app's 6-digit code (moto checks it against the app's secret when told to); at the desk's
sign-in and through the JSON API (POST /auth/login, then POST /auth/mfa)."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator

import boto3
import pytest
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP

from chalicelib import settings
from chalicelib.local.provision import DEMO_PASSWORD
from tests.integration.test_desk_pages import Browser, location, set_cookies, text

_STEP = 30


def _totp(secret: str) -> TOTP:
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    return TOTP(key, 6, SHA1(), _STEP, enforce_key_length=False)


def code_now(secret: str) -> str:
    """The app's code, from a fresh time step so that it is still current when Cognito checks it."""
    if _STEP - time.time() % _STEP < 3:
        time.sleep(_STEP - time.time() % _STEP + 0.1)
    return _totp(secret).generate(time.time()).decode()


@pytest.fixture
def mira(stack, monkeypatch) -> Iterator[str]:
    """An agent who has added an authenticator app: the app's secret."""
    monkeypatch.setenv("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "true")
    config = settings.get()
    cognito = boto3.client("cognito-idp")
    pool = config.user_pool_id
    cognito.admin_create_user(
        UserPoolId=pool,
        Username="mira",
        UserAttributes=[{"Name": "email", "Value": "mira@agents.caseflow.test"}],
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(UserPoolId=pool, Username="mira", Password=DEMO_PASSWORD, Permanent=True)
    cognito.admin_add_user_to_group(UserPoolId=pool, Username="mira", GroupName="store-manager")
    signed_in = cognito.initiate_auth(
        ClientId=config.user_pool_client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "mira", "PASSWORD": DEMO_PASSWORD},
    )
    access = signed_in["AuthenticationResult"]["AccessToken"]
    secret = cognito.associate_software_token(AccessToken=access)["SecretCode"]
    cognito.verify_software_token(AccessToken=access, UserCode=code_now(secret))
    cognito.admin_set_user_mfa_preference(
        UserPoolId=pool, Username="mira", SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True}
    )
    yield secret
    cognito.admin_delete_user(UserPoolId=pool, Username="mira")


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_the_password_alone_asks_for_the_apps_code_then_the_code_signs_in(stack, mira):
    browser = Browser(stack)
    browser.get("/desk/sign-in?next=/desk/search")
    asked = browser.post("/desk/sign-in", {"username": "mira", "password": DEMO_PASSWORD, "next": "/desk/search"})
    page = text(asked)
    assert asked.status_code == 200 and "Enter the 6-digit code from your authenticator app" in page
    assert 'inputmode="numeric"' in page and 'autocomplete="one-time-code"' in page and 'pattern="[0-9]{6}"' in page
    assert 'name="next" value="/desk/search"' in page and "caseflow_session" not in browser.cookies
    session = page.split('name="session" value="', 1)[1].split('"', 1)[0]

    refused = browser.post(
        "/desk/sign-in/code",
        {"username": "mira", "session": session, "code": wrong(code_now(mira)), "next": "/desk/search"},
    )
    assert refused.status_code == 401 and "Wrong or expired code." in text(refused)
    assert 'class="error-summary" role="alert"' in text(refused) and 'href="#code"' in text(refused)
    assert 'id="code"' in text(refused) and "caseflow_session" not in browser.cookies

    signed_in = browser.post(
        "/desk/sign-in/code", {"username": "mira", "session": session, "code": code_now(mira), "next": "/desk/search"}
    )
    assert signed_in.status_code == 303 and location(signed_in) == "/desk/search"
    assert any(c.startswith("caseflow_session=") for c in set_cookies(signed_in))
    assert browser.get("/desk").status_code == 200 and "Signed in as <strong>mira</strong>" in text(browser.last)


def test_a_code_that_is_not_six_digits_is_asked_for_again(stack, mira):
    browser = Browser(stack)
    browser.get("/desk/sign-in")
    asked = browser.post("/desk/sign-in", {"username": "mira", "password": DEMO_PASSWORD})
    session = text(asked).split('name="session" value="', 1)[1].split('"', 1)[0]
    refused = browser.post("/desk/sign-in/code", {"username": "mira", "session": session, "code": "12ab"})
    assert refused.status_code == 400 and "Enter the 6-digit code." in text(refused)
    assert 'name="session" value="' in text(refused) and "caseflow_session" not in browser.cookies


def test_the_json_api_signs_in_in_two_steps_with_the_session_it_gave(stack, mira):
    asked = stack.post("/auth/login", {"username": "mira", "password": DEMO_PASSWORD})
    assert asked.status_code == 401 and asked.json_body["challenge"] == "SOFTWARE_TOKEN_MFA"
    assert "POST /auth/mfa" in asked.json_body["message"]
    session = asked.json_body["session"]
    malformed = stack.post("/auth/mfa", {"username": "mira", "session": session, "code": "12345"})
    assert malformed.status_code == 400 and [e["field"] for e in malformed.json_body["errors"]] == ["code"]
    refused = stack.post("/auth/mfa", {"username": "mira", "session": session, "code": wrong(code_now(mira))})
    assert refused.status_code == 401 and "id_token" not in refused.json_body
    tokens = stack.post("/auth/mfa", {"username": "mira", "session": session, "code": code_now(mira)})
    assert tokens.status_code == 200, tokens.json_body
    assert stack.get("/agent/me", tokens.json_body["id_token"]).json_body["username"] == "mira"
