"""Free text that people type into Caseflow: its limits, what is refused and how it is normalised.

Whatever a customer or an agent types is stored in DynamoDB, written into emails (headers and
bodies) and returned as JSON. Text that one of those cannot carry is refused where it comes in,
with the field named, and invisible control characters are dropped there, so that everything
downstream can take whatever was accepted. Mail cannot be refused: `scrub` keeps what it can.
"""

from __future__ import annotations

import math
import re
from typing import Any

from chalicelib.domain.errors import FieldError, ValidationFailed

#: The documented limits, in characters (README, "Limits"); the web forms use the same ones.
NAME_LENGTH = 200
LINE_LENGTH = 500
MESSAGE_LENGTH = 20_000
EMAIL_LENGTH = 254
PHONE_LENGTH = 20
#: Cognito's own limits: longer credentials could never sign in.
USERNAME_LENGTH = 128
PASSWORD_LENGTH = 256
#: The largest magnitude of a number field: exact in a float, well inside DynamoDB's numbers.
NUMBER_LIMIT = 10**15

_UNPAIRED_SURROGATE = re.compile(r"[\ud800-\udfff]")
#: C0 controls but tab and newline, DEL, and C1 controls: invisible, and refused by mail headers or XML.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x84\x86-\x9f]")
_LINE_BREAKS = re.compile(r"\r\n?|[\x85\u2028\u2029]")
_SPACING = re.compile(r"[\t\n]+")
UNPAIRED_SURROGATE = "contains a character that is not valid Unicode text (an unpaired surrogate)"


def has_unpaired_surrogate(value: str) -> bool:
    """A lone UTF-16 surrogate (valid in JSON, e.g. "\\ud800") can be neither stored nor emailed."""
    return bool(_UNPAIRED_SURROGATE.search(value))


def normalise(value: str, single_line: bool = False) -> str:
    """Line breaks made `\\n`, control characters dropped, outer space trimmed; a single line
    (a subject, a name) has its breaks and tabs turned into a space, as a mail header needs."""
    value = _CONTROL.sub("", _LINE_BREAKS.sub("\n", value))
    if single_line:
        value = _SPACING.sub(" ", value)
    return value.strip()


def problem(value: Any, limit: int) -> str | None:
    """Why `value` cannot be accepted as text of at most `limit` characters, or None."""
    if not isinstance(value, str):
        return "must be text"
    if has_unpaired_surrogate(value):
        return UNPAIRED_SURROGATE
    if len(value) > limit:
        return f"must be at most {limit:,} characters"
    return None


def clean(value: Any, field: str, limit: int, single_line: bool = False, required: bool = True) -> str:
    """`value` normalised, or ValidationFailed naming `field` (text that is empty once normalised
    counts as missing)."""
    if value is None or value == "":
        if required:
            raise ValidationFailed([FieldError(field, "is required")])
        return ""
    message = problem(value, limit)
    if message is None:
        value = normalise(value, single_line)
        if required and not value:
            message = "is required"
    if message:
        raise ValidationFailed([FieldError(field, message)])
    return value


def scrub(value: str, limit: int | None = None, single_line: bool = False) -> str:
    """Text that cannot be refused (a received email): unpaired surrogates become U+FFFD, then
    `normalise`, and what passes `limit` is cut."""
    value = normalise(_UNPAIRED_SURROGATE.sub("\ufffd", value), single_line)
    return value[:limit] if limit is not None else value


def number_problem(value: float | int) -> str | None:
    """Why a number cannot be accepted (NaN and infinities are not JSON; huge ones not storable)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    if abs(value) >= NUMBER_LIMIT:
        return f"must be between -{NUMBER_LIMIT:,} and {NUMBER_LIMIT:,}"
    return None
