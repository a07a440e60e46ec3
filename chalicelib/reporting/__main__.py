"""Write the ops report as one self-contained HTML file, from the roll-ups of whatever AWS the
environment points at (`make run`'s moto through AWS_ENDPOINT_URL, or a real account):

    python -m chalicelib.reporting report --from 2026-05-01 --to 2026-05-31 --out report.html \\
        [--type rude-staff] [--channel web]

Bad options exit with code 2 and name the option, as argparse does; AWS that cannot be read, with 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from chalicelib.reporting import html
from chalicelib.services.ops_kpis import CHANNELS, MAX_DAYS


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
    day = {"type": _day, "required": True, "metavar": "YYYY-MM-DD"}
    report.add_argument("--from", dest="start", help="the first day", **day)
    report.add_argument("--to", dest="end", help="the last day, included", **day)
    report.add_argument("--out", type=Path, required=True, metavar="FILE", help="the HTML file to write")
    report.add_argument("--type", dest="type_id", metavar="TYPE", help="only this issue type")
    report.add_argument("--channel", choices=CHANNELS, help="only issues opened on this channel")
    return main_parser, report


def main(argv: Sequence[str] | None = None) -> int:
    main_parser, report_parser = parsers()
    options = main_parser.parse_args(argv)
    if options.start > options.end:
        report_parser.error("argument --from: must not be after --to")
    if (options.end - options.start).days + 1 > MAX_DAYS:
        report_parser.error(f"argument --from: a report covers at most {MAX_DAYS} days")
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
