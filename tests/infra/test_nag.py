"""cdk-nag's AwsSolutions and Serverless packs find nothing unanswered in what CloudFormation will
create (the Chalice functions and API included, SAM expanded): every finding is fixed, or
suppressed in `infra/nag.py` with its reason, and no suppression outlives its finding."""

from __future__ import annotations

import pytest

from infra import nag
from tests.infra.conftest import Synthesis

pytestmark = pytest.mark.infra


@pytest.fixture(scope="module")
def findings(synthesis: Synthesis) -> list[nag.Finding]:
    return nag.findings(synthesis.template)


def test_nag_sees_the_chalice_functions_and_api(findings: list[nag.Finding]) -> None:
    """The SAM resources are expanded before the check, or it would prove nothing about them."""
    resources = {finding.resource for finding in findings}
    assert {"APIHandler", "OnTaskMessage", "RestAPIapiStage"} <= resources


def test_no_unsuppressed_error_or_warning(findings: list[nag.Finding]) -> None:
    unanswered = [str(f) for f in findings if f.suppressed_by is None]
    assert not unanswered, "\n".join(unanswered)


def test_every_suppression_answers_a_finding_and_says_why(findings: list[nag.Finding]) -> None:
    assert not nag.stale(findings), nag.report(findings)
    assert all(len(s.reason) > 40 for s in nag.SUPPRESSIONS)


def test_a_new_finding_is_not_silently_accepted() -> None:
    finding = nag.Finding("AwsSolutions", "AwsSolutions-S10", "error", "MailBucketFABEC941", "TLS not required")
    assert not any(s.matches(finding) for s in nag.SUPPRESSIONS)
