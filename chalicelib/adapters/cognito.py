"""Cognito: agents' sign-in, their roles and teams (groups) and members, and token checks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError, ParamValidationError

from chalicelib.domain.agent_groups import Group, Member
from chalicelib.domain.agents import Agent
from chalicelib.domain.assignees import ROLE, TEAM
from chalicelib.domain.errors import Conflict, FieldError, MfaRequired, Unauthenticated, ValidationFailed
from chalicelib.services.ports import DuplicateKey

if TYPE_CHECKING:
    from jwt import PyJWKClient

_JWKS_TTL_SECONDS = 3600
_BAD_LOGIN = {"NotAuthorizedException", "UserNotFoundException", "PasswordResetRequiredException"}
_NO_SUCH = ("UserNotFoundException", "ResourceNotFoundException")
#: A wrong code, a spent or expired session: the sign-in starts again or the code is retyped.
_BAD_CODE = {"CodeMismatchException", "ExpiredCodeException", "NotAuthorizedException", "ResourceNotFoundException"}
_TOTP = "SOFTWARE_TOKEN_MFA"
#: A first code from a newly added app that Cognito did not accept.
_BAD_FIRST_CODE = {"CodeMismatchException", "EnableSoftwareTokenMFAException"}
#: How a team is told apart from a role among the pool's groups: its description starts so
#: (decision 0028). Any other group, those without a description included, is a role.
TEAM_MARKER = "[team] "


def group_description(group: Group) -> str:
    """The group's description as Cognito keeps it: a team's carries the marker."""
    return TEAM_MARKER + group.description if group.kind == TEAM else group.description


def _group(raw: dict[str, Any]) -> Group:
    description = raw.get("Description", "")
    if description.startswith(TEAM_MARKER):
        return Group(raw["GroupName"], TEAM, description.removeprefix(TEAM_MARKER))
    return Group(raw["GroupName"], ROLE, description)


def _member(username: str, attributes: list[dict[str, str]], enabled: bool) -> Member:
    return Member(username, {a["Name"]: a["Value"] for a in attributes}.get("email", ""), enabled)


class CognitoDirectory:
    def __init__(self, user_pool_id: str, client_id: str, client: Any = None):
        self._client = client or boto3.client("cognito-idp")
        self._pool = user_pool_id
        self._client_id = client_id

    def login(self, username: str, password: str) -> dict[str, Any]:
        """Cognito's tokens for a username and password; Unauthenticated when they are wrong,
        MfaRequired when the account has an authenticator app (then `answer_mfa`)."""
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
        if result.get("ChallengeName") == _TOTP:
            raise MfaRequired(result["Session"])
        if "AuthenticationResult" not in result:
            raise Unauthenticated(f"sign-in needs a further step: {result.get('ChallengeName')}")
        return result["AuthenticationResult"]

    def answer_mfa(self, username: str, session: str, code: str) -> dict[str, Any]:
        """Cognito's tokens for the authenticator code that completes a sign-in."""
        try:
            result = self._client.respond_to_auth_challenge(
                ClientId=self._client_id,
                ChallengeName=_TOTP,
                Session=session,
                ChallengeResponses={"USERNAME": username, "SOFTWARE_TOKEN_MFA_CODE": code},
            )
        except ParamValidationError as exc:  # a session Cognito cannot have given (e.g. too short)
            raise Unauthenticated("this sign-in has expired; sign in again with your password") from exc
        except ClientError as exc:
            if exc.response["Error"]["Code"] in _BAD_CODE | _BAD_LOGIN:
                raise Unauthenticated("wrong or expired code") from exc
            raise
        if "AuthenticationResult" not in result:
            raise Unauthenticated(f"sign-in needs a further step: {result.get('ChallengeName')}")
        return result["AuthenticationResult"]

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        """Fresh id and access tokens for a refresh token; Unauthenticated when it is no longer valid."""
        try:
            result = self._client.initiate_auth(
                ClientId=self._client_id,
                AuthFlow="REFRESH_TOKEN_AUTH",
                AuthParameters={"REFRESH_TOKEN": refresh_token},
            )
        except ParamValidationError as exc:
            raise Unauthenticated("the session has ended; sign in again") from exc
        except ClientError as exc:
            if exc.response["Error"]["Code"] in _BAD_LOGIN:
                raise Unauthenticated("the session has ended; sign in again") from exc
            raise
        if "AuthenticationResult" not in result:
            raise Unauthenticated("the session has ended; sign in again")
        return result["AuthenticationResult"]

    # The agent's own authenticator app, with an access token of theirs (never kept)

    def mfa_enabled(self, access_token: str) -> bool:
        user = self._as_agent(self._client.get_user, AccessToken=access_token)
        return _TOTP in user.get("UserMFASettingList", [])

    def start_totp(self, access_token: str) -> str:
        """The secret of a new authenticator app; the app counts once its first code is verified."""
        return self._as_agent(self._client.associate_software_token, AccessToken=access_token)["SecretCode"]

    def finish_totp(self, access_token: str, code: str) -> None:
        """Verify the new app's first code, then ask for its code at every sign-in; ValidationFailed
        (on `code`) when Cognito does not accept the code."""
        try:
            self._client.verify_software_token(AccessToken=access_token, UserCode=code)
        except ParamValidationError as exc:
            raise ValidationFailed([FieldError("code", "must be the 6 digits your app shows")]) from exc
        except ClientError as exc:
            code_name = exc.response["Error"]["Code"]
            if code_name in _BAD_FIRST_CODE:
                raise ValidationFailed([FieldError("code", "does not match the app's code")]) from exc
            if code_name in _BAD_LOGIN:
                raise Unauthenticated("the session has ended; sign in again") from exc
            if code_name == "InvalidParameterException":
                raise Conflict("no authenticator app is being set up; start again") from exc
            raise
        self._as_agent(
            self._client.set_user_mfa_preference,
            AccessToken=access_token,
            SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True},
        )

    def stop_totp(self, access_token: str) -> None:
        self._as_agent(
            self._client.set_user_mfa_preference,
            AccessToken=access_token,
            SoftwareTokenMfaSettings={"Enabled": False, "PreferredMfa": False},
        )

    @staticmethod
    def _as_agent(call: Any, **params: Any) -> dict[str, Any]:
        """A call on the agent's own account: Unauthenticated when their access token is refused."""
        try:
            return call(**params)
        except ParamValidationError as exc:
            raise Unauthenticated("the session has ended; sign in again") from exc
        except ClientError as exc:
            if exc.response["Error"]["Code"] in _BAD_LOGIN:
                raise Unauthenticated("the session has ended; sign in again") from exc
            if exc.response["Error"]["Code"] == "InvalidParameterException":
                raise Conflict(exc.response["Error"].get("Message") or "Cognito refused the change") from exc
            raise

    def role_member_emails(self, role: str) -> list[str]:
        return sorted(self.role_member_time_zones(role))

    def role_member_time_zones(self, role: str) -> dict[str, str]:
        """One ListUsersInGroup call per 60 members: the zone comes with the address."""
        zones: dict[str, str] = {}
        try:
            pages = self._client.get_paginator("list_users_in_group").paginate(UserPoolId=self._pool, GroupName=role)
            for page in pages:
                for user in page["Users"]:
                    attributes = {a["Name"]: a["Value"] for a in user.get("Attributes", [])}
                    if user.get("Enabled", True) and attributes.get("email"):
                        zones[attributes["email"]] = attributes.get("zoneinfo", "")
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
        return zones

    def _user(self, username: str) -> dict[str, Any] | None:
        """AdminGetUser's answer; None for an unknown user (or pool)."""
        try:
            return self._client.admin_get_user(UserPoolId=self._pool, Username=username)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in _NO_SUCH:
                return None
            raise

    def user_email(self, username: str) -> str | None:
        user = self._user(username)
        if user is None or not user.get("Enabled", True):
            return None
        return {a["Name"]: a["Value"] for a in user.get("UserAttributes", [])}.get("email")

    def user_time_zone(self, username: str) -> str:
        user = self._user(username)
        if user is None:
            return ""
        return {a["Name"]: a["Value"] for a in user.get("UserAttributes", [])}.get("zoneinfo", "")

    def agent_named(self, username: str) -> Agent | None:
        user = self._user(username)
        if user is None or not user.get("Enabled", True):
            return None
        attributes = {a["Name"]: a["Value"] for a in user.get("UserAttributes", [])}
        paginator = self._client.get_paginator("admin_list_groups_for_user")
        pages = paginator.paginate(UserPoolId=self._pool, Username=username)
        groups = frozenset(g["GroupName"] for page in pages for g in page.get("Groups", []))
        return Agent(username, attributes.get("email", ""), groups)

    # Roles and teams (the AgentGroups port)

    def groups(self) -> list[Group]:
        pages = self._client.get_paginator("list_groups").paginate(UserPoolId=self._pool)
        return sorted((_group(g) for page in pages for g in page["Groups"]), key=lambda g: g.name)

    def group(self, name: str) -> Group | None:
        try:
            return _group(self._client.get_group(UserPoolId=self._pool, GroupName=name)["Group"])
        except ClientError as exc:
            if exc.response["Error"]["Code"] in _NO_SUCH:
                return None
            raise

    def create_group(self, group: Group) -> None:
        try:
            self._client.create_group(UserPoolId=self._pool, GroupName=group.name, Description=group_description(group))
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "GroupExistsException":
                raise DuplicateKey([exc.response["Error"]["Code"]]) from exc
            raise

    def members(self, name: str) -> list[Member] | None:
        try:
            pages = self._client.get_paginator("list_users_in_group").paginate(UserPoolId=self._pool, GroupName=name)
            users = [user for page in pages for user in page["Users"]]
        except ClientError as exc:
            if exc.response["Error"]["Code"] in _NO_SUCH:
                return None
            raise
        found = (_member(u["Username"], u.get("Attributes", []), u.get("Enabled", True)) for u in users)
        return sorted(found, key=lambda m: m.username)

    def agent(self, username: str) -> Member | None:
        user = self._user(username)
        if user is None:
            return None
        return _member(user["Username"], user.get("UserAttributes", []), user.get("Enabled", True))

    def add_member(self, name: str, username: str) -> None:
        self._client.admin_add_user_to_group(UserPoolId=self._pool, Username=username, GroupName=name)

    def remove_member(self, name: str, username: str) -> None:
        self._client.admin_remove_user_from_group(UserPoolId=self._pool, Username=username, GroupName=name)


class CognitoTokenVerifier:
    """Checks an id token's signature (the pool's JWKS), expiry, issuer, audience and use.

    PyJWT's `PyJWKClient` fetches the JWKS and keeps it for an hour; a token naming a key it does
    not hold makes it fetch again, at most once every 30 seconds (a new key after rotation).
    """

    def __init__(self, jwks_url: str, issuer: str, audience: str):
        self._jwks_url = jwks_url
        self._jwks: PyJWKClient | None = None
        self._issuer = issuer
        self._audience = audience

    def verify(self, token: str) -> dict[str, Any]:
        # PyJWT on the first token: it imports `cryptography`, a fifth of a second of a cold start
        # that invocations without a token (events, the public pages) need not pay.
        import jwt

        if self._jwks is None:
            self._jwks = jwt.PyJWKClient(self._jwks_url, lifespan=_JWKS_TTL_SECONDS, timeout=5)
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
