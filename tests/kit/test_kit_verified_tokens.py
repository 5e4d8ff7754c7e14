"""The cache of verified tokens (metas_kit.auth.verified_principal) never accepts what decode_token refuses: an
expired token, another secret or issuer, a token that differs by one character. And the request ids the
middleware makes are unique 32-character hex strings."""

from __future__ import annotations

import time

import jwt
import pytest

from metas_kit import auth
from metas_kit.auth import Principal, issue_token, verified_principal
from metas_kit.errors import Unauthorized
from metas_kit.middleware import request_ids

SECRET = "verified-token-cache-test-secret-0123456789"
OTHER = "another-secret-of-the-cache-test-0123456789"


def test_a_verified_token_gives_the_same_principal_again() -> None:
    token = issue_token(Principal("ana", frozenset({"viewer"})), SECRET)
    first = verified_principal(token, SECRET)
    assert first.sub == "ana"
    assert first.roles == frozenset({"viewer"})
    assert verified_principal(token, SECRET) is first  # from the cache


def test_an_expired_token_is_refused_although_it_was_verified_before() -> None:
    token = issue_token(Principal("ana", frozenset({"viewer"})), SECRET, ttl_seconds=1)
    assert verified_principal(token, SECRET).sub == "ana"
    expires = jwt.decode(token, options={"verify_signature": False})["exp"]
    while time.time() < expires:
        time.sleep(0.05)
    with pytest.raises(Unauthorized, match="expired"):
        verified_principal(token, SECRET)


def test_another_secret_or_issuer_verifies_again_and_refuses() -> None:
    token = issue_token(Principal("ana", frozenset({"admin"})), SECRET)
    verified_principal(token, SECRET)
    with pytest.raises(Unauthorized, match="not valid"):
        verified_principal(token, OTHER)
    with pytest.raises(Unauthorized, match="not valid"):
        verified_principal(token, SECRET, issuer="someone-else")


def test_a_token_altered_after_a_good_one_was_cached_is_refused() -> None:
    token = issue_token(Principal("ana", frozenset({"viewer"})), SECRET)
    verified_principal(token, SECRET)
    head, payload, signature = token.split(".")
    forged = ".".join((head, payload, ("A" if signature[0] != "A" else "B") + signature[1:]))
    with pytest.raises(Unauthorized):
        verified_principal(forged, SECRET)


def test_the_cache_is_bounded() -> None:
    for n in range(auth.MAX_VERIFIED_TOKENS + 50):
        verified_principal(issue_token(Principal(f"user-{n}", frozenset({"viewer"})), SECRET), SECRET)
    assert len(auth._verified) <= auth.MAX_VERIFIED_TOKENS


def test_request_ids_are_unique_hex_and_change_prefix_after_a_reset() -> None:
    ids = [request_ids.next() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    prefix = ids[0][:16]
    request_ids.reset()  # what a forked child does
    assert request_ids.next()[:16] != prefix
