"""Cognito: agents' sign-in, their roles (groups), role members' addresses, and token checks."""

from __future__ import annotations

from typing import Any

import boto3
import jwt
from botocore.exceptions import ClientError

from chalicelib.domain.errors import Unauthenticated

_JWKS_TTL_SECONDS = 3600
_BAD_LOGIN = {"NotAuthorizedException", "UserNotFoundException", "PasswordResetRequiredException"}


class CognitoDirectory:
    def __init__(self, user_pool_id: str, client_id: str, client: Any = None):
        self._client = client or boto3.client("cognito-idp")
        self._pool = user_pool_id
        self._client_id = client_id

    def login(self, username: str, password: str) -> dict[str, Any]:
        """Cognito's tokens for a username and password; Unauthenticated when they are wrong."""
        try:
            result = self._client.initiate_auth(
                ClientId=self._client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": username, "PASSWORD": password},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] in _BAD_LOGIN:
                raise Unauthenticated("wrong username or password") from exc
            raise
        if "AuthenticationResult" not in result:
            raise Unauthenticated(f"sign-in needs a further step: {result.get('ChallengeName')}")
        return result["AuthenticationResult"]

    def role_member_emails(self, role: str) -> list[str]:
        emails: list[str] = []
        try:
            pages = self._client.get_paginator("list_users_in_group").paginate(UserPoolId=self._pool, GroupName=role)
            for page in pages:
                for user in page["Users"]:
                    attributes = {a["Name"]: a["Value"] for a in user.get("Attributes", [])}
                    if user.get("Enabled", True) and attributes.get("email"):
                        emails.append(attributes["email"])
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
        return sorted(emails)

    def user_email(self, username: str) -> str | None:
        try:
            user = self._client.admin_get_user(UserPoolId=self._pool, Username=username)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("UserNotFoundException", "ResourceNotFoundException"):
                return None
            raise
        attributes = {a["Name"]: a["Value"] for a in user.get("UserAttributes", [])}
        return attributes.get("email") if user.get("Enabled", True) else None


class CognitoTokenVerifier:
    """Checks an id token's signature (the pool's JWKS), expiry, issuer, audience and use.

    PyJWT's `PyJWKClient` fetches the JWKS and keeps it for an hour; a token naming a key it does
    not hold makes it fetch again, at most once every 30 seconds (a new key after rotation).
    """

    def __init__(self, jwks_url: str, issuer: str, audience: str):
        self._jwks = jwt.PyJWKClient(jwks_url, lifespan=_JWKS_TTL_SECONDS, timeout=5)
        self._issuer = issuer
        self._audience = audience

    def verify(self, token: str) -> dict[str, Any]:
        try:
            key = self._jwks.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "iss", "aud", "token_use"]},
            )
        except jwt.PyJWKClientConnectionError:
            raise  # the JWKS could not be fetched: our failure, not the caller's
        except jwt.PyJWKClientError as exc:
            raise Unauthenticated("token signed by an unknown key") from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"invalid token: {exc}") from exc
        if claims.get("token_use") != "id":
            raise Unauthenticated("an id token is required")
        return claims
