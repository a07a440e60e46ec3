"""The process environment a stack on moto needs: fake credentials, a region, a non-dev stage."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REGION = "us-east-1"


def fake_aws(stage: str, **extra: str) -> None:
    """Fake credentials and a region, the stage `stage` with a link secret of its own (which
    provisioning creates in moto's Secrets Manager), and no way to reach a real AWS account or a
    running stack. Call it before importing any Caseflow module: settings are read from the
    environment."""
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": stage,
            "AWS_SECRET_ACCESS_KEY": stage,
            "AWS_DEFAULT_REGION": REGION,
            "CASEFLOW_STAGE": stage,
            "CASEFLOW_LINK_SECRET_ID": f"caseflow-{stage}-link-secret",
            **extra,
        }
    )
    for name in ("AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "AWS_PROFILE", "CASEFLOW_OUTBOX_DIR"):
        os.environ.pop(name, None)
