from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.calendars import ALWAYS, ALWAYS_NAME, BusinessCalendar, parse_calendar
from chalicelib.domain.problems import DefinitionProblems

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
HOUR = timedelta(hours=1)


def calendar(raw, name="test"):
    problems = DefinitionProblems()
    parsed = parse_calendar(name, raw, f"calendars.{name}", problems)
    assert problems.errors == []
    return parsed


def errors_of(raw, name="bad"):
    problems = DefinitionProblems()
    assert parse_calendar(name, raw, f"calendars.{name}", problems) is None
    return {e.field: e.message for e in problems.errors}


def london(*args):
    return datetime(*args, tzinfo=LONDON)


def new_york(*args):
    return datetime(*args, tzinfo=NEW_YORK)


UK_OFFICE = calendar(
    {
        "timezone": "Europe/London",
        "hours": {"mon-fri": "09:00-17:00"},
        "holidays": {"country": "GB", "subdivision": "ENG"},
    },
    "uk-office",
)
LONDON_NIGHTS = calendar({"timezone": "Europe/London", "hours": {"mon-sun": "22:00-06:00"}}, "london-nights")
NY_NIGHTS = calendar(
    {
        "timezone": "America/New_York",
        "hours": {"mon-fri": "22:00-06:00", "sat": ["10:00-13:00", "14:00-16:00"]},
        "holidays": {"country": "US", "subdivision": "NY"},
    },
    "ny-nights",
)
LONDON_SMALL_HOURS = calendar(
    {"timezone": "Europe/London", "hours": {"mon-sun": ["00:15-01:30", "01:30-02:15", "23:30-24:00"]}},
    "london-small-hours",
)


# --- adding business time -------------------------------------------------------------------------


def test_friday_afternoon_plus_three_hours_lands_on_monday_morning():
    result = UK_OFFICE.add(london(2026, 8, 21, 16), 3 * HOUR)
    assert result == london(2026, 8, 24, 11)
    assert result.tzinfo is UTC


def test_a_bank_holiday_monday_pushes_the_deadline_to_tuesday():
    assert date(2026, 8, 31) in holidays.country_holidays("GB", subdiv="ENG", years=2026)
    assert UK_OFFICE.add(london(2026, 8, 28, 16), 3 * HOUR) == london(2026, 9, 1, 11)


def test_closed_dates_are_skipped():
    shut = calendar({"timezone": "Europe/London", "hours": {"mon-fri": "09:00-17:00"}, "closed": ["2026-08-24"]})
    assert shut.closed_dates == frozenset({date(2026, 8, 24)})
    assert shut.add(london(2026, 8, 21, 16), 3 * HOUR) == london(2026, 8, 25, 11)


def test_counting_starts_at_opening_when_started_before_it():
    assert UK_OFFICE.add(london(2026, 8, 24, 7, 30), HOUR) == london(2026, 8, 24, 10)


def test_starting_exactly_at_closing_counts_from_the_next_opening():
    assert not UK_OFFICE.is_open(london(2026, 8, 24, 17))
    assert UK_OFFICE.is_open(london(2026, 8, 24, 16, 59, 59))
    assert UK_OFFICE.add(london(2026, 8, 24, 17), HOUR) == london(2026, 8, 25, 10)


def test_filling_the_day_exactly_ends_at_closing_not_at_the_next_opening():
    assert UK_OFFICE.add(london(2026, 8, 24, 9), 8 * HOUR) == london(2026, 8, 24, 17)


def test_a_zero_duration_is_the_start_itself_even_when_closed():
    saturday = london(2026, 8, 22, 12)
    assert UK_OFFICE.add(saturday, timedelta(0)) == saturday
    assert UK_OFFICE.add(saturday, timedelta(0)).tzinfo is UTC


def test_the_start_may_be_in_any_time_zone():
    assert UK_OFFICE.add(new_york(2026, 8, 21, 11), 3 * HOUR) == london(2026, 8, 24, 11)


def test_thirty_business_days_ahead():
    assert UK_OFFICE.add(london(2026, 1, 5, 9), 30 * 8 * HOUR) == london(2026, 2, 13, 17)
    assert UK_OFFICE.business_time_between(london(2026, 1, 5), london(2026, 2, 14)) == 240 * HOUR


def test_refuses_naive_datetimes_and_negative_durations():
    with pytest.raises(ValueError):
        UK_OFFICE.add(datetime(2026, 8, 24, 9), HOUR)
    with pytest.raises(ValueError):
        UK_OFFICE.add(london(2026, 8, 24, 9), -HOUR)


def test_gives_up_when_there_is_no_opening_within_the_search_bound():
    never = BusinessCalendar("never", "UTC", ((),) * 7)
    with pytest.raises(ValueError, match="no open time"):
        never.add(datetime(2026, 1, 1, tzinfo=UTC), HOUR)
    assert never.business_time_between(datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)) == timedelta(
        0
    )


# --- overnight shifts and holidays ---------------------------------------------------------------


def test_an_overnight_shift_runs_into_the_next_morning():
    assert NY_NIGHTS.add(new_york(2026, 6, 9, 5), 2 * HOUR) == new_york(2026, 6, 9, 23)
    assert NY_NIGHTS.is_open(new_york(2026, 6, 10, 3))
    assert not NY_NIGHTS.is_open(new_york(2026, 6, 10, 6))


def test_a_friday_night_shift_runs_into_saturday_before_the_saturday_hours():
    assert (
        NY_NIGHTS.business_time_between(new_york(2026, 6, 12), new_york(2026, 6, 14)) == 6 * HOUR + 8 * HOUR + 5 * HOUR
    )
    assert NY_NIGHTS.add(new_york(2026, 6, 13, 5), 2 * HOUR) == new_york(2026, 6, 13, 11)


def test_a_shift_starting_on_a_holiday_does_not_run_but_one_running_into_it_does():
    # Thanksgiving is Thursday 2026-11-26: Wednesday's shift runs into it, Thursday's does not start.
    assert NY_NIGHTS.is_open(new_york(2026, 11, 26, 3))
    assert not NY_NIGHTS.is_open(new_york(2026, 11, 26, 23))
    assert NY_NIGHTS.business_time_between(new_york(2026, 11, 25, 20), new_york(2026, 11, 27, 8)) == 8 * HOUR


def test_a_us_office_skips_the_observed_independence_day():
    ny_office = calendar(
        {"timezone": "America/New_York", "hours": {"mon-fri": "09:00-17:00"}, "holidays": {"country": "US"}}
    )
    assert ny_office.add(new_york(2026, 7, 2, 16), 2 * HOUR) == new_york(2026, 7, 6, 10)


# --- daylight saving time -------------------------------------------------------------------------


def test_the_night_clocks_go_forward_has_seven_real_hours():
    start, end = london(2026, 3, 28, 21), london(2026, 3, 29, 7)
    assert LONDON_NIGHTS.business_time_between(start, end) == 7 * HOUR
    assert LONDON_NIGHTS.add(start, 7 * HOUR) == london(2026, 3, 29, 6)
    assert LONDON_NIGHTS.add(start, 7 * HOUR) == datetime(2026, 3, 29, 5, tzinfo=UTC)


def test_the_night_clocks_go_back_has_nine_real_hours():
    start, end = london(2026, 10, 24, 21), london(2026, 10, 25, 7)
    assert LONDON_NIGHTS.business_time_between(start, end) == 9 * HOUR
    assert LONDON_NIGHTS.add(start, 9 * HOUR) == datetime(2026, 10, 25, 6, tzinfo=UTC)
    assert LONDON_NIGHTS.add(start, 8 * HOUR) == datetime(2026, 10, 25, 5, tzinfo=UTC)


def test_an_american_overnight_shift_across_spring_forward():
    nights = calendar({"timezone": "America/New_York", "hours": {"sat": "22:00-06:00"}})
    assert nights.business_time_between(new_york(2026, 3, 7), new_york(2026, 3, 9)) == 7 * HOUR
    assert nights.business_time_between(new_york(2026, 10, 31), new_york(2026, 11, 2)) == 9 * HOUR


def sunday_hours(*ranges):
    return calendar({"timezone": "Europe/London", "hours": {"sun": list(ranges)}})


def between_utc(cal, first, last):
    return cal.business_time_between(datetime(*first, tzinfo=UTC), datetime(*last, tzinfo=UTC))


def test_a_start_in_the_spring_forward_gap_reads_like_zoneinfo_fold_0():
    # 01:30 does not exist on 2026-03-29; fold=0 reads it with the winter offset, as 01:30 UTC.
    assert between_utc(sunday_hours("01:30-05:00"), (2026, 3, 28), (2026, 3, 30)) == timedelta(hours=2, minutes=30)
    assert between_utc(sunday_hours("00:30-01:30"), (2026, 3, 28), (2026, 3, 30)) == HOUR


def test_a_shift_that_vanishes_in_the_gap_counts_nothing_rather_than_negative_time():
    # 01:45 reads as 01:45 UTC and 02:15 (summer time) is 01:15 UTC: an end before the start.
    gone = sunday_hours("01:45-02:15")
    assert between_utc(gone, (2026, 3, 28), (2026, 3, 30)) == timedelta(0)
    assert gone.add(datetime(2026, 3, 28, tzinfo=UTC), timedelta(minutes=30)) == datetime(2026, 4, 5, 1, 15, tzinfo=UTC)


def test_in_the_repeated_hour_starts_take_the_first_instant_and_ends_the_second():
    assert between_utc(sunday_hours("00:00-01:30"), (2026, 10, 24), (2026, 10, 26)) == timedelta(hours=2, minutes=30)
    assert between_utc(sunday_hours("01:30-03:00"), (2026, 10, 24), (2026, 10, 26)) == timedelta(hours=2, minutes=30)


def test_adjacent_shifts_overlapping_in_real_time_are_counted_once():
    both = sunday_hours("00:00-01:30", "01:30-03:00")
    assert between_utc(both, (2026, 10, 24), (2026, 10, 26)) == 4 * HOUR
    assert both.add(datetime(2026, 10, 24, 23, tzinfo=UTC), 4 * HOUR) == datetime(2026, 10, 25, 3, tzinfo=UTC)


# --- the 24x7 calendar ----------------------------------------------------------------------------


def test_the_always_open_calendar_is_plain_elapsed_time():
    start = london(2026, 10, 24, 21)
    assert ALWAYS.add(start, 10 * HOUR) == london(2026, 10, 25, 6)  # real hours: the clocks go back that night
    start = start.astimezone(UTC)
    assert ALWAYS.name == ALWAYS_NAME == "24x7"
    assert ALWAYS.is_always_open()
    assert ALWAYS.add(start, 10 * HOUR) == start + 10 * HOUR
    assert ALWAYS.add(start, 10 * HOUR).tzinfo is UTC
    assert ALWAYS.business_time_between(start, start + 10 * HOUR) == 10 * HOUR
    assert ALWAYS.business_time_between(start, start - HOUR) == timedelta(0)
    assert ALWAYS.is_open(start)


def test_round_the_clock_hours_with_a_closed_date_are_not_always_open():
    cal = calendar({"timezone": "Europe/London", "hours": {"mon-sun": "00:00-24:00"}, "closed": ["2026-12-25"]})
    assert not cal.is_always_open()
    assert cal.add(london(2026, 12, 24, 23), 2 * HOUR) == london(2026, 12, 26, 1)


# --- parsing --------------------------------------------------------------------------------------


def test_parses_the_documented_example():
    cal = calendar(
        {
            "timezone": "Europe/London",
            "hours": {"mon-fri": "09:00-17:30", "sat": ["10:00-13:00", "14:00-16:00"], "sun": "22:00-06:00"},
            "holidays": {"country": "GB", "subdivision": "ENG"},
            "closed": ["2026-12-24", date(2026, 12, 31)],
        },
        "uk-stores",
    )
    assert cal == BusinessCalendar(
        name="uk-stores",
        timezone="Europe/London",
        hours=(((540, 1050),),) * 5 + (((600, 780), (840, 960)), ((1320, 360),)),
        holiday_country="GB",
        holiday_subdivision="ENG",
        closed_dates=frozenset({date(2026, 12, 24), date(2026, 12, 31)}),
    )


def test_a_day_range_may_wrap_round_the_week():
    nights = calendar({"timezone": "UTC", "hours": {"mon-fri": "08:00-20:00", "sun-thu": "20:00-08:00"}})
    assert [len(day) for day in nights.hours] == [2, 2, 2, 2, 1, 0, 1]
    assert (
        nights.business_time_between(datetime(2026, 6, 7, tzinfo=UTC), datetime(2026, 6, 14, tzinfo=UTC))
        == 5 * 24 * HOUR
    )


def test_accepts_24_00_as_an_end_and_a_full_day_overnight_shift():
    cal = calendar({"timezone": "UTC", "hours": {"mon": "18:00-24:00", "wed": "09:00-09:00"}})
    assert cal.hours[0] == ((1080, 1440),)
    assert cal.business_time_between(datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 6, 8, tzinfo=UTC)) == 30 * HOUR


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"timezone": "Mars/Olympus", "hours": {"mon": "09:00-17:00"}}, {"calendars.bad.timezone"}),
        ({"hours": {"mon": "09:00-17:00"}}, {"calendars.bad.timezone"}),
        ({"timezone": "UTC", "hours": {"mon-fri": "9-5"}}, {"calendars.bad.hours.mon-fri"}),
        ({"timezone": "UTC", "hours": {"mon": "24:00-25:00"}}, {"calendars.bad.hours.mon"}),
        ({"timezone": "UTC", "hours": {"mon": "09:60-10:00"}}, {"calendars.bad.hours.mon"}),
        ({"timezone": "UTC", "hours": {"sat": ["10:00-13:00", "noon"]}}, {"calendars.bad.hours.sat[1]"}),
        ({"timezone": "UTC", "hours": {"mon": 9}}, {"calendars.bad.hours.mon"}),
        ({"timezone": "UTC", "hours": {"monday": "09:00-17:00"}}, {"calendars.bad.hours.monday"}),
        ({"timezone": "UTC", "hours": {"mon-friday": "09:00-17:00"}}, {"calendars.bad.hours.mon-friday"}),
        ({"timezone": "UTC", "hours": {"mon-fri-sat": "09:00-17:00"}}, {"calendars.bad.hours.mon-fri-sat"}),
        ({"timezone": "UTC", "hours": {"mon-fri": "09:00-17:00", "wed": "16:00-19:00"}}, {"calendars.bad.hours.wed"}),
        ({"timezone": "UTC", "hours": {}}, {"calendars.bad.hours"}),
        ({"timezone": "UTC", "hours": {"mon": []}}, {"calendars.bad.hours"}),
        ({"timezone": "UTC"}, {"calendars.bad.hours"}),
        ({"timezone": "UTC", "hours": ["09:00-17:00"]}, {"calendars.bad.hours"}),
        (
            {"timezone": "UTC", "hours": {"mon": "09:00-17:00"}, "holidays": {"country": "XX"}},
            {"calendars.bad.holidays.country"},
        ),
        (
            {"timezone": "UTC", "hours": {"mon": "09:00-17:00"}, "holidays": {"country": "GB", "subdivision": "XX"}},
            {"calendars.bad.holidays.subdivision"},
        ),
        ({"timezone": "UTC", "hours": {"mon": "09:00-17:00"}, "holidays": "GB"}, {"calendars.bad.holidays"}),
        (
            {"timezone": "UTC", "hours": {"mon": "09:00-17:00"}, "holidays": {"subdivision": "ENG"}},
            {"calendars.bad.holidays.country"},
        ),
        ({"timezone": "UTC", "hours": {"mon": "09:00-17:00"}, "closed": ["2026-02-30"]}, {"calendars.bad.closed[0]"}),
        (
            {"timezone": "UTC", "hours": {"mon": "09:00-17:00"}, "closed": ["2026-12-24", "Christmas Eve"]},
            {"calendars.bad.closed[1]"},
        ),
        ({"timezone": "UTC", "hours": {"mon": "09:00-17:00"}, "closed": "2026-12-24"}, {"calendars.bad.closed"}),
        ({"timezone": "UTC", "hours": {"mon": "09:00-17:00"}, "open": True}, {"calendars.bad.open"}),
        ("UTC 09:00-17:00", {"calendars.bad"}),
    ],
)
def test_each_problem_names_its_path(raw, expected):
    assert set(errors_of(raw)) == expected


def test_every_problem_is_reported_at_once():
    errors = errors_of(
        {
            "timezone": "Europe/Londres",
            "hours": {"mon-fri": "09:00-17:30", "fri": "10:00-12:00", "sun": "25:00-26:00"},
            "holidays": {"country": "ZZ"},
            "closed": ["2026-12-24", "24/12/2026"],
        }
    )
    assert errors == {
        "calendars.bad.timezone": "not a time zone like Europe/London",
        "calendars.bad.hours.fri": "10:00-12:00 on fri overlaps 09:00-17:30 on fri",
        "calendars.bad.hours.sun": "not a time range like 09:00-17:30",
        "calendars.bad.holidays.country": "not a country code known to the holidays package, like GB or US",
        "calendars.bad.closed[1]": "not a date like 2026-12-24",
    }


def test_overlapping_ranges_are_reported_including_an_overnight_tail():
    errors = errors_of(
        {
            "timezone": "UTC",
            "hours": {"sun": "22:00-06:00", "mon": "05:00-09:00", "tue": ["09:00-12:00", "11:00-13:00"]},
        }
    )
    assert errors == {
        "calendars.bad.hours.sun": "22:00-06:00 on sun overlaps 05:00-09:00 on mon",
        "calendars.bad.hours.tue[1]": "11:00-13:00 on tue overlaps 09:00-12:00 on tue",
    }


def test_an_overnight_tail_within_the_week_is_reported():
    errors = errors_of({"timezone": "UTC", "hours": {"mon": "20:00-10:00", "tue": "09:00-17:00"}})
    assert errors == {"calendars.bad.hours.tue": "09:00-17:00 on tue overlaps 20:00-10:00 on mon"}


def test_the_built_in_name_cannot_be_redefined():
    assert set(errors_of({"timezone": "UTC", "hours": {"mon": "09:00-17:00"}}, name=ALWAYS_NAME)) == {"calendars.24x7"}


# --- properties -----------------------------------------------------------------------------------

CALENDARS = [UK_OFFICE, NY_NIGHTS, LONDON_SMALL_HOURS, ALWAYS]
STARTS = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC))
DURATIONS = st.integers(min_value=0, max_value=60 * 3600).map(lambda seconds: timedelta(seconds=seconds))
LONDON_CHANGES = [datetime(2025, 3, 30), datetime(2025, 10, 26), datetime(2026, 3, 29), datetime(2026, 10, 25)]
NEAR_LONDON_CHANGES = st.builds(
    lambda change, minutes: (change + timedelta(minutes=minutes)).replace(tzinfo=UTC),
    st.sampled_from(LONDON_CHANGES),
    st.integers(min_value=-3 * 1440, max_value=1440),
)
PROPERTY = settings(max_examples=200, deadline=None)


def is_open_or_just_closed(cal, moment):
    return cal.is_open(moment) or cal.business_time_between(moment - timedelta(seconds=1), moment) > timedelta(0)


@PROPERTY
@given(st.sampled_from(CALENDARS), STARTS | NEAR_LONDON_CHANGES, DURATIONS)
def test_add_moves_forward_by_exactly_the_business_time(cal, start, duration):
    end = cal.add(start, duration)
    assert end >= start
    assert end.tzinfo is UTC
    assert cal.business_time_between(start, end) == duration
    if duration:
        assert is_open_or_just_closed(cal, end)


@PROPERTY
@given(st.sampled_from(CALENDARS), STARTS | NEAR_LONDON_CHANGES, DURATIONS, DURATIONS)
def test_add_is_monotonic_and_composes(cal, start, first, second):
    assert cal.add(start, min(first, second)) <= cal.add(start, max(first, second))
    assert cal.add(cal.add(start, first), second) == cal.add(start, first + second)


@PROPERTY
@given(st.sampled_from(CALENDARS), STARTS | NEAR_LONDON_CHANGES, st.integers(min_value=0, max_value=10 * 86400))
def test_business_time_never_exceeds_elapsed_time(cal, start, seconds):
    end = start + timedelta(seconds=seconds)
    assert timedelta(0) <= cal.business_time_between(start, end) <= end - start
