"""The report as HTML: headline tiles, the five charts and the tables, from the dict of `kpi_rollups.report`.

`render` writes a whole page. Self-contained, its stylesheet is inline and its charts are inline SVG,
so the file opens anywhere with nothing to fetch; otherwise it links the stylesheet the stack serves
at STYLESHEET_URL. `body` is the report alone, for a page that adds its own controls (the dashboard).
Jinja2 autoescapes everything but the charts, which `charts` builds from escaped parts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from chalicelib.reporting import charts, formats

if TYPE_CHECKING:
    from jinja2 import Environment

_TEMPLATES = Path(__file__).parent / "templates"


@cache
def _templates() -> Environment:
    """Loaded on the first report: the functions that never render one never import Jinja2."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    built = Environment(
        loader=FileSystemLoader(_TEMPLATES),
        autoescape=select_autoescape(("html",)),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    built.filters.update(
        whole=formats.count,
        duration=formats.duration,
        percent=formats.percent,
        points=formats.points,
    )
    return built


#: The report's stylesheet: inline in a self-contained file, served by the stack at STYLESHEET_PATH.
STYLESHEET = (_TEMPLATES / "report.css").read_text()
STYLESHEET_PATH = "/assets/ops-report.css"
STYLESHEET_URL = f"{STYLESHEET_PATH}?v={hashlib.sha256(STYLESHEET.encode()).hexdigest()[:12]}"


def _long_date(raw: str | None) -> str:
    if not raw:
        return formats.NONE
    day = date.fromisoformat(raw)
    return f"{day.day} {day:%B %Y}"


def _moment(raw: str | datetime | None) -> str:
    if raw is None:
        return formats.NONE
    moment = raw if isinstance(raw, datetime) else datetime.fromisoformat(raw)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def period(report: Mapping[str, Any]) -> str:
    """The days a report covers and its filters, e.g. "1 May 2026 – 30 May 2026, all types, web"."""
    return ", ".join(
        [
            f"{_long_date(report['from'])} – {_long_date(report['to'])}",
            report.get("type") or "all types",
            report.get("channel") or "all channels",
        ]
    )


def _tile(kpi: str, name: str, value: str, *details: str) -> dict[str, Any]:
    return {"kpi": kpi, "name": name, "value": value, "details": [d for d in details if d]}


def tiles(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One headline figure per KPI, with what it counts underneath."""
    t = report["totals"]
    backlog = report["backlog"]
    fcr_through = report.get("fcr_counted_through")
    return [
        _tile("contacts", "Contacts", formats.count(t["contacts"]), "issues opened"),
        _tile(
            "first-response",
            "First response",
            formats.duration(t["first_response_median_seconds"]),
            "median",
            f"p90 {formats.duration(t['first_response_p90_seconds'])}",
        ),
        _tile(
            "resolution",
            "Resolution time",
            formats.duration(t["resolution_median_seconds"]),
            "median, to the first resolution",
            f"p90 {formats.duration(t['resolution_p90_seconds'])}",
        ),
        _tile(
            "sla",
            "SLA compliance",
            formats.percent(t["sla_compliance_percent"]),
            f"of {formats.count(t['sla_completed'])} tasks with a deadline",
            f"{formats.count(t['sla_breaches'])} breached, {formats.count(t['sla_warnings'])} warned",
        ),
        _tile(
            "fcr",
            "First-contact resolution",
            formats.percent(t["first_contact_resolution_percent"]),
            f"issues resolved up to {_long_date(fcr_through)}" if fcr_through else "",
            "later ones are still in their 7 days to reopen",
        ),
        _tile(
            "backlog",
            "Backlog",
            formats.count(backlog["count"]) if backlog.get("at") else formats.NONE,
            f"open issues at {_moment(backlog['at'])}" if backlog.get("at") else "no snapshot yet",
            f"age median {formats.duration(backlog['age_median_seconds'])}, "
            f"p90 {formats.duration(backlog['age_p90_seconds'])}"
            if backlog["count"]
            else "",
            f"oldest {formats.duration(backlog['age_max_seconds'])}" if backlog["count"] else "",
        ),
        _tile(
            "csat",
            "CSAT",
            formats.percent(t["csat_percent"]),
            f"scored 4 or 5, of {formats.count(t['csat_answers'])} answers",
        ),
        _tile(
            "ces",
            "CES",
            formats.percent(t["ces_percent"]),
            f"found it easy (5 to 7), of {formats.count(t['ces_answers'])} answers",
            f"mean {formats.number(t['ces_mean'])} out of 7" if t["ces_answers"] else "",
        ),
        _tile(
            "nps",
            "NPS",
            formats.points(t["nps"]),
            f"promoters − detractors, of {formats.count(t['nps_answers'])} answers",
        ),
        _tile("reopen", "Reopen rate", formats.percent(t["reopen_rate_percent"]), f"of {t['resolved']} resolved"),
        _tile(
            "auto-classification",
            "Auto-classification",
            formats.percent(t["auto_classification_percent"]),
            "free text typed by the classifier",
        ),
        _tile(
            "correction",
            "Correction rate",
            formats.percent(t["correction_percent"]),
            "automatic types an agent changed",
        ),
        _tile(
            "deflections",
            "Deflections",
            formats.count(t.get("deflections", 0)),
            "reports not filed: a help article answered",
        ),
        _tile(
            "deflection-rate",
            "Deflection rate",
            formats.percent(t.get("deflection_rate_percent")),
            f"of {formats.count(_forms_with_articles(t))} forms that showed articles",
        ),
    ]


def _forms_with_articles(totals: Mapping[str, Any]) -> int:
    return int(totals.get("deflections", 0)) + int(totals.get("filed_after_articles", 0))


def _context(report: Mapping[str, Any], generated_at: datetime) -> dict[str, Any]:
    channels = sorted({c for day in report["days"] for c in day["contacts_by_channel"]})
    return {
        "report": report,
        "period": period(report),
        "generated": _moment(generated_at),
        "tiles": tiles(report),
        "charts": charts.report_charts(report),
        "channels": channels,
    }


def body(report: Mapping[str, Any], generated_at: datetime) -> Markup:
    """The report without a page around it: for the dashboard, under its filter form."""
    return Markup(_templates().get_template("report_body.html").render(**_context(report, generated_at)))


def render(report: Mapping[str, Any], generated_at: datetime, self_contained: bool) -> str:
    """The report as a whole HTML page; self-contained means one file with its CSS and charts inline."""
    page = _templates().get_template("report.html")
    return page.render(
        body=body(report, generated_at),
        report=report,
        period=period(report),
        stylesheet=Markup(STYLESHEET) if self_contained else None,
        stylesheet_url=STYLESHEET_URL,
    )
