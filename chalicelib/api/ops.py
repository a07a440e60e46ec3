"""Ops' API: the KPIs of a range of days, as JSON or (with `Accept: text/csv`) as CSV."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.agents import current_agent
from chalicelib.api.errors import json_response
from chalicelib.bootstrap import services
from chalicelib.domain.kpi_rollups import as_csv

ops = Blueprint(__name__)
CSV = "text/csv"


@ops.route("/ops/kpis", methods=["GET"])
def kpis() -> Response:
    request = ops.current_request
    report = services().ops_kpis.report_for(current_agent(ops), request.query_params)
    if CSV in (request.headers.get("accept") or ""):
        filename = f"caseflow-kpis-{report['from']}-{report['to']}.csv"
        headers = {"Content-Type": f"{CSV}; charset=utf-8", "Content-Disposition": f'attachment; filename="{filename}"'}
        return Response(body=as_csv(report), status_code=200, headers=headers)
    return json_response(200, report)
