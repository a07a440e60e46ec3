"""Agents' sign-in and the check of their bearer tokens."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.domain import free_text
from chalicelib.domain.agents import Agent
from chalicelib.domain.errors import FieldError, Unauthenticated, ValidationFailed
from chalicelib.domain.local_times import known_zone
from chalicelib.services.ports import Directory, TokenVerifier
from chalicelib.services.two_step import CODE_PROBLEM, looks_like_code

#: Cognito's refresh tokens are a few kB; anything far longer is not one.
_REFRESH_TOKEN_LENGTH = 8192
_CREDENTIAL_LENGTHS = {"username": free_text.USERNAME_LENGTH, "password": free_text.PASSWORD_LENGTH}
#: Cognito's sign-in sessions are at most 2,048 characters.
MFA_SESSION_LENGTH = 2048
_MFA_LENGTHS = {"username": free_text.USERNAME_LENGTH, "session": MFA_SESSION_LENGTH}


class AuthService:
    def __init__(self, directory: Directory, verifier: TokenVerifier):
        self._directory = directory
        self._verifier = verifier

    def login(self, request: Any) -> dict[str, Any]:
        """Exchange `{"username", "password"}` for Cognito's id, access and refresh tokens."""
        if not isinstance(request, dict):
            raise ValidationFailed([FieldError("body", "must be a JSON object")])
        errors = _text_problems(request, _CREDENTIAL_LENGTHS)
        if errors:
            raise ValidationFailed(errors)
        return self._tokens(self._directory.login(request["username"], request["password"]))

    def answer_mfa(self, request: Any) -> dict[str, Any]:
        """Exchange `{"username", "session", "code"}` for tokens: the second step of a sign-in whose
        `login` raised MfaRequired (its session), with the code of the agent's authenticator app."""
        if not isinstance(request, dict):
            raise ValidationFailed([FieldError("body", "must be a JSON object")])
        errors = _text_problems(request, _MFA_LENGTHS)
        code = request.get("code")
        if not looks_like_code(code):
            errors.append(FieldError("code", CODE_PROBLEM))
        if errors:
            raise ValidationFailed(errors)
        return self._tokens(self._directory.answer_mfa(request["username"], request["session"], code))

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        """Fresh tokens for a browser session whose id token expired (its refresh token kept)."""
        if not refresh_token or free_text.problem(refresh_token, _REFRESH_TOKEN_LENGTH):
            raise Unauthenticated("the session has ended; sign in again")
        return self._tokens(self._directory.refresh(refresh_token))

    @staticmethod
    def _tokens(result: dict[str, Any]) -> dict[str, Any]:
        return {
            "id_token": result["IdToken"],
            "access_token": result["AccessToken"],
            "refresh_token": result.get("RefreshToken"),
            "expires_in": result.get("ExpiresIn"),
            "token_type": "Bearer",
        }

    def agent_from_header(self, authorization: str | None) -> Agent:
        """The agent whose id token is in `Authorization: Bearer <token>`."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("send Authorization: Bearer <id token> (from POST /auth/login)")
        claims = self._verifier.verify(token.strip())
        return Agent(
            username=claims.get("cognito:username") or claims.get("username") or claims["sub"],
            email=claims.get("email", ""),
            roles=frozenset(claims.get("cognito:groups", [])),
            time_zone=known_zone(claims.get("zoneinfo")),
        )


def _text_problems(request: Mapping[str, Any], lengths: Mapping[str, int]) -> list[FieldError]:
    """What is wrong with the request's required text fields, each at most its length."""
    errors = [
        FieldError(name, "is required")
        for name in lengths
        if not isinstance(request.get(name), str) or not request.get(name)
    ]
    errors += [
        FieldError(name, message)
        for name, limit in lengths.items()
        if request.get(name) and (message := free_text.problem(request[name], limit))
    ]
    return errors
