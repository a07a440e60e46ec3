"""Signed links: JWTs (HS256) that expire by the caller's clock and refuse any other algorithm."""

import re
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from chalicelib.web_tokens import signed_links
from chalicelib.web_tokens.signed_links import LinkExpired, LinkInvalid, sign, verify

SECRET = "a link secret of thirty-two bytes or more"

#: Far from today on purpose: expiry is judged by the clock the caller passes, not the machine's.
THEN = datetime(2001, 3, 1, 9, 0, tzinfo=UTC)


def test_a_link_carries_its_payload_until_it_expires_by_the_callers_clock():
    link = sign({"issue": "01J", "for": "status"}, SECRET, THEN + timedelta(days=90))
    assert re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", link), "not safe in a URL path"
    assert verify(link, SECRET, THEN)["issue"] == "01J"
    assert verify(link, SECRET, THEN + timedelta(days=90))["for"] == "status"
    with pytest.raises(LinkExpired):
        verify(link, SECRET, THEN + timedelta(days=90, seconds=1))


def test_another_key_or_algorithm_is_refused():
    payload = {"task": "t1", "exp": int((THEN + timedelta(days=1)).timestamp())}
    with pytest.raises(LinkInvalid):
        verify(sign(payload, "another secret", THEN + timedelta(days=1)), SECRET, THEN)
    unsigned = jwt.encode(payload, None, algorithm="none")
    with pytest.raises(LinkInvalid):
        verify(unsigned, SECRET, THEN)
    with pytest.raises(LinkInvalid):  # the raw secret is not the links' key
        verify(jwt.encode(payload, SECRET, algorithm="HS256"), SECRET, THEN)


def test_a_link_without_an_expiry_is_refused():
    no_expiry = jwt.encode({"task": "t1"}, signed_links._key(SECRET), algorithm="HS256")
    with pytest.raises(LinkInvalid):
        verify(no_expiry, SECRET, THEN)
