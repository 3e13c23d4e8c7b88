from __future__ import annotations

import time
import uuid

import pytest

from portal.identity import tokens
from portal.ids import uuid7


def claims() -> tokens.AccessClaims:
    return tokens.AccessClaims(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), "internal")


def test_a_minted_token_reads_back() -> None:
    issuer = tokens.AccessTokens("k" * 40, "https://p.example", 60)
    c = claims()
    assert issuer.read(issuer.mint(c)) == c


def test_expired_foreign_and_other_issuer_tokens_are_refused() -> None:
    issuer = tokens.AccessTokens("k" * 40, "https://p.example", 60)
    expired = issuer.mint(claims(), now=time.time() - 3600)
    assert issuer.read(expired) is None
    assert tokens.AccessTokens("other-key" * 5, "https://p.example", 60).read(issuer.mint(claims())) is None
    assert tokens.AccessTokens("k" * 40, "https://q.example", 60).read(issuer.mint(claims())) is None


def test_an_empty_signing_key_is_never_accepted() -> None:
    with pytest.raises(ValueError):
        tokens.derive_key("", "access-token")


def test_credentials_round_trip_and_junk_is_ignored() -> None:
    tenant, session = uuid.uuid4(), uuid.uuid4()
    value = tokens.format_credential(tenant, session, "s3cret", tokens.REFRESH_PREFIX)
    parsed = tokens.parse_credential(value, tokens.REFRESH_PREFIX)
    assert parsed == tokens.SessionCredential(tenant, session, "s3cret")
    for junk in (None, "", "a.b.c", "prt_x.y.z", value[4:], "x" * 400):
        assert tokens.parse_credential(junk, tokens.REFRESH_PREFIX) is None


def test_uuid7_is_time_ordered_and_versioned() -> None:
    first = uuid7()
    time.sleep(0.002)
    second = uuid7()
    assert first.version == second.version == 7
    assert first < second
