"""A moment as an agent reads it: in their own time zone, with UTC beside it.

An agent's zone is Cognito's standard `zoneinfo` attribute (an IANA name such as Europe/Istanbul);
an agent without one, or an outside party, reads the task's business calendar's zone, and UTC when
even that is unknown (decision 0030).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC_NAME = "UTC"


def known_zone(name: Any) -> str:
    """`name` if it is a time zone this system knows (an IANA name), else ""."""
    if not isinstance(name, str) or not name.strip() or len(name) > 64:
        return ""
    try:
        ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        return ""
    return name.strip()


def zone_for(own: str, calendar_zone: str) -> str:
    """The zone a holder reads times in: their own, else the task's calendar's, else UTC."""
    return known_zone(own) or known_zone(calendar_zone) or UTC_NAME


def moment_in(moment: datetime | None, zone: str) -> dict[str, str] | None:
    """`{"utc", "local", "time_zone"}` of a moment: ISO 8601 in UTC, and in `zone` with its offset."""
    if moment is None:
        return None
    zone = known_zone(zone) or UTC_NAME
    return {
        "utc": moment.astimezone(UTC).isoformat(),
        "local": moment.astimezone(ZoneInfo(zone)).isoformat(),
        "time_zone": zone,
    }


def in_words(moment: datetime, zone: str) -> str:
    """A moment for an email: `Mon 7 Dec 2026, 17:00 Europe/Istanbul (14:00 UTC)`; a UTC reader gets
    it once, and the UTC date is named when it differs from the local one."""
    zone = known_zone(zone) or UTC_NAME
    local = moment.astimezone(ZoneInfo(zone))
    said = f"{local:%a} {local.day} {local:%b %Y}, {local:%H:%M} {zone}"
    if zone == UTC_NAME:
        return said
    utc = moment.astimezone(UTC)
    same_day = utc.date() == local.date()
    return f"{said} ({utc:%H:%M} UTC)" if same_day else f"{said} ({utc:%a} {utc.day} {utc:%b}, {utc:%H:%M} UTC)"
