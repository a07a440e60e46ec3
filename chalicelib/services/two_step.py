"""Two-step sign-in that agents turn on and off themselves: an authenticator app (TOTP) on their
own Cognito account. The pool's MFA policy is "optional", so each agent chooses.

Every call takes an access token of the agent's, which the caller gets from their session just for
the call and never keeps. Cognito keeps the new app's secret between `start` and `finish`: the
first code the app shows proves it was typed in correctly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from chalicelib.domain.errors import Conflict, FieldError, ValidationFailed
from chalicelib.services.ports import Directory

#: The name an authenticator app shows beside the account.
ISSUER = "Caseflow"
_CODE = re.compile(r"[0-9]{6}")
#: What a code that is not an authenticator app's 6 digits gets, at sign-in and when adding an app.
CODE_PROBLEM = "must be the 6 digits your authenticator app shows"


@dataclass(frozen=True)
class NewApp:
    """What an agent types into their authenticator app: the secret, or the whole `otpauth://` URI."""

    secret: str
    uri: str


def looks_like_code(code: Any) -> bool:
    """Whether `code` could be an authenticator app's code: 6 digits."""
    return isinstance(code, str) and bool(_CODE.fullmatch(code))


def otpauth_uri(username: str, secret: str) -> str:
    """The key URI authenticator apps read: the issuer and the agent name the account in the app."""
    label = quote(f"{ISSUER}:{username}", safe=":")
    return f"otpauth://totp/{label}?{urlencode({'secret': secret, 'issuer': ISSUER})}"


class TwoStepSignIn:
    def __init__(self, directory: Directory):
        self._directory = directory

    def is_on(self, access_token: str) -> bool:
        return self._directory.mfa_enabled(access_token)

    def start(self, access_token: str, username: str) -> NewApp:
        """A new app's secret. Refused (Conflict) while two-step sign-in is on: Cognito would drop
        the app in use as soon as it gave out a new secret."""
        if self._directory.mfa_enabled(access_token):
            raise Conflict("two-step sign-in is already on; turn it off before adding another app")
        secret = self._directory.start_totp(access_token)
        return NewApp(secret, otpauth_uri(username, secret))

    def finish(self, access_token: str, code: Any) -> None:
        """Turn two-step sign-in on with the new app's first code; ValidationFailed on `code` when it
        is not 6 digits or not the app's, and then nothing changes."""
        if not looks_like_code(code):
            raise ValidationFailed([FieldError("code", CODE_PROBLEM)])
        self._directory.finish_totp(access_token, code)

    def stop(self, access_token: str) -> None:
        """Back to the password alone (the app's secret stays with Cognito, unused)."""
        self._directory.stop_totp(access_token)
