"""The JSON log line: its fields, its timestamp (the text datetime writes, cut to milliseconds, computed once per
second), the caller's extra fields, the exception text; and the one access line every request writes."""

from __future__ import annotations

import io
import json
import logging
import random
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI

from metas_kit.context import request_id_var
from metas_kit.logging import JsonFormatter, configure_logging
from metas_kit.middleware import RequestContextMiddleware


def record(msg: str = "hello", **extra: object) -> logging.LogRecord:
    return logging.getLogger("metas.test").makeRecord("metas.test", logging.INFO, "", 0, msg, (), None, extra=extra)


def test_timestamps_are_the_text_datetime_writes() -> None:
    formatter = JsonFormatter("svc")
    rng = random.Random(15)
    instants = [0.0, 0.9995, 0.9999995, 0.99999949, 1733385600.999999, 1733385600.9999996, 1_000_000_000.5]
    instants += [rng.uniform(0, 2e9) for _ in range(20_000)]
    instants += sorted(rng.uniform(1.7e9, 1.7e9 + 5) for _ in range(2_000))  # many in the same second
    for instant in instants:
        expected = datetime.fromtimestamp(instant, UTC).isoformat(timespec="milliseconds")
        assert formatter.timestamp(instant) == expected, instant


def test_a_line_has_the_fields_the_extra_and_the_request_id() -> None:
    token = request_id_var.set("rid-1")
    try:
        rec = record("plan %s read", route="/v1/plans/{plan_id}", status=200, when=datetime(2026, 1, 2, tzinfo=UTC))
        rec.args = ("p1",)
        line = json.loads(JsonFormatter("planning").format(rec))
    finally:
        request_id_var.reset(token)
    assert line["ts"] == datetime.fromtimestamp(rec.created, UTC).isoformat(timespec="milliseconds")
    assert {k: line[k] for k in ("level", "service", "logger", "msg", "request_id")} == {
        "level": "info",
        "service": "planning",
        "logger": "metas.test",
        "msg": "plan p1 read",
        "request_id": "rid-1",
    }
    assert line["route"] == "/v1/plans/{plan_id}"
    assert line["status"] == 200
    assert line["when"] == "2026-01-02 00:00:00+00:00"  # what is not JSON is written as its str()
    assert not {"lineno", "funcName", "threadName", "process", "args", "exc"} & set(line)


def test_non_ascii_is_written_as_is_and_an_exception_as_text() -> None:
    try:
        raise ValueError("avaliação")
    except ValueError:
        rec = logging.getLogger("metas.test").makeRecord(
            "metas.test", logging.ERROR, "", 0, "falhou: ç", (), sys.exc_info()
        )
    text = JsonFormatter("svc").format(rec)
    assert "falhou: ç" in text
    line = json.loads(text)
    assert line["level"] == "error"
    assert "ValueError: avaliação" in line["exc"]


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    configure_logging("svc", "INFO", True)
    out = io.StringIO()
    root.handlers[0].setStream(out)  # type: ignore[attr-defined]
    yield out
    root.handlers[:] = saved
    root.setLevel(level)


async def test_every_request_writes_one_access_line(captured: io.StringIO) -> None:
    app = FastAPI()

    @app.get("/v1/things/{thing}")
    async def thing(thing: str) -> dict[str, str]:
        return {"thing": thing}

    wrapped = RequestContextMiddleware(app, "svc")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=wrapped), base_url="http://t") as client:
        res = await client.get("/v1/things/a", headers={"x-request-id": "abc-1"})
    assert res.status_code == 200
    lines = [json.loads(raw) for raw in captured.getvalue().splitlines()]
    access = [line for line in lines if line["logger"] == "metas.access"]
    assert len(access) == 1
    line = access[0]
    assert {k: line[k] for k in ("msg", "method", "route", "path", "status", "request_id", "service")} == {
        "msg": "request",
        "method": "GET",
        "route": "/v1/things/{thing}",
        "path": "/v1/things/a",
        "status": 200,
        "request_id": "abc-1",
        "service": "svc",
    }
    assert isinstance(line["duration_ms"], float)
    assert line["duration_ms"] >= 0
