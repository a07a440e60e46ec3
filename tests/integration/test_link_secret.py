"""The link secret on moto: read from Secrets Manager when first needed, never at start-up, and an
unreadable one named by its setting."""

from __future__ import annotations

import uuid

import boto3
import pytest

from chalicelib import bootstrap, settings
from chalicelib.adapters.secrets import SecretsManagerSecret
from chalicelib.services.clock import utc_now


def a_secret_id() -> str:
    """A name no other test uses: moto may be shared with the package's stack."""
    return f"caseflow-link-secret-{uuid.uuid4().hex}"


def link_secret(secret_id: str) -> SecretsManagerSecret:
    config = settings.get()
    return SecretsManagerSecret(secret_id, settings.LINK_SECRET_ID, config.region, config.endpoint_url)


def test_the_secret_is_read_when_first_needed_and_then_cached(table):
    secret_id = a_secret_id()
    secret = link_secret(secret_id)  # before the secret exists: nothing is read yet
    manager = boto3.client("secretsmanager")
    manager.create_secret(Name=secret_id, SecretString="the first value, long enough")

    assert secret() == "the first value, long enough"
    manager.put_secret_value(SecretId=secret_id, SecretString="a replacement, long enough too")
    assert secret() == "the first value, long enough"
    assert link_secret(secret_id)() == "a replacement, long enough too"  # a new cold start reads again


def test_a_missing_or_short_secret_names_the_setting_to_fix(table):
    with pytest.raises(settings.SettingsError, match=rf"^{settings.LINK_SECRET_ID}: .* could not be read"):
        link_secret(a_secret_id())()
    short = a_secret_id()
    boto3.client("secretsmanager").create_secret(Name=short, SecretString="too short")
    with pytest.raises(settings.SettingsError, match=rf"^{settings.LINK_SECRET_ID}: .* at least 16 characters"):
        link_secret(short)()


def test_building_the_services_reads_no_secret_so_functions_that_sign_nothing_need_none(table, monkeypatch):
    monkeypatch.setenv(settings.LINK_SECRET_ID, a_secret_id())  # no such secret
    settings.get.cache_clear()
    try:
        services = bootstrap.build(utc_now)
        with pytest.raises(settings.SettingsError, match=settings.LINK_SECRET_ID):
            services.link_secret()
    finally:
        monkeypatch.undo()
        settings.get.cache_clear()


def test_outside_the_dev_stage_the_secret_must_be_named():
    with pytest.raises(settings.SettingsError, match=settings.LINK_SECRET_ID):
        settings.from_environ({settings.STAGE: "prod"})
    assert settings.from_environ({settings.STAGE: "dev"}).link_secret_id == settings.DEV_LINK_SECRET_ID
    assert settings.from_environ({settings.STAGE: "prod", settings.LINK_SECRET_ID: "arn:x"}).link_secret_id == "arn:x"
