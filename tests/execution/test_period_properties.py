"""Properties of execution's period and instant inputs (hypothesis), through the real app in-process: whatever text
a caller puts in a ``YYYY-MM`` path segment, a period query parameter or a lock exception's ``until``, the answer is
a 4xx problem+json or the value accepted exactly as sent — never a 5xx.

The properties run on both backends, as do the hand-picked examples of each input.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from execution_support import ADMIN, IPSM, PLANNER, VIEWER, Service
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from pydantic import AwareDatetime, TypeAdapter

from execution.api.schemas import PERIOD_PATTERN

PERIOD = re.compile(PERIOD_PATTERN)
INSTANT = TypeAdapter(AwareDatetime)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Any text, plus texts near the grammar: year/month out of range, missing zero padding, other separators.
periods = st.one_of(
    st.text(max_size=12),
    st.builds(lambda y, m: f"{y:04d}-{m:02d}", st.integers(0, 9999), st.integers(0, 13)),
    st.builds(
        lambda y, m, sep: f"{y}{sep}{m}", st.integers(-10, 99999), st.integers(-1, 100), st.sampled_from("-/_ .")
    ),
    st.from_regex(r"\A[0-9]{4}-[0-9]{2}\Z"),
)


def _offset_text(moment: datetime, minutes: int) -> str:
    return moment.replace(tzinfo=timezone(timedelta(minutes=minutes))).isoformat()


# Instants written with any offset, any text, numbers and the far edges of the calendar.
untils: st.SearchStrategy[Any] = st.one_of(
    st.builds(
        _offset_text,
        st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
        st.integers(-23 * 60 - 59, 23 * 60 + 59),
    ),
    st.builds(
        _offset_text,
        st.datetimes(min_value=datetime(2014, 3, 10, 13), max_value=datetime(2014, 4, 9)),
        st.integers(-12 * 60, 14 * 60),
    ),
    st.text(max_size=40),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.none(),
)


def assert_problem(response: httpx.Response) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    assert response.json()["status"] == response.status_code


def segment(text: str) -> str:
    return quote(text, safe="")


def is_one_segment(text: str) -> bool:
    # "", "." and ".." are not a segment (the client drops dot segments; "locks/" redirects), and the server routes
    # on the decoded path, so a "/" (even as %2F) splits it: those reach the router, not the period parser.
    return text not in {"", ".", ".."} and "/" not in text


# ---- the period in the path -------------------------------------------------------------------


async def check_lock(svc: Service, period: str) -> None:
    response = await svc.http.put(
        f"/v1/plans/{IPSM}/locks/{segment(period)}", json={"reason": "evaluation closed"}, headers=PLANNER
    )
    if response.status_code == 200:
        assert PERIOD.fullmatch(period), period
        assert response.json()["period"] == period  # stored exactly as sent
        listed = await svc.http.get(f"/v1/plans/{IPSM}/locks", headers=VIEWER)
        assert period in {lock["period"] for lock in listed.json()}
    else:
        assert_problem(response)
        if not PERIOD.fullmatch(period):
            assert response.status_code == 422, response.text[:300]


@SETTINGS
@given(period=periods)
@example(period="2014-03")
@example(period="0000-00")
@example(period="２０１４-０３")
async def test_any_period_in_the_path_is_locked_as_sent_or_a_4xx(svc: Service, period: str) -> None:
    assume(is_one_segment(period))
    await check_lock(svc, period)


@pytest.mark.parametrize("period", ["2014-03", "2014-3", "9999-13", "2014-03\n", "١٤٠٢-٠٣"])
async def test_period_in_the_path_on_both_backends(svc: Service, period: str) -> None:
    await check_lock(svc, period)


# ---- periods in query parameters --------------------------------------------------------------

QUERIES = [
    (f"/v1/plans/{IPSM}/registrations", "period"),
    (f"/v1/plans/{IPSM}/registrations", "period_from"),
    (f"/v1/plans/{IPSM}/registrations", "period_to"),
    ("/v1/obligations", "period"),
]


async def check_query(svc: Service, path: str, name: str, period: str) -> None:
    params = {name: period, "plan_id": IPSM} if path == "/v1/obligations" else {name: period}
    response = await svc.http.get(path, params=params, headers=ADMIN)
    if PERIOD.fullmatch(period):
        assert response.status_code == 200, response.text[:300]
    else:
        assert_problem(response)
        assert response.status_code == 422


@SETTINGS
@given(query=st.sampled_from(QUERIES), period=periods)
async def test_any_period_query_is_a_filter_or_a_422(svc: Service, query: tuple[str, str], period: str) -> None:
    await check_query(svc, *query, period)


@pytest.mark.parametrize("period", ["2014-03", "2014-13", "14-03"])
async def test_period_query_on_both_backends(svc: Service, period: str) -> None:
    for path, name in QUERIES:
        await check_query(svc, path, name, period)


# ---- a lock exception's until -----------------------------------------------------------------


async def check_until(svc: Service, until: Any) -> None:
    locked = await svc.http.put(f"/v1/plans/{IPSM}/locks/2014-02", json={"reason": "closed"}, headers=PLANNER)
    assert locked.status_code == 200, locked.text[:300]
    response = await svc.http.post(
        f"/v1/plans/{IPSM}/locks/2014-02/exceptions",
        json={"unit_code": "DS", "until": until, "reason": "late evidence"},
        headers=PLANNER,
    )
    if response.status_code == 201:
        sent = INSTANT.validate_python(until)
        stored = datetime.fromisoformat(response.json()["until"])
        assert stored == sent  # the same instant, written in UTC
        assert stored.utcoffset() == timedelta(0)
        assert svc.clock.now < stored <= svc.clock.now + timedelta(days=366)
    else:
        assert_problem(response)


@SETTINGS
@given(until=untils)
@example(until="9999-12-31T23:59:59-01:00")
@example(until="0001-01-01T00:00:00+01:00")
@example(until="2014-03-20T12:00:00")
@example(until="2014-03-20T12:00:00+05:30")
async def test_any_until_is_an_exception_as_sent_or_a_4xx(svc: Service, until: Any) -> None:
    await check_until(svc, until)


@pytest.mark.parametrize(
    "until", ["2014-03-20T12:00:00+05:30", "2014-03-20T12:00:00", "9999-12-31T23:59:59-01:00", "2014-03-09T00:00:00Z"]
)
async def test_until_on_both_backends(svc: Service, until: str) -> None:
    await check_until(svc, until)
    if until == "2014-03-20T12:00:00+05:30":
        listed = await svc.http.get(f"/v1/plans/{IPSM}/locks/2014-02/exceptions", headers=VIEWER)
        assert [e["until"][:19] for e in listed.json()] == ["2014-03-20T06:30:00"]  # 12:00 at +05:30 is 06:30 UTC
