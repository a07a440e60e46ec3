"""The ops report: formats, the five SVG charts (with data and without), the page and its tiles, the
self-contained file and the command that writes it."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from pynamodb.exceptions import PynamoDBException

from chalicelib.domain import kpi_events as ev
from chalicelib.domain import kpi_rollups
from chalicelib.reporting import __main__ as command
from chalicelib.reporting import charts, formats, html
from tests.unit.test_contrast import contrast

DAY_1, DAY_2, DAY_3 = date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)
GENERATED = datetime(2026, 3, 20, 7, 30, tzinfo=UTC)
CHART_IDS = ("chart-contacts", "chart-resolution", "chart-sla", "chart-satisfaction", "chart-escalations")


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def events() -> list[ev.KpiEvent]:
    """Three issues over three days: one answered and resolved in 3 h 20 min with one contact, one
    resolved in 5 h after two contacts and reopened, one still open; SLA 2 of 3; CSAT 2 of 3 happy;
    NPS one promoter and two detractors."""
    i1, i2, i3 = at(DAY_1, 8), at(DAY_1, 9), at(DAY_2, 10)
    survey_day = at(DAY_2, 12)
    return [
        ev.issue_opened("i1", "rude-staff", "web", i1),
        ev.issue_opened("i2", "rude-staff", "email", i2),
        ev.issue_opened("i3", "damaged-product", "web", i3),
        ev.first_response("i1", "rude-staff", "web", i1, i1 + timedelta(minutes=20)),
        ev.first_response("i2", "rude-staff", "email", i2, i2 + timedelta(hours=1)),
        ev.resolved("i1", "rude-staff", "web", i1, i1 + timedelta(hours=3, minutes=20), 1),
        ev.resolved("i2", "rude-staff", "email", i2, i2 + timedelta(hours=5), 2),
        ev.reopened("i2", "rude-staff", "email", i2 + timedelta(hours=5), at(DAY_3, 9), 1, False),
        ev.task_completed("i1", 1, "rude-staff", "web", "check", i1 + timedelta(hours=1), on_time=True),
        ev.task_completed("i1", 1, "rude-staff", "web", "decide", i1 + timedelta(hours=3), on_time=True),
        ev.task_completed("i2", 1, "rude-staff", "email", "check", i2 + timedelta(hours=4), on_time=False),
        ev.escalated("i2", 1, "rude-staff", "email", "check", 1, i2 + timedelta(hours=2)),
        ev.escalated("i2", 1, "rude-staff", "email", "check", 2, i2 + timedelta(hours=3)),
        ev.survey_answered("i1", "rude-staff", "web", "csat", 5, survey_day, survey_day),
        ev.survey_answered("i2", "rude-staff", "email", "csat", 2, survey_day, survey_day),
        ev.survey_answered("i3", "damaged-product", "web", "csat", 4, at(DAY_3, 8), at(DAY_3, 8)),
        ev.survey_answered("i1", "rude-staff", "web", "nps", 10, survey_day, survey_day),
        ev.survey_answered("i2", "rude-staff", "email", "nps", 3, survey_day, survey_day),
        ev.survey_answered("i3", "damaged-product", "web", "nps", 5, at(DAY_3, 8), at(DAY_3, 8)),
        ev.classification("i2", "rude-staff", "email", i2, automatic=False),
        ev.classification("i3", "damaged-product", "web", i3, automatic=True),
        ev.type_corrected("i3", "damaged-product", "web", i3 + timedelta(hours=1), i3),
    ]


def sample_report(start: date = DAY_1, end: date = DAY_3) -> dict:
    backlog = kpi_rollups.BacklogSnapshot(
        at(DAY_3, 12), {("rude-staff", "email"): [7200], ("damaged-product", "web"): [90000]}
    )
    return kpi_rollups.report(kpi_rollups.fold(events()), start, end, GENERATED.date(), backlog, {DAY_3: backlog})


def empty_report() -> dict:
    return kpi_rollups.report({}, DAY_1, DAY_3, GENERATED.date())


def svg_of(markup: str) -> ET.Element:
    """The chart parsed as XML: a broken SVG fails here."""
    return ET.fromstring(str(markup))


def tile(page: str, kpi: str) -> str:
    return re.search(rf'<li class="tile" data-kpi="{kpi}">(.*?)</li>', page, re.S).group(1)


# --- formats -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (None, "–"),
        (0, "0 s"),
        (44.6, "45 s"),
        (60, "1 min"),
        (20 * 60 + 29, "20 min"),
        (3600, "1 h"),
        (12000, "3 h 20 min"),
        (90000, "1 d 1 h"),
        (2 * 86400, "2 d"),
    ],
)
def test_durations_read_at_a_glance(seconds, shown):
    assert formats.duration(seconds) == shown


def test_numbers_use_a_real_minus_and_a_dash_for_no_data():
    assert formats.points(-33.3) == "−33.3"
    assert formats.points(0.0) == "0"
    assert formats.points(-0.04) == "0"
    assert formats.percent(66.7) == "66.7 %"
    assert formats.percent(100.0) == "100 %"
    assert formats.percent(None) == "–"
    assert formats.count(1234) == "1,234"


# --- charts --------------------------------------------------------------------------------------


def test_the_report_has_five_charts_each_drawn_with_data():
    drawn = charts.report_charts(sample_report())
    assert [c.id for c in drawn] == list(CHART_IDS)
    for chart in drawn:
        svg = svg_of(chart.svg)
        assert svg.get("role") == "img" and svg.get("data-state") == "data", chart.id
        assert svg.get("aria-labelledby") == f"{chart.id}-title {chart.id}-desc"
        assert svg.find("title").text and svg.find("desc").text


@pytest.mark.parametrize("chart_id", CHART_IDS)
def test_each_chart_says_so_when_it_has_no_data(chart_id):
    chart = next(c for c in charts.report_charts(empty_report()) if c.id == chart_id)
    svg = svg_of(chart.svg)
    assert svg.get("data-state") == "empty" and svg.get("role") == "img"
    message = svg.find("desc").text
    assert message.startswith("No ") and message in [t.text for t in svg.iter("text")]
    assert not list(svg.iter("polyline")) and len(list(svg.iter("rect"))) == 1


def texts(markup: str) -> list[str]:
    return ["".join(t.itertext()) for t in svg_of(markup).iter("text")]


def test_contacts_are_stacked_by_channel_with_a_legend_axis_labels_and_totals():
    markup = charts.contacts_chart(sample_report())
    shown = texts(markup)
    assert {"email", "web"} <= set(shown), "legend"
    assert {"Issues opened", "Day (UTC, day opened)"} <= set(shown), "axis labels"
    assert {"2 Mar", "3 Mar", "4 Mar"} <= set(shown)
    assert "2" in shown, "the total of 2 March"
    tooltips = [t.text for t in svg_of(markup).iter("title")]
    assert "2 Mar, email: 1" in tooltips and "2 Mar, web: 1" in tooltips
    fills = {r.get("fill") for r in svg_of(markup).iter("rect")}
    assert {charts.PALETTE[0], charts.PALETTE[1]} <= fills


def test_resolution_bars_show_median_and_p90_in_hours():
    markup = charts.resolution_chart(sample_report())
    shown = texts(markup)
    assert {"Median", "90th percentile", "Hours to first resolution", "rude-staff"} <= set(shown)
    assert "3 h 20 min" in shown and "5 h" in shown
    assert "rude-staff, Median: 3 h 20 min" in [t.text for t in svg_of(markup).iter("title")]
    assert "–" in shown, "damaged-product has no resolution yet"


def test_narrow_resolution_bars_write_hours_instead_of_durations():
    report = sample_report()
    report["by_type"] = {f"type-{n}": report["by_type"]["rude-staff"] for n in range(10)}
    shown = texts(charts.resolution_chart(report))
    assert "3 h 20 min" not in shown and shown.count("3.3") == 10 and shown.count("5 h") == 10


def test_sla_bars_show_the_share_and_the_tasks_it_counts():
    shown = texts(charts.sla_chart(sample_report()))
    assert "rude-staff / check" in shown and "50 % (1/2 on time)" in shown
    assert "100 % (1/1 on time)" in shown and "Tasks completed by their deadline (%)" in shown


def test_the_satisfaction_lines_break_where_a_day_has_no_answers():
    markup = charts.line_chart(
        "chart-gaps",
        "Gaps",
        ["a", "b", "c", "d", "e"],
        [charts.Series("CSAT %", [50, None, 70, 80, None]), charts.Series("NPS", [None] * 5)],
        x_label="Day",
        y_label="Value",
        empty="No values",
        y_min=-100,
        y_max=100,
    )
    svg = svg_of(markup)
    lines = list(svg.iter("polyline"))
    assert len(lines) == 1 and len(lines[0].get("points").split()) == 2, "c–d joined; a alone; no line over b"
    assert len(list(svg.iter("circle"))) == 3 + 1, "three markers and the legend's"
    assert {"50", "70", "80", "CSAT %", "NPS"} <= set(texts(markup))


def test_satisfaction_shows_csat_and_nps_per_answer_day():
    tooltips = [t.text for t in svg_of(charts.satisfaction_chart(sample_report())).iter("title")]
    assert {"3 Mar, CSAT %: 50", "3 Mar, NPS: 0", "4 Mar, CSAT %: 100", "4 Mar, NPS: −100"} <= set(tooltips)
    assert not any(t.startswith("2 Mar,") for t in tooltips), "no answers on 2 March: a gap, not a zero"


def test_escalations_count_each_level():
    shown = texts(charts.escalations_chart(sample_report()))
    assert {"Level 1", "Level 2", "Escalations", "Escalation level"} <= set(shown)
    assert shown.count("1") >= 2


def test_chart_text_is_escaped():
    markup = charts.grouped_bars(
        "chart-x",
        "<b>Title</b>",
        ['<script>alert("x")</script>'],
        [charts.Series("a & b", [3])],
        x_label="x",
        y_label="y",
        empty="none",
    )
    assert "<script>" not in markup and "&lt;script&gt;" in markup
    svg_of(markup)


@pytest.mark.parametrize("colour", [*charts.PALETTE, charts.TEXT])
def test_chart_colours_meet_aa_against_white(colour):
    assert contrast(colour, "#ffffff") >= 4.5


def test_the_report_stylesheets_text_colours_meet_aa_on_its_backgrounds():
    declared = set(re.findall(r"(?<![-\w])color:\s*(#[0-9a-fA-F]{6})", html.STYLESHEET))
    backgrounds = {"#ffffff", *re.findall(r"background:\s*(#[0-9a-fA-F]{6})", html.STYLESHEET)}
    assert declared and len(backgrounds) > 1
    for text_colour in declared:
        for background in backgrounds:
            assert contrast(text_colour, background) >= 4.5, (text_colour, background)


# --- the page ------------------------------------------------------------------------------------


def test_the_page_shows_a_tile_for_every_kpi_with_its_figures():
    page = html.render(sample_report(), GENERATED, self_contained=True)
    expected = {
        "contacts": "3",
        "first-response": "20 min",
        "resolution": "3 h 20 min",
        "sla": "66.7 %",
        "fcr": "50 %",
        "backlog": "2",
        "csat": "66.7 %",
        "nps": "−33.3",
        "reopen": "50 %",
        "auto-classification": "50 %",
        "correction": "100 %",
    }
    for kpi, value in expected.items():
        assert f'<p class="tile-value">{value}</p>' in tile(page, kpi), kpi
    assert "p90 1 h" in tile(page, "first-response") and "p90 5 h" in tile(page, "resolution")
    assert "age median 2 h, p90 1 d 1 h" in tile(page, "backlog") and "oldest 1 d 1 h" in tile(page, "backlog")
    assert "3 answers" in tile(page, "nps") and "of 3 tasks with a deadline" in tile(page, "sla")
    assert "2 March 2026 – 4 March 2026, all types, all channels" in page
    assert "generated 2026-03-20 07:30 UTC" in page


def test_the_page_has_the_charts_and_the_tables_by_type_and_step():
    page = html.render(sample_report(), GENERATED, self_contained=True)
    for chart_id in CHART_IDS:
        assert f'<svg class="chart" id="{chart_id}" data-state="data"' in page
    by_type = page.split('id="by-type"')[1].split('id="sla-by-step"')[0]
    assert '<th scope="row">rude-staff</th>' in by_type and '<th scope="row">damaged-product</th>' in by_type
    assert "3 h 20 min" in by_type and "−100" in by_type
    by_step = page.split('id="sla-by-step"')[1].split("</table>")[0]
    assert re.search(r"rude-staff</td>\s*<th scope=\"row\">check</th>.*?50 %", by_step, re.S)
    assert re.search(r"<th scope=\"row\">decide</th>.*?100 %", by_step, re.S)


def test_a_period_without_data_shows_dashes_not_zeros():
    page = html.render(empty_report(), GENERATED, self_contained=True)
    for kpi in ("first-response", "resolution", "sla", "fcr", "backlog", "csat", "nps", "reopen"):
        assert '<p class="tile-value">–</p>' in tile(page, kpi), kpi
    assert '<p class="tile-value">0</p>' in tile(page, "contacts")
    assert page.count('data-state="empty"') == 5
    assert "Nothing happened in this period." in page


def test_the_self_contained_file_references_nothing_outside_itself():
    page = html.render(sample_report(), GENERATED, self_contained=True)
    assert "<style>" in page and html.STYLESHEET.strip()[:40] in page
    for outside in ('src="http', "src='http", 'href="http', "href='http", "<script", "<link", "url(", "@import"):
        assert outside not in page, outside


def test_the_page_for_the_stack_links_the_served_stylesheet_instead():
    page = html.render(sample_report(), GENERATED, self_contained=False)
    assert f'<link rel="stylesheet" href="{html.STYLESHEET_URL}">' in page and "<style>" not in page


def test_the_page_escapes_what_it_shows():
    report = sample_report()
    report["by_type"] = {"<img src=x onerror=alert(1)>": report["by_type"]["rude-staff"]}
    page = html.render(report, GENERATED, self_contained=True)
    assert "<img" not in page and "&lt;img src=x" in page


# --- the command ---------------------------------------------------------------------------------


@pytest.fixture()
def stack_found(monkeypatch) -> list[bool]:
    """The command's search for a stack answers at once (these tests give it its services); the
    list says whether each search was told to use the environment's AWS as it is."""
    searches: list[bool] = []

    def find_stack(use_environment: bool) -> None:
        searches.append(use_environment)

    monkeypatch.setattr(command, "find_stack", find_stack)
    return searches


def test_the_command_writes_one_self_contained_file(monkeypatch, tmp_path: Path, stack_found):
    asked = []

    def report(start, end, type_id=None, channel=None):
        asked.append((start, end, type_id, channel))
        return sample_report(start, end)

    fake = SimpleNamespace(ops_kpis=SimpleNamespace(report=report))
    monkeypatch.setattr("chalicelib.bootstrap.services", lambda: fake)
    out = tmp_path / "report.html"
    code = command.main(
        ["report", "--from", "2026-03-02", "--to", "2026-03-04", "--out", str(out), "--type", "rude-staff"]
    )
    assert code == 0 and asked == [(DAY_1, DAY_3, "rude-staff", None)]
    written = out.read_text()
    assert written.startswith("<!doctype html>") and written.count('<svg class="chart"') == 5
    assert "<script" not in written and 'href="http' not in written
    assert stack_found == [False]


def test_the_command_reports_the_last_30_days_by_default(monkeypatch, capsys, tmp_path: Path, stack_found):
    asked = []

    def report(start, end, type_id=None, channel=None):
        asked.append((start, end))
        return sample_report(start, end)

    monkeypatch.setattr(
        "chalicelib.bootstrap.services", lambda: SimpleNamespace(ops_kpis=SimpleNamespace(report=report))
    )
    assert command.main(["report", "--out", str(tmp_path / "report.html"), "--aws"]) == 0
    today = datetime.now(UTC).date()
    assert asked == [(today - timedelta(days=29), today)] and stack_found == [True]
    assert "no KPI roll-ups in these days yet" in capsys.readouterr().err  # the sample's days are long past


def test_the_command_says_when_it_cannot_read_aws(monkeypatch, capsys, tmp_path: Path, stack_found):
    def unreachable(*_):
        raise PynamoDBException("Failed to query items: Could not connect to the endpoint URL")

    monkeypatch.setattr(
        "chalicelib.bootstrap.services", lambda: SimpleNamespace(ops_kpis=SimpleNamespace(report=unreachable))
    )
    out = tmp_path / "report.html"
    assert command.main(["report", "--from", "2026-03-02", "--to", "2026-03-04", "--out", str(out)]) == 1
    assert "cannot read the KPI roll-ups: Failed to query items" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (["--from", "2026-02-30", "--to", "2026-03-04"], "argument --from: '2026-02-30' is not a date"),
        (["--from", "2026-03-02", "--to", "yesterday"], "argument --to: 'yesterday' is not a date"),
        (["--from", "2026-03-05", "--to", "2026-03-04"], "argument --from: must not be after --to"),
        (["--from", "2026-03-02", "--to", "2026-03-04", "--channel", "fax"], "argument --channel: invalid choice"),
    ],
)
def test_the_command_refuses_bad_options_with_exit_code_2(arguments, named, capsys, tmp_path: Path):
    with pytest.raises(SystemExit) as exited:
        command.main(["report", *arguments, "--out", str(tmp_path / "r.html")])
    assert exited.value.code == 2
    assert named in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()
