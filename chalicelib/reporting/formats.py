"""How the report writes its figures: "–" for no data (docs/kpis.md), durations people read at a glance,
and a real minus sign for negative numbers."""

from __future__ import annotations

import math

NONE = "–"
MINUS = "−"


def number(value: float | None, decimals: int = 1) -> str:
    """`value` rounded to `decimals`, with "−" for negatives and "–" for None; whole numbers lose ".0"."""
    if value is None:
        return NONE
    text = f"{abs(value):,.{decimals}f}"
    if "." in text and float(text.replace(",", "")) == int(float(text.replace(",", ""))):
        text = text.split(".")[0]
    return f"{MINUS}{text}" if value < 0 and text.strip("0,.") else text


def count(value: int | None) -> str:
    return NONE if value is None else f"{value:,}"


def percent(value: float | None) -> str:
    """A share as "66.7 %" ("–" when there was nothing to divide by)."""
    return NONE if value is None else f"{number(value)} %"


def points(value: float | None) -> str:
    """NPS in points, e.g. "−33.3"."""
    return number(value)


def duration(seconds: float | None) -> str:
    """Seconds as "45 s", "12 min", "3 h 20 min" or "2 d 4 h"; "–" for None."""
    if seconds is None:
        return NONE
    if seconds < 0:
        return f"{MINUS}{duration(-seconds)}"
    if seconds < 60:
        return f"{math.floor(seconds + 0.5)} s"
    minutes = math.floor(seconds / 60 + 0.5)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def hours(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 3600
