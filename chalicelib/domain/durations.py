"""ISO-8601 durations (`PT5H`, `P1DT2H`, `PT20S`) as used in issue type deadlines."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(
    r"^P(?!$)(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)


def parse_duration(text: str) -> timedelta:
    """Parse a duration of weeks, days, hours, minutes and seconds; raise ValueError otherwise.

    Years and months are refused on purpose: their length depends on the date.
    """
    match = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if not match:
        raise ValueError("not an ISO-8601 duration (e.g. PT5H, P2D, PT20S)")
    parts = {k: int(v) for k, v in match.groupdict().items() if v}
    duration = timedelta(**parts)
    if duration <= timedelta(0):
        raise ValueError("must be longer than zero")
    return duration
