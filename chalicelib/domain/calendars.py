"""Business calendars: when a team is open, so that step deadlines count only open (business) time.

Hours are local wall-clock times in the calendar's time zone, and business time is real elapsed time: a
22:00-06:00 shift lasts 7 hours on the night clocks go forward and 9 on the night they go back.
A shift belongs to the date it starts on; it does not run when that date is a public holiday or a closed date.

Local boundaries that do not map to exactly one instant follow one rule: a start is read with `fold=0`
(the earlier instant of a repeated hour); an end is read as the later of its `fold=0` and `fold=1` instants,
which is the later instant of a repeated hour and, in a spring-forward gap, the `fold=0` reading as zoneinfo
gives it. An interval never ends before it starts, and time where shifts come to overlap counts once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.domain.problems import DefinitionProblems

ALWAYS_NAME = "24x7"
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 1440
SEARCH_DAYS = 5 * 366
_WEEK = 7 * MINUTES_PER_DAY
_RANGE = re.compile(r"^\s*(\d{2}):(\d{2})\s*-\s*(\d{2}):(\d{2})\s*$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ONE_DAY = timedelta(days=1)

Hours = tuple[tuple[tuple[int, int], ...], ...]
Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class BusinessCalendar:
    """Weekly open hours (Monday..Sunday, minutes after local midnight) in a time zone, less closed dates.

    A range whose end is not after its start runs overnight into the next day.
    """

    name: str
    timezone: str
    hours: Hours
    holiday_country: str | None = None
    holiday_subdivision: str | None = None
    closed_dates: frozenset[date] = frozenset()

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The UTC moment when `duration` of open time has elapsed after `start`.

        Counting begins at the next opening when `start` is closed; a zero duration gives `start` itself.
        Raises ValueError when no opening is found within SEARCH_DAYS.
        """
        start = _utc(start)
        if duration < timedelta(0):
            raise ValueError("duration must not be negative")
        if not duration or self.is_always_open():
            return start + duration
        remaining = duration
        for opens, closes in self._intervals(self._local_date(start) - _ONE_DAY):
            if closes <= start:
                continue
            begin = max(opens, start)
            if remaining <= closes - begin:
                return begin + remaining
            remaining -= closes - begin
        raise AssertionError("unreachable: the interval search ends by raising")

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Open time in [start, end); zero when `end` is not after `start`."""
        start, end = _utc(start), _utc(end)
        if end <= start:
            return timedelta(0)
        if self.is_always_open():
            return end - start
        total = timedelta(0)
        last = self._local_date(end) + _ONE_DAY
        for opens, closes in self._intervals(self._local_date(start) - _ONE_DAY, last):
            if opens >= end:
                break
            if closes > start:
                total += min(closes, end) - max(opens, start)
        return total

    def is_open(self, moment: datetime) -> bool:
        """Whether `moment` falls in open time (an interval includes its start, not its end)."""
        moment = _utc(moment)
        if self.is_always_open():
            return True
        day = self._local_date(moment)
        return any(opens <= moment < closes for opens, closes in self._intervals(day - _ONE_DAY, day + _ONE_DAY))

    def is_always_open(self) -> bool:
        """Open around the clock every day with nothing closed, so business time is plain elapsed time."""
        full = ((0, MINUTES_PER_DAY),)
        return all(day == full for day in self.hours) and not self.holiday_country and not self.closed_dates

    def is_closed_on(self, day: date) -> bool:
        """Whether shifts starting on local date `day` do not run (public holiday or closed date)."""
        country, subdivision = self.holiday_country, self.holiday_subdivision
        return day in self.closed_dates or bool(country and day in _public_holidays(country, subdivision, day.year))

    def _local_date(self, moment: datetime) -> date:
        return moment.astimezone(ZoneInfo(self.timezone)).date()

    def _shifts_on(self, day: date) -> list[Interval]:
        """The UTC intervals of the shifts starting on local date `day`, in order."""
        if self.is_closed_on(day):
            return []
        midnight = datetime.combine(day, time(), tzinfo=ZoneInfo(self.timezone))
        shifts = []
        for start, end in self.hours[day.weekday()]:
            opens = (midnight + timedelta(minutes=start)).astimezone(UTC)
            wall_end = midnight + timedelta(minutes=end if end > start else end + MINUTES_PER_DAY)
            closes = max(wall_end.astimezone(UTC), wall_end.replace(fold=1).astimezone(UTC))
            if closes > opens:
                shifts.append((opens, closes))
        return sorted(shifts)

    def _intervals(self, first: date, last: date | None = None) -> Iterator[Interval]:
        """Open intervals, disjoint and in order, of the shifts starting from `first` (through `last` if given).

        A shift that overlaps the one before it in real time is counted from where that one ends.
        Without `last`, raises ValueError after SEARCH_DAYS days in a row without any shift.
        """
        reached: datetime | None = None
        day, idle = first, 0
        while last is None or day <= last:
            shifts = self._shifts_on(day)
            idle = 0 if shifts else idle + 1
            if last is None and idle > SEARCH_DAYS:
                raise ValueError(f"calendar {self.name!r} has no open time within {SEARCH_DAYS} days of {first}")
            for opens, closes in shifts:
                opens = max(opens, reached or opens)
                if closes > opens:
                    yield opens, closes
                    reached = closes
            day += _ONE_DAY


ALWAYS = BusinessCalendar(name=ALWAYS_NAME, timezone="UTC", hours=(((0, MINUTES_PER_DAY),),) * 7)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("datetime must be timezone-aware")
    return moment.astimezone(UTC)


@lru_cache(maxsize=256)
def _public_holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    """One year's public holidays, cached: building a year in the `holidays` package costs far more than a lookup."""
    import holidays  # on first use: its import is a fifth of a second of every function's cold start

    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year))


def parse_calendar(name: str, raw: Any, path: str, problems: DefinitionProblems) -> BusinessCalendar | None:
    """Read one calendar definition; report every problem under `path` and return None if there was any."""
    before = len(problems.errors)
    if name == ALWAYS_NAME:
        problems.add(path, f"{ALWAYS_NAME!r} is built in and cannot be redefined")
    if not isinstance(raw, Mapping):
        problems.add(path, "must be a mapping")
        return None
    _check_keys(raw, ("timezone", "hours", "holidays", "closed"), path, problems)
    timezone = _parse_timezone(raw.get("timezone"), f"{path}.timezone", problems)
    hours = _parse_hours(raw.get("hours"), f"{path}.hours", problems)
    country, subdivision = _parse_holidays(raw.get("holidays"), f"{path}.holidays", problems)
    closed = _parse_closed(raw.get("closed"), f"{path}.closed", problems)
    if len(problems.errors) > before or timezone is None or hours is None:
        return None
    return BusinessCalendar(name, timezone, hours, country, subdivision, closed)


def _check_keys(raw: Mapping, allowed: tuple[str, ...], path: str, problems: DefinitionProblems) -> None:
    for key in raw:
        if key not in allowed:
            problems.add(f"{path}.{key}", f"unknown key; expected {', '.join(allowed)}")


def _parse_timezone(raw: Any, path: str, problems: DefinitionProblems) -> str | None:
    try:
        if isinstance(raw, str) and ZoneInfo(raw):
            return raw
    except (ZoneInfoNotFoundError, ValueError, OSError):
        pass
    problems.add(path, "is required" if raw is None else "not a time zone like Europe/London")
    return None


def _parse_hours(raw: Any, path: str, problems: DefinitionProblems) -> Hours | None:
    """Read the weekly hours; a day named by several keys (`mon-fri`, `sun-thu`) gets all their ranges."""
    if not isinstance(raw, Mapping):
        problems.add(path, "is required" if raw is None else "must map days (mon..sun, or like mon-fri) to time ranges")
        return None
    before = len(problems.errors)
    days: list[list[tuple[int, int, str]]] = [[] for _ in DAY_NAMES]
    for key, value in raw.items():
        indices = _day_indices(key)
        if indices is None:
            problems.add(f"{path}.{key}", "not a day or a range of days like mon-fri")
            continue
        ranges = _parse_ranges(value, f"{path}.{key}", problems)
        for index in indices:
            days[index].extend(ranges)
    _check_overlaps(days, problems)
    if len(problems.errors) == before and not any(days):
        problems.add(path, "has no open time")
    if len(problems.errors) > before:
        return None
    return tuple(tuple(sorted((start, end) for start, end, _ in day)) for day in days)


def _day_indices(key: Any) -> list[int] | None:
    """The weekdays of `mon`, or of a range `mon-fri`, which may wrap round the week (`sun-thu`)."""
    if not isinstance(key, str):
        return None
    first, _, last = key.strip().lower().partition("-")
    if first not in DAY_NAMES or (last and last not in DAY_NAMES):
        return None
    start, end = DAY_NAMES.index(first), DAY_NAMES.index(last or first)
    return [(start + offset) % 7 for offset in range((end - start) % 7 + 1)]


def _parse_ranges(raw: Any, path: str, problems: DefinitionProblems) -> list[tuple[int, int, str]]:
    if isinstance(raw, str):
        items = [(raw, path)]
    elif isinstance(raw, list):
        items = [(item, f"{path}[{index}]") for index, item in enumerate(raw)]
    else:
        problems.add(path, "must be a time range like 09:00-17:30 or a list of them")
        return []
    ranges = []
    for item, where in items:
        minutes = _parse_range(item)
        if minutes is None:
            problems.add(where, "not a time range like 09:00-17:30")
        else:
            ranges.append((*minutes, where))
    return ranges


def _parse_range(raw: Any) -> tuple[int, int] | None:
    match = _RANGE.match(raw) if isinstance(raw, str) else None
    if not match:
        return None
    start_h, start_m, end_h, end_m = (int(part) for part in match.groups())
    if start_h > 23 or start_m > 59 or end_m > 59 or end_h > 24 or (end_h == 24 and end_m):
        return None
    return start_h * 60 + start_m, end_h * 60 + end_m


def _check_overlaps(days: list[list[tuple[int, int, str]]], problems: DefinitionProblems) -> None:
    """Report ranges that overlap within the week, overnight tails (and Sunday into Monday) included."""
    spans = []
    for index, ranges in enumerate(days):
        for start, end, where in ranges:
            length = end - start if end > start else end + MINUTES_PER_DAY - start
            text = f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d} on {DAY_NAMES[index]}"
            spans.append((index * MINUTES_PER_DAY + start, length, where, text))
    spans.sort()
    found = {}
    for i, (a_start, a_length, _, a_text) in enumerate(spans):
        for b_start, b_length, b_where, b_text in spans[i + 1 :]:
            if any(
                a_start + shift < b_start + b_length and b_start < a_start + shift + a_length
                for shift in (-_WEEK, 0, _WEEK)
            ):
                found.setdefault((b_where, f"{b_text} overlaps {a_text}"), None)
    for where, message in found:
        problems.add(where, message)


def _parse_holidays(raw: Any, path: str, problems: DefinitionProblems) -> tuple[str | None, str | None]:
    if raw is None:
        return None, None
    if not isinstance(raw, Mapping):
        problems.add(path, "must be a mapping with a country and optionally a subdivision")
        return None, None
    _check_keys(raw, ("country", "subdivision"), path, problems)
    country, subdivision = raw.get("country"), raw.get("subdivision")
    import holidays  # on first use, as in _public_holidays

    if not isinstance(country, str) or country not in holidays.list_supported_countries():
        known = "is required" if country is None else "not a country code known to the holidays package"
        problems.add(f"{path}.country", f"{known}, like GB or US")
        return None, None
    if subdivision is not None:
        try:
            if not isinstance(subdivision, str):
                raise NotImplementedError(subdivision)
            holidays.country_holidays(country, subdiv=subdivision)
        except NotImplementedError:
            problems.add(f"{path}.subdivision", f"not a subdivision of {country}")
            return None, None
    return country, subdivision


def _parse_closed(raw: Any, path: str, problems: DefinitionProblems) -> frozenset[date]:
    if raw is None:
        return frozenset()
    if not isinstance(raw, list):
        problems.add(path, "must be a list of dates like 2026-12-24")
        return frozenset()
    closed = set()
    for index, item in enumerate(raw):
        if isinstance(item, str) and _ISO_DATE.match(item):
            with suppress(ValueError):
                item = date.fromisoformat(item)
        if isinstance(item, date) and not isinstance(item, datetime):
            closed.add(item)
        else:
            problems.add(f"{path}[{index}]", "not a date like 2026-12-24")
    return frozenset(closed)
