"""Agents' sign-in and the check of their bearer tokens."""

from __future__ import annotations

from typing import Any

from chalicelib.domain import free_text
from chalicelib.domain.agents import Agent
from chalicelib.domain.errors import FieldError, Unauthenticated, ValidationFailed
from chalicelib.domain.local_times import known_zone
from chalicelib.services.ports import Directory, TokenVerifier

_CREDENTIAL_LENGTHS = {"username": free_text.USERNAME_LENGTH, "password": free_text.PASSWORD_LENGTH}


class AuthService:
    def __init__(self, directory: Directory, verifier: TokenVerifier):
        self._directory = directory
        self._verifier = verifier

    def login(self, request: Any) -> dict[str, Any]:
        """Exchange `{"username", "password"}` for Cognito's id, access and refresh tokens."""
        if not isinstance(request, dict):
            raise ValidationFailed([FieldError("body", "must be a JSON object")])
        errors = [
            FieldError(name, "is required")
            for name in ("username", "password")
            if not isinstance(request.get(name), str) or not request.get(name)
        ]
        errors += [
            FieldError(name, message)
            for name, limit in _CREDENTIAL_LENGTHS.items()
            if request.get(name) and (message := free_text.problem(request[name], limit))
        ]
        if errors:
            raise ValidationFailed(errors)
        result = self._directory.login(request["username"], request["password"])
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
