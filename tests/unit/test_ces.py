"""The Customer Effort Score (CES): the KPI (share of 5 to 7 and mean, docs/kpis.md), its roll-ups,
metric and report tile, and the survey question on fakes (recorded once; 1 or 2 opens service recovery)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.domain import kpi_events as ev
from chalicelib.domain import kpi_rollups, kpis
from chalicelib.domain.errors import Conflict
from chalicelib.domain.kpis import SurveyFacts
from chalicelib.reporting import html
from chalicelib.services.surveys import is_detractor
from tests.unit.test_surveys_service import _recovery_issues, _resolved, _survey_links
from tests.unit.wiring import world

DAY = date(2026, 3, 3)
AT = datetime(2026, 3, 3, 12, tzinfo=UTC)


def answers(question: str, *scores: int) -> list[SurveyFacts]:
    return [SurveyFacts(f"i{n}", question, score) for n, score in enumerate(scores)]  # type: ignore[arg-type]


def answered(issue_id: str, score: int, question: str = "ces", replaced: int | None = None) -> ev.KpiEvent:
    return ev.survey_answered(issue_id, "rude-staff", "web", question, score, AT, AT, replaced_score=replaced)


# --- the KPI -------------------------------------------------------------------------------------


def test_ces_is_the_share_of_5_to_7_and_its_mean_is_the_average_score():
    found = answers("ces", 7, 6, 5, 4, 1)
    assert kpis.ces(found) == 60.0
    assert kpis.ces_mean(found) == 4.6


def test_4_is_not_easy_and_5_is():
    assert kpis.ces(answers("ces", 4)) == 0.0
    assert kpis.ces(answers("ces", 5)) == 100.0


def test_ces_without_answers_is_none_not_zero():
    assert kpis.ces([]) is None and kpis.ces_mean([]) is None
    other = answers("csat", 5) + answers("nps", 10)
    assert kpis.ces(other) is None and kpis.ces_mean(other) is None


@pytest.mark.parametrize("score", [0, 8])
def test_ces_scores_off_the_1_to_7_scale_are_refused(score):
    with pytest.raises(ValueError, match="1..7"):
        SurveyFacts("i1", "ces", score)


def test_ces_counts_add_up_across_roll_ups():
    total = kpis.ces_counts(answers("ces", 7, 2)) + kpis.ces_counts(answers("ces", 5))
    assert total == kpis.ces_counts(answers("ces", 7, 2, 5)) == kpis.CesCounts(easy=2, answers=3, score_sum=14)
    assert total.mean == pytest.approx(14 / 3) and total.percent == pytest.approx(200 / 3)


# --- roll-ups, metric, report --------------------------------------------------------------------


def test_the_roll_up_shows_ces_share_and_mean_and_a_changed_answer_replaces_the_first():
    folded = kpi_rollups.fold(
        [
            answered("i1", 3),
            answered("i1", 6, replaced=3),
            answered("i2", 2),
            answered("i3", 7),
            answered("i3", 5, "csat"),
        ]
    )
    totals = kpi_rollups.report(folded, DAY, DAY, DAY)["totals"]
    assert (totals["ces_answers"], totals["ces_percent"], totals["ces_mean"]) == (3, 66.7, 5.0)
    assert totals["csat_answers"] == 1 and totals["nps_answers"] == 0, "a CES answer counted as another question"


def test_a_day_without_ces_answers_shows_none_and_older_aggregates_load_without_ces():
    stored = kpi_rollups.Aggregate(csat_positive=1, csat_answers=1).as_dict()
    for name in ("ces_easy", "ces_answers", "ces_score_sum"):
        del stored[name]
    figures = kpi_rollups.figures(kpi_rollups.Aggregate.from_dict(stored))
    assert (figures["ces_percent"], figures["ces_mean"], figures["ces_answers"]) == (None, None, 0)


def test_the_csv_has_ces_columns():
    report = kpi_rollups.report(kpi_rollups.fold([answered("i1", 6)]), DAY, DAY, DAY)
    header, row = kpi_rollups.as_csv(report).splitlines()
    values = dict(zip(header.split(","), row.split(","), strict=True))
    assert (values["ces_percent"], values["ces_mean"], values["ces_answers"]) == ("100.0", "6.0", "1")


def test_the_dashboard_tile_shows_the_share_and_the_mean():
    report = kpi_rollups.report(kpi_rollups.fold([answered("i1", 6), answered("i2", 2)]), DAY, DAY, DAY)
    page = html.render(report, AT, self_contained=True)
    tile = page.split('data-kpi="ces">', 1)[1].split("</li>", 1)[0]
    assert '<p class="tile-value">50 %</p>' in tile
    assert "of 2 answers" in tile and "mean 4 out of 7" in tile
    assert "3 Mar, CES %: 50" in page, "the satisfaction chart has no CES line"


def test_an_empty_period_shows_a_dash_for_ces():
    page = html.render(kpi_rollups.report({}, DAY, DAY, DAY), AT, self_contained=True)
    tile = page.split('data-kpi="ces">', 1)[1].split("</li>", 1)[0]
    assert '<p class="tile-value">–</p>' in tile and "mean" not in tile


# --- the survey ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("score", "detractor"), [(1, True), (2, True), (3, False), (4, False), (7, False)])
def test_a_ces_of_1_or_2_is_a_detractor(score, detractor):
    assert is_detractor("ces", score) is detractor


def test_the_survey_email_asks_how_easy_it_was_on_1_to_7():
    w = world()
    _resolved(w)
    [survey] = [m for m in w.mailer.to("ada@example.com") if m.subject.startswith("How did we do?")]
    assert "How easy was it to get your issue resolved? (1 = very difficult, 7 = very easy)" in survey.body
    assert {s for q, s in _survey_links(w) if q == "ces"} == set(range(1, 8))


def test_a_ces_click_is_recorded_once_and_an_easy_one_opens_no_recovery():
    w = world()
    issue = _resolved(w)
    link = _survey_links(w)[("ces", 6)]
    for _ in range(3):
        answer = w.services.surveys.answer(link)
    assert answer["question"] == "ces" and answer["score"] == 6
    assert w.survey_records.answer(issue.id, "ces").score == 6
    assert [e.text for e in w.issues.events(issue.id, "survey_answered")] == ["CES 6"]
    journal = [e for e in w.kpi_records.journal(w.clock()) if e.kind == "survey_answered"]
    assert [(e.question, e.score) for e in journal] == [("ces", 6)]
    assert _recovery_issues(w) == []


def test_a_ces_of_2_opens_one_service_recovery_issue():
    w = world()
    issue = _resolved(w)
    links = _survey_links(w)
    w.services.surveys.answer(links[("ces", 2)])
    w.services.surveys.answer(links[("ces", 1)])

    [recovery] = _recovery_issues(w)
    assert recovery.fields["score"] == "CES 2" and recovery.fields["original_reference"] == issue.reference
    assert w.survey_records.recovery_issue(issue.id) == recovery.id


def test_a_ces_change_is_allowed_for_7_days_only():
    w = world()
    issue = _resolved(w)
    links = _survey_links(w)
    w.services.surveys.answer(links[("ces", 3)])
    w.clock.advance(timedelta(days=2))
    w.services.surveys.answer(links[("ces", 5)])
    assert w.survey_records.answer(issue.id, "ces").score == 5

    w.clock.advance(timedelta(days=6))
    with pytest.raises(Conflict):
        w.services.surveys.answer(links[("ces", 7)])
    assert w.survey_records.answer(issue.id, "ces").score == 5
