"""Secrets read from Secrets Manager when first needed, through Powertools' parameters utility.

Nothing reads a secret at import or while the services are built, so a function that never signs
a link never calls Secrets Manager and needs no permission to (decision 0033).
"""

from __future__ import annotations

import boto3
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

from chalicelib.settings import SettingsError

#: A warm function reads the secret again after this long: a replaced secret reaches every function
#: within the hour without a deploy, and in between signing costs no call.
CACHE_SECONDS = 3600
#: Shorter secrets are refused: they would make the HMAC keys guessable.
MIN_LENGTH = 16


class SecretsManagerSecret:
    """One secret's value, read on the first call and cached by Powertools for CACHE_SECONDS.

    `setting` is the variable that names the secret, so that an error says what to fix. Each
    instance has its own cache: a process that builds its services again (a test on a new moto)
    reads the secret again.
    """

    def __init__(self, secret_id: str, setting: str, region: str, endpoint_url: str | None = None):
        self._secret_id = secret_id
        self._setting = setting
        self._region = region
        self._endpoint_url = endpoint_url
        self._provider: SecretsProvider | None = None

    def __call__(self) -> str:
        if self._provider is None:
            client = boto3.client("secretsmanager", region_name=self._region, endpoint_url=self._endpoint_url)
            self._provider = SecretsProvider(boto3_client=client)
        where = f"{self._setting}: the secret {self._secret_id!r}"
        try:
            value = self._provider.get(self._secret_id, max_age=CACHE_SECONDS)
        except GetParameterError as exc:
            raise SettingsError(f"{where} could not be read from Secrets Manager: {exc}") from exc
        if not isinstance(value, str) or len(value) < MIN_LENGTH:
            raise SettingsError(f"{where} must be text of at least {MIN_LENGTH} characters")
        return value
