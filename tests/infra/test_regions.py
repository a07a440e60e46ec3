"""Caseflow deploys only where SES receives email, and its template is valid in every such region."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cfnlint
import pytest

from infra.regions import SUPPORTED_REGIONS, UnsupportedRegion, require_supported
from tests.infra.conftest import INFRA_DIR, Synthesis

RECEIPT_TYPES = ("AWS::SES::ReceiptRuleSet", "AWS::SES::ReceiptRule")
#: cfn-lint's copy of CloudFormation's resource registry, one file per region.
PROVIDERS = Path(cfnlint.__file__).parent / "data" / "schemas" / "providers"


def test_a_supported_region_is_accepted() -> None:
    assert require_supported("eu-west-1") == "eu-west-1"


@pytest.mark.parametrize("region", ["ap-east-1", "me-central-1", "us-gov-west-1", "", None])
def test_a_region_without_ses_receiving_is_refused_naming_the_supported_ones(region: str | None) -> None:
    with pytest.raises(UnsupportedRegion) as refused:
        require_supported(region)
    assert "us-east-1" in str(refused.value) and "eu-west-1" in str(refused.value)


@pytest.mark.parametrize("region", SUPPORTED_REGIONS)
def test_cloudformation_can_create_receipt_rules_in_each_supported_region(region: str) -> None:
    registry = json.loads((PROVIDERS / f"{region}.json").read_text())
    assert all(resource_type in registry for resource_type in RECEIPT_TYPES)


@pytest.mark.infra
def test_synthesis_for_a_region_without_ses_receiving_stops_naming_the_supported_ones() -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CASEFLOW_", "CDK_"))}
    result = subprocess.run(
        [sys.executable, "app.py"],
        cwd=INFRA_DIR,
        env={**environ, "AWS_DEFAULT_REGION": "ap-east-1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode != 0
    assert "'ap-east-1'" in result.stderr and "eu-west-1" in result.stderr


@pytest.mark.infra
def test_the_template_lints_clean_in_every_supported_region(synthesis: Synthesis) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from cfnlint.runner import main; sys.exit(main())"]
        + ["--format", "json", "--regions", *SUPPORTED_REGIONS, "--", str(synthesis.template_path)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.stdout.strip(), f"cfn-lint printed nothing (exit {result.returncode}):\n{result.stderr}"
    errors = [
        f"{m['Rule']['Id']} {'/'.join(map(str, m['Location']['Path']))}: {m['Message']}"
        for m in json.loads(result.stdout)
        if m["Level"] == "Error"
    ]
    assert not errors, "\n".join(errors)
