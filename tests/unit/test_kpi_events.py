"""KPI events survive the journal's stored form (`as_dict` / `from_dict`) with every figure intact."""

from datetime import UTC, date, datetime, timedelta

from chalicelib.domain import kpi_events as ev
from chalicelib.domain import kpi_rollups

AT = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)


def round_trip(event: ev.KpiEvent) -> ev.KpiEvent:
    return ev.KpiEvent.from_dict(event.as_dict())


def test_an_nps_of_0_is_kept_and_counts_as_a_detractor():
    answer = ev.survey_answered("i1", "late-delivery", "web", "nps", 0, AT, AT)

    stored = round_trip(answer)

    assert stored == answer
    rolled = kpi_rollups.fold([stored])[(date(2026, 3, 2), "late-delivery", "web")]
    assert (rolled.promoters, rolled.passives, rolled.detractors) == (0, 0, 1)


def test_a_changed_answer_remembers_that_it_replaced_a_0():
    changed = ev.survey_answered("i1", "late-delivery", "web", "nps", 9, AT + timedelta(days=1), AT, replaced_score=0)

    assert round_trip(changed) == changed
    assert round_trip(changed).replaced_score == 0


def test_a_first_response_within_the_same_second_keeps_its_0_seconds():
    response = ev.first_response("i1", "rude-staff", "email", AT, AT)

    assert round_trip(response).seconds == 0
