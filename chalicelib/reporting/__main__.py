"""Write the ops report as one self-contained HTML file, from the KPI roll-ups of the stack `make run`
serves (found as `make demo-data` finds it), or with --aws of the AWS account the environment points at:

    python -m chalicelib.reporting report --out report.html \\
        [--from 2026-05-01] [--to 2026-05-31] [--type rude-staff] [--channel web] [--aws]

The days default to the last 30, today (UTC) included. Bad options exit with code 2 and name the
option, as argparse does; a stack that is not running or AWS that cannot be read, with 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from chalicelib.reporting import html
from chalicelib.services.ops_kpis import CHANNELS, DEFAULT_DAYS, MAX_DAYS


def _day(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a date as YYYY-MM-DD (e.g. 2026-05-01)") from None


def parsers() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The command line and its `report` command."""
    main_parser = argparse.ArgumentParser(
        prog="python -m chalicelib.reporting", description="Caseflow's ops report as one HTML file."
    )
    commands = main_parser.add_subparsers(dest="command", required=True)
    report = commands.add_parser(
        "report",
        help="write the KPIs of a range of days as one self-contained HTML file",
        description="Write the KPIs of a range of days (UTC) as one self-contained HTML file.",
    )
    day = {"type": _day, "metavar": "YYYY-MM-DD"}
    first = f"the first day (default: {DEFAULT_DAYS - 1} days before --to)"
    report.add_argument("--from", dest="start", help=first, **day)
    report.add_argument("--to", dest="end", help="the last day, included (default: today, UTC)", **day)
    report.add_argument("--out", type=Path, required=True, metavar="FILE", help="the HTML file to write")
    report.add_argument("--type", dest="type_id", metavar="TYPE", help="only this issue type")
    report.add_argument("--channel", choices=CHANNELS, help="only issues opened on this channel")
    report.add_argument(
        "--aws",
        action="store_true",
        help="read the AWS account and region the environment points at (a deployed stack: set "
        "CASEFLOW_TABLE_NAME to its table) instead of the stack `make run` serves",
    )
    return main_parser, report


def find_stack(use_environment: bool) -> str | None:
    """Point this process at `make run`'s stack (its moto server, on CASEFLOW_AWS_PORT) unless told to
    use the environment's AWS as it is; the region defaults as Caseflow's own does. Returns what is
    wrong if no stack answers."""
    from chalicelib import settings

    if use_environment:
        settings.with_defaults({settings.REGION: settings.get().region})
        return None
    from chalicelib.local.runtime import local_environment

    config = settings.with_defaults(local_environment())
    from chalicelib.local.provision import NoStack, discover

    try:
        discover(config)
    except NoStack as exc:
        return f"{exc}: start Caseflow with `make run` (in another terminal), then run this again"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    main_parser, report_parser = parsers()
    options = main_parser.parse_args(argv)
    options.end = options.end or datetime.now(UTC).date()
    options.start = options.start or options.end - timedelta(days=DEFAULT_DAYS - 1)
    if options.start > options.end:
        report_parser.error("argument --from: must not be after --to")
    if (options.end - options.start).days + 1 > MAX_DAYS:
        report_parser.error(f"argument --from: a report covers at most {MAX_DAYS} days")
    problem = find_stack(options.aws)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    from botocore.exceptions import BotoCoreError, ClientError
    from pynamodb.exceptions import PynamoDBException

    from chalicelib import bootstrap

    try:
        report = bootstrap.services().ops_kpis.report(options.start, options.end, options.type_id, options.channel)
    except (BotoCoreError, ClientError, PynamoDBException) as exc:
        print(f"cannot read the KPI roll-ups: {exc}", file=sys.stderr)
        return 1
    options.out.write_text(html.render(report, datetime.now(UTC), self_contained=True), encoding="utf-8")
    print(f"wrote {options.out}: {html.period(report)}", file=sys.stderr)
    if not report["rows"]:
        print(
            "no KPI roll-ups in these days yet: the hourly schedule rolls up at each whole hour, or at once "
            "when an admin asks (POST /admin/ops/hourly)",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
