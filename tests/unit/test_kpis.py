"""KPI maths on hand-built facts: the edge cases docs/kpis.md names."""

from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.domain import kpis
from chalicelib.domain.issues import TimelineEvent
from chalicelib.domain.kpis import IssueFacts, Ratio, SurveyFacts, TaskFacts

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def issue(issue_id="i1", type_id="rude-staff", channel="web", opened=NOW - 30 * DAY, **kwargs) -> IssueFacts:
    return IssueFacts(issue_id, type_id, channel, opened, **kwargs)


def answers(question, *scores):
    return [SurveyFacts(f"i{n}", question, score) for n, score in enumerate(scores)]


# --- percentiles ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([7], 7),  # one value is every percentile
        ([3, 1], 3),  # rank ⌈1.8⌉ = 2
        (list(range(1, 11)), 9),  # rank ⌈9.0⌉ = 9
        (list(range(1, 12)), 10),  # rank ⌈9.9⌉ = 10
        (list(range(1, 6)), 5),  # rank ⌈4.5⌉ = 5, not 4: ranks round up
    ],
)
def test_p90_is_nearest_rank(values, expected):
    assert kpis.percentile(values, 90) == expected


def test_percentile_does_not_depend_on_input_order():
    assert kpis.percentile([10, 1, 9, 2, 8, 3, 7, 4, 6, 5], 90) == 9


def test_median_of_an_even_count_is_the_lower_middle_value():
    assert kpis.median([4, 1, 3, 2]) == 2


def test_median_of_an_odd_count_is_the_middle_value():
    assert kpis.median([5, 1, 3]) == 3


def test_percentiles_of_nothing_are_none_not_zero():
    assert kpis.percentile([], 90) is None
    assert kpis.median([]) is None


def test_percentile_refuses_p_outside_0_to_100():
    with pytest.raises(ValueError):
        kpis.percentile([1], 101)


# --- contacts ------------------------------------------------------------------------------------


def test_contacts_per_day_count_issues_by_utc_day_type_and_channel():
    day = datetime(2026, 11, 20, tzinfo=UTC)
    facts = [
        issue("a", opened=day + timedelta(hours=1)),
        issue("b", opened=day + timedelta(hours=23, minutes=59)),
        issue("c", opened=day + timedelta(hours=2), channel="email"),
        issue("d", opened=day + timedelta(hours=2), type_id="late-delivery"),
        issue("e", opened=day + DAY),
    ]
    assert kpis.contacts_per_day(facts) == {
        (date(2026, 11, 20), "rude-staff", "web"): 2,
        (date(2026, 11, 20), "rude-staff", "email"): 1,
        (date(2026, 11, 20), "late-delivery", "web"): 1,
        (date(2026, 11, 21), "rude-staff", "web"): 1,
    }


# --- first response ------------------------------------------------------------------------------


def email(at, message, kind="email_sent"):
    return TimelineEvent(at, kind, "subject", "caseflow", {"message": message})


def test_acknowledgements_are_not_a_first_response_but_an_agent_reply_is():
    opened = NOW - DAY
    events = [
        TimelineEvent(opened, "issue_opened", "opened", "customer"),
        email(opened + timedelta(seconds=5), "acknowledgement"),
        email(opened + timedelta(hours=1), "reminder"),
        email(opened + timedelta(hours=3), "agent_reply"),
    ]
    assert kpis.first_response_at(events) == opened + timedelta(hours=3)


def test_a_step_outcome_email_is_a_first_response():
    opened = NOW - DAY
    events = [email(opened + timedelta(seconds=5), "acknowledgement"), email(opened + timedelta(hours=2), "outcome")]
    assert kpis.first_response_at(events) == opened + timedelta(hours=2)


def test_the_earliest_response_wins_whatever_the_event_order():
    opened = NOW - DAY
    events = [email(opened + timedelta(hours=5), "agent_reply"), email(opened + timedelta(hours=2), "outcome")]
    assert kpis.first_response_at(events) == opened + timedelta(hours=2)


def test_a_suppressed_email_never_reached_the_customer_and_is_no_response():
    opened = NOW - DAY
    events = [
        email(opened + timedelta(seconds=5), "acknowledgement"),
        email(opened + DAY, "outcome", "email_suppressed"),
    ]
    assert kpis.first_response_at(events) is None


def test_first_response_seconds_leave_out_issues_without_a_response():
    opened = NOW - DAY
    facts = [issue("a", opened=opened, first_response_at=opened + timedelta(minutes=30)), issue("b", opened=opened)]
    assert kpis.first_response_seconds(facts) == {"rude-staff": [1800.0]}


# --- resolution time -----------------------------------------------------------------------------


def test_resolution_times_give_median_and_p90_per_type_and_skip_open_issues():
    opened = NOW - 30 * DAY
    facts = [issue(f"r{h}", opened=opened, resolved_at=opened + timedelta(hours=h)) for h in range(1, 11)]
    facts += [
        issue("open", opened=opened),
        issue("late", type_id="late-delivery", opened=opened, resolved_at=opened + timedelta(hours=4)),
    ]
    assert kpis.resolution_times(facts) == {
        "rude-staff": (5 * 3600.0, 9 * 3600.0),
        "late-delivery": (4 * 3600.0, 4 * 3600.0),
    }


def test_resolution_time_is_measured_to_the_first_resolution():
    opened = NOW - 30 * DAY
    fact = issue(
        opened=opened,
        resolved_at=opened + DAY,
        reopened_at=(opened + 2 * DAY,),
        resolved_again_at=(opened + 5 * DAY,),
    )
    assert kpis.resolution_seconds([fact]) == {"rude-staff": [86400.0]}


# --- SLA and escalations -------------------------------------------------------------------------


def task(step="manager", due=NOW, completed=None, level=0, type_id="rude-staff"):
    return TaskFacts("i1", type_id, step, due, completed, level)


def test_sla_compliance_counts_a_task_completed_exactly_at_its_deadline_as_on_time():
    tasks = [
        task(completed=NOW),  # exactly at the deadline: on time
        task(completed=NOW + timedelta(seconds=1)),  # late
        task(completed=None),  # open: not counted
        task(completed=None, due=NOW - DAY),  # open and overdue: still not counted
        task(step="hr", completed=NOW - DAY),  # on time, other step
        task(step="no-deadline", due=None, completed=NOW),  # no deadline: not counted
    ]
    by_step, by_type = kpis.sla_compliance(tasks)
    assert by_step == {("rude-staff", "manager"): Ratio(1, 2), ("rude-staff", "hr"): Ratio(1, 1)}
    assert by_type == {"rude-staff": Ratio(2, 3)}
    assert by_step[("rude-staff", "manager")].percent == 50.0


def test_sla_compliance_without_completed_tasks_is_none():
    by_step, by_type = kpis.sla_compliance([task(completed=None)])
    assert by_step == {} and by_type == {}
    assert Ratio().percent is None


def test_escalations_count_every_level_a_task_passed_through():
    tasks = [task(level=0), task(level=1), task(level=3), task(level=2)]
    assert kpis.escalations_by_level(tasks) == {1: 3, 2: 2, 3: 1}


# --- first-contact resolution --------------------------------------------------------------------


def resolved(issue_id, days_ago=10, contacts=1, reopened_days_after=None):
    at = NOW - days_ago * DAY
    reopened = () if reopened_days_after is None else (at + reopened_days_after * DAY,)
    return issue(issue_id, resolved_at=at, customer_contacts=contacts, reopened_at=reopened)


def test_one_contact_and_no_reopening_is_first_contact_resolution():
    assert kpis.first_contact_resolution([resolved("a")], NOW) == Ratio(1, 1)


def test_two_customer_contacts_are_not_first_contact_resolution():
    assert kpis.first_contact_resolution([resolved("a", contacts=2)], NOW) == Ratio(0, 1)


def test_reopened_within_7_days_is_not_first_contact_resolution():
    assert kpis.first_contact_resolution([resolved("a", days_ago=20, reopened_days_after=3)], NOW) == Ratio(0, 1)


def test_reopened_exactly_7_days_later_is_still_within_the_window():
    assert kpis.first_contact_resolution([resolved("a", days_ago=20, reopened_days_after=7)], NOW) == Ratio(0, 1)


def test_reopened_after_8_days_is_still_first_contact_resolution():
    assert kpis.first_contact_resolution([resolved("a", days_ago=20, reopened_days_after=8)], NOW) == Ratio(1, 1)


def test_an_issue_resolved_2_days_ago_is_not_counted_yet():
    facts = [resolved("old"), resolved("recent", days_ago=2), issue("open")]
    assert kpis.first_contact_resolution(facts, NOW) == Ratio(1, 1)


def test_an_issue_resolved_exactly_7_days_ago_is_counted():
    assert kpis.first_contact_resolution([resolved("a", days_ago=7)], NOW) == Ratio(1, 1)


def test_first_contact_resolution_of_nothing_is_none():
    assert kpis.first_contact_resolution([resolved("recent", days_ago=2)], NOW).percent is None


# --- reopen rate and backlog ---------------------------------------------------------------------


def test_reopen_rate_counts_reopened_issues_among_resolved_ones():
    facts = [resolved("a"), resolved("b", reopened_days_after=1), issue("open")]
    assert kpis.reopen_rate(facts) == Ratio(1, 2)


def test_backlog_counts_open_and_reopened_issues_with_their_age_since_opening():
    facts = [
        issue("open-1h", opened=NOW - timedelta(hours=1)),
        issue("open-3h", opened=NOW - timedelta(hours=3)),
        issue("resolved", opened=NOW - 5 * DAY, resolved_at=NOW - DAY),
        issue("reopened", opened=NOW - 5 * DAY, resolved_at=NOW - 2 * DAY, reopened_at=(NOW - DAY,)),
        issue(
            "reresolved",
            opened=NOW - 5 * DAY,
            resolved_at=NOW - 3 * DAY,
            reopened_at=(NOW - 2 * DAY,),
            resolved_again_at=(NOW - DAY,),
        ),
        issue("future", opened=NOW + DAY),
    ]
    result = kpis.backlog(facts, NOW)
    assert result.count == 3
    assert result.age_median == 3 * 3600.0
    assert result.age_p90 == result.age_max == 5 * 86400.0


def test_backlog_at_an_earlier_moment_replays_the_state_then():
    fact = issue(opened=NOW - 5 * DAY, resolved_at=NOW - 2 * DAY)
    assert kpis.backlog([fact], NOW - 3 * DAY).count == 1
    assert kpis.backlog([fact], NOW).count == 0


def test_an_empty_backlog_is_zero_with_no_ages():
    assert kpis.backlog([], NOW) == kpis.Backlog(0, None, None, None)


# --- CSAT and NPS --------------------------------------------------------------------------------


def test_csat_is_the_share_of_4_and_5():
    assert kpis.csat(answers("csat", 5, 4, 3, 1)) == 50.0


def test_csat_ignores_nps_answers_and_is_none_without_answers():
    assert kpis.csat(answers("nps", 10)) is None


def test_nps_with_only_passives_is_zero():
    assert kpis.nps(answers("nps", 7, 8, 7)) == 0.0


def test_nps_with_only_detractors_is_minus_100():
    assert kpis.nps(answers("nps", 0, 6, 3)) == -100.0


def test_nps_without_answers_is_none():
    assert kpis.nps([]) is None
    assert kpis.nps(answers("csat", 5)) is None


def test_nps_puts_9_and_10_with_promoters_7_and_8_with_passives_and_6_with_detractors():
    assert kpis.nps_counts(answers("nps", 10, 9, 8, 7, 6)) == kpis.NpsCounts(promoters=2, passives=2, detractors=1)
    assert kpis.nps(answers("nps", 10, 9, 8, 7, 6)) == 20.0


def test_nps_counts_add_up_across_roll_ups():
    total = kpis.nps_counts(answers("nps", 10)) + kpis.nps_counts(answers("nps", 0, 8))
    assert total.score == 0.0


@pytest.mark.parametrize(
    ("question", "score"), [("csat", 0), ("csat", 6), ("nps", 11), ("nps", -1), ("ces", 0), ("ces", 8), ("effort", 3)]
)
def test_survey_answers_off_the_scale_are_refused(question, score):
    with pytest.raises(ValueError):
        SurveyFacts("i1", question, score)


# --- classification ------------------------------------------------------------------------------


def test_auto_classification_rate_leaves_out_types_the_customer_chose():
    facts = [
        issue("a", classified="auto"),
        issue("b", classified="auto", corrected=True),
        issue("c", classified="triage"),
        issue("d", classified=None),
    ]
    assert kpis.auto_classification_rate(facts) == Ratio(2, 3)


def test_correction_rate_counts_agent_corrections_of_automatic_types_only():
    facts = [
        issue("a", classified="auto"),
        issue("b", classified="auto", corrected=True),
        issue("c", classified="triage", corrected=True),
    ]
    assert kpis.correction_rate(facts) == Ratio(1, 2)
    assert kpis.correction_rate([]).percent is None


def test_ratios_add_up_across_roll_ups():
    assert Ratio(1, 2) + Ratio(3, 4) == Ratio(4, 6)
