"""Test environment: fake AWS credentials and a region, set before any Caseflow module is imported."""

import os

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "CASEFLOW_STAGE": "test",
        "CASEFLOW_LINK_SECRET": "test-link-secret-not-for-production",
        "CASEFLOW_CLASSIFIER_TUNING": "quick",
    }
)
for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "CASEFLOW_OUTBOX_DIR"):
    os.environ.pop(name, None)


from chalicelib.local import moto_patches  # noqa: E402

moto_patches.apply()
