"""The id token check, against a key pair made here (Cognito's real keys are exercised in integration)."""

import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from chalicelib.adapters.cognito import CognitoTokenVerifier
from chalicelib.domain.errors import Unauthenticated

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_pool"
AUDIENCE = "client-id"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


JWKS_URL = "https://jwks.example/keys"


@pytest.fixture
def fetches(monkeypatch):
    """The JWKS URLs fetched: PyJWKClient's download is replaced by the key made here."""
    fetched = []

    def fetch_data(client):
        fetched.append(client.uri)
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
        return {"keys": [{**public, "kid": "k1", "alg": "RS256", "use": "sig"}]}

    monkeypatch.setattr(jwt.PyJWKClient, "fetch_data", fetch_data)
    return fetched


@pytest.fixture
def verifier(fetches):
    return CognitoTokenVerifier(JWKS_URL, ISSUER, AUDIENCE)


def token(**overrides):
    claims = {
        "sub": "u1",
        "cognito:username": "sam",
        "cognito:groups": ["store-manager"],
        "iss": ISSUER,
        "aud": AUDIENCE,
        "token_use": "id",
        "exp": int(time.time()) + 600,
        **overrides,
    }
    return jwt.encode(claims, KEY, algorithm="RS256", headers={"kid": "k1"})


def test_a_valid_id_token_gives_its_claims(verifier):
    assert verifier.verify(token())["cognito:groups"] == ["store-manager"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"exp": int(time.time()) - 10},
        {"aud": "another-app"},
        {"iss": "https://cognito-idp.us-east-1.amazonaws.com/other-pool"},
        {"token_use": "access"},
    ],
    ids=["expired", "wrong audience", "wrong issuer", "access token"],
)
def test_tokens_that_are_not_ours_or_no_longer_valid_are_refused(verifier, overrides):
    with pytest.raises(Unauthenticated):
        verifier.verify(token(**overrides))


def test_an_unknown_signing_key_is_refused(verifier):
    forged = jwt.encode(
        jwt.decode(token(), options={"verify_signature": False}), KEY, headers={"kid": "k9"}, algorithm="RS256"
    )
    with pytest.raises(Unauthenticated, match="unknown key"):
        verifier.verify(forged)


def test_the_keys_are_fetched_once_and_kept(verifier, fetches):
    for _ in range(3):
        verifier.verify(token())
    assert fetches == [JWKS_URL]


def test_a_token_that_is_not_a_jwt_is_refused(verifier):
    with pytest.raises(Unauthenticated):
        verifier.verify("garbage")
