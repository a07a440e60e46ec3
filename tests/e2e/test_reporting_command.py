"""The README's report command as a user types it: no AWS variables, `make run`'s stack found by itself."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness import ROOT, Embedded, free_port

pytestmark = pytest.mark.e2e


def report_command(out: Path, aws_port: int) -> subprocess.CompletedProcess[str]:
    """`python -m chalicelib.reporting report --out FILE` in a shell with no AWS or Caseflow variables
    (not even a region), but the moto port of the stack to read."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CASEFLOW_"))}
    env["CASEFLOW_AWS_PORT"] = str(aws_port)
    return subprocess.run(
        [sys.executable, "-m", "chalicelib.reporting", "report", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_report_command_reads_the_running_stacks_last_30_days_without_a_region_set(tmp_path: Path):
    embedded = Embedded()
    try:
        with embedded:
            opened = embedded.open_issue("demo-quick", {"summary": "Hi"}, "report@example.com", name=None)
            assert opened.status_code == 201
            rolled = embedded.post("/admin/ops/hourly", token=embedded.token("ada"))
            assert rolled.status_code == 200, rolled.text

            out = tmp_path / "report.html"
            done = report_command(out, embedded.aws_port)
    finally:
        embedded.cleanup()
    assert done.returncode == 0, done.stderr
    assert "no KPI roll-ups" not in done.stderr
    assert re.search(r'data-kpi="contacts".*?class="tile-value">1<', out.read_text(), re.S), "no contact counted"


def test_the_report_command_says_what_to_start_when_no_stack_runs(tmp_path: Path):
    out = tmp_path / "report.html"
    done = report_command(out, free_port())
    assert done.returncode == 1
    assert "nothing answers at http://127.0.0.1:" in done.stderr and "make run" in done.stderr
    assert not out.exists()
