"""If-Match compares strongly (a weak tag never matches; '*' only where the route allows it); If-None-Match
weakly. Any header value is a match, a mismatch or a 400 problem — never an exception of another kind."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metas_kit.errors import PreconditionFailed
from metas_kit.etag import EntityTag, MalformedPrecondition, if_match_passes, none_match, parse_etags

CURRENT = '"reg-12-v3"'


@pytest.mark.parametrize(
    ("header", "passes"),
    [
        ('"reg-12-v3"', True),
        ('"reg-12-v2", "reg-12-v3"', True),
        (' "reg-12-v3" ', True),
        ('W/"reg-12-v3"', False),  # weak never matches If-Match (RFC 9110 §13.1.1)
        ('"reg-12-v2"', False),
        ('"reg-12-v3-x"', False),
    ],
)
def test_if_match_is_strong(header: str, passes: bool) -> None:
    assert if_match_passes(header, CURRENT) is passes


def test_star_only_where_allowed() -> None:
    assert if_match_passes("*", CURRENT, allow_any=True)
    with pytest.raises(PreconditionFailed, match="'\\*' is not accepted"):
        if_match_passes("*", CURRENT)


@pytest.mark.parametrize("header", ["reg-12-v3", '"unterminated', '"a" junk', '"a",,', "W/", '"a" "b"', "", " "])
def test_malformed_headers_are_400(header: str) -> None:
    with pytest.raises(MalformedPrecondition):
        if_match_passes(header, CURRENT)


def test_if_none_match_is_weak_and_star_matches_an_existing_resource() -> None:
    assert none_match('W/"reg-12-v3"', CURRENT)
    assert none_match('"reg-12-v3"', CURRENT)
    assert not none_match('"reg-12-v2"', CURRENT)
    assert none_match("*", CURRENT)
    assert not none_match("*", None)  # nothing there yet: a create with If-None-Match: * goes ahead


def test_parse_keeps_tags_and_weakness() -> None:
    assert parse_etags('W/"a", "b"') == [EntityTag('"a"', weak=True), EntityTag('"b"', weak=False)]
    assert parse_etags("*") is None


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=120) | st.lists(st.sampled_from(['"a"', 'W/"a"', '"reg-12-v3"', ",", " ", '"'])).map("".join))
def test_any_header_matches_mismatches_or_is_a_problem(header: str) -> None:
    try:
        result = if_match_passes(header, CURRENT)
    except (MalformedPrecondition, PreconditionFailed):
        return
    # a pass means the exact strong tag was listed
    if result:
        assert any(t.opaque == CURRENT and not t.weak for t in parse_etags(header) or [])
