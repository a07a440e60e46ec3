"""The AWS regions Caseflow deploys to: those where SES receives email.

Caseflow takes customers' mail in through an SES receipt rule set, and SES receives email in
only some of the regions where it sends. Sources, checked 2026-12-06:
- AWS General Reference, "Amazon Simple Email Service endpoints and quotas", table "Email
  receiving endpoints" (inbound-smtp.<region>.amazonaws.com): us-east-1, us-east-2, us-west-2,
  ap-southeast-1, ap-southeast-2, ap-southeast-3, ap-northeast-1, ca-central-1, eu-central-1,
  eu-west-1 and eu-west-2 as of 2024; receiving has since opened in more regions.
- CloudFormation's resource registry per region, as cfn-lint 1.58.0 ships it
  (cfnlint/data/schemas/providers/<region>.json): AWS::SES::ReceiptRuleSet and ReceiptRule exist
  in the commercial regions below and in no other (not in ap-east-1, ap-south-2, ap-southeast-4
  to -7, ca-west-1, eu-central-2, eu-south-2, me-central-1, mx-central-1, China or GovCloud).
  tests/infra/test_regions.py checks that this list stays inside that registry and that the
  synthesized template lints clean (cfn-lint) in every region of it.
"""

from __future__ import annotations

SUPPORTED_REGIONS: tuple[str, ...] = (
    "af-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ca-central-1",
    "eu-central-1",
    "eu-north-1",
    "eu-south-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
)


class UnsupportedRegion(ValueError):
    """The stack was asked for a region where SES cannot receive Caseflow's mail."""


def require_supported(region: str | None) -> str:
    """The region, if Caseflow can run there; else an error that names the ones it can."""
    if region in SUPPORTED_REGIONS:
        return region
    asked = f"region {region!r}" if region else "no region"
    raise UnsupportedRegion(
        f"Caseflow cannot be deployed to {asked}: it receives customers' email through SES, which "
        f"receives email only in {', '.join(SUPPORTED_REGIONS)}. Choose one of these "
        "(make synth|deploy REGION=..., or AWS_REGION)."
    )
