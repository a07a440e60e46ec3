"""Test environment: fake AWS credentials and a region, set before any Caseflow module is imported."""

from harness import fake_aws

fake_aws("test", CASEFLOW_CLASSIFIER_TUNING="quick")

from chalicelib.local import moto_patches  # noqa: E402

moto_patches.apply()
