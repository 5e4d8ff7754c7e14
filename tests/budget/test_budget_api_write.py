"""Writes on PostgreSQL and SQLite: VAT split, refused amounts (problem+json, nothing changed),
corrections, idempotency, If-Match, audit, gauges refreshed on write, idempotent re-seed.

The tests of this module share one seeded database per backend and run in file order; each asserts
the change it makes (deltas), not absolute counts left by another test.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest

Auth = Callable[..., dict[str, str]]
SUB_111 = {"breakdown": "subinvestment", "subinvestment": "1.1.1", "year": 2024}


async def _count(api: httpx.AsyncClient, reader: dict[str, str]) -> int:
    resp = await api.get("/v1/budget/amounts", params={"limit": 500}, headers=reader)
    n = len(resp.json()["items"])
    cursor = resp.json()["next_cursor"]
    while cursor:
        resp = await api.get("/v1/budget/amounts", params={"limit": 500, "cursor": cursor}, headers=reader)
        n += len(resp.json()["items"])
        cursor = resp.json()["next_cursor"]
    return n


async def _audit_count(api: httpx.AsyncClient, auth: Auth) -> int:
    resp = await api.get("/v1/audit", params={"limit": 500}, headers=auth("admin", sub="root"))
    assert resp.status_code == 200, resp.text
    return len(resp.json()["items"])


async def _eixo1_2024(api: httpx.AsyncClient, reader: dict[str, str]) -> dict[str, Any]:
    r = await api.get(
        "/v1/budget/reports/planned-vs-executed", params={"group_by": "eixo", "year": 2024}, headers=reader
    )
    row: dict[str, Any] = next(x for x in r.json()["rows"] if x["eixo"] == 1)
    return row


async def test_create_executed_amount_default_vat(
    api: httpx.AsyncClient, writer: dict[str, str], reader: dict[str, str], auth: Auth
) -> None:
    audits = await _audit_count(api, auth)
    body = {**SUB_111, "month": 3, "phase": "executed", "amount": "1230.00", "description": "fatura 1"}
    resp = await api.post("/v1/budget/amounts", json=body, headers=writer)
    assert resp.status_code == 201, resp.text
    a = resp.json()
    # 1230.00 / 1.23 = 1000.00 net, VAT 230.00; PRR pays the net, the national budget the VAT
    assert (a["gross"], a["net"], a["vat"], a["vat_rate"]) == ("1230.00", "1000.00", "230.00", "0.23")
    assert (a["prr_eur"], a["national_eur"], a["eixo"], a["month"]) == ("1000.00", "230.00", 1, 3)
    assert resp.headers["etag"] == f'"amount-{a["id"]}-v1"'
    assert resp.headers["location"] == f"/v1/budget/amounts/{a['id']}"
    assert await _audit_count(api, auth) == audits + 1
    row = await _eixo1_2024(api, reader)
    # Eixo 1 2024: planned 35.970.268 (its sub-investments), executed now 1.230,00
    assert (row["planned"], row["executed"]) == ("35970268.00", "1230.00")
    assert (row["executed_net"], row["executed_vat"]) == ("1000.00", "230.00")
    # 1230 / 35970268 x 100 = 0.00342 % -> 0.00
    assert row["execution_rate_pct"] == "0.00"
    metrics = (await api.get("/metrics")).text
    assert 'metas_budget_executed_eur{eixo="1",year="2024"} 1230.0' in metrics


async def test_line_vat_override_and_net_basis(api: httpx.AsyncClient, writer: dict[str, str]) -> None:
    resp = await api.post(
        "/v1/budget/amounts",
        json={**SUB_111, "phase": "committed", "amount": "106.00", "vat_rate": "0.06"},
        headers=writer,
    )
    assert resp.status_code == 201, resp.text
    assert (resp.json()["net"], resp.json()["vat"], resp.json()["vat_rate"]) == ("100.00", "6.00", "0.06")
    # net-first: 81.30 x 0.23 = 18.699 -> 18.70 VAT, gross 100.00
    resp = await api.post(
        "/v1/budget/amounts",
        json={**SUB_111, "phase": "committed", "amount": "81.30", "basis": "net"},
        headers=writer,
    )
    assert (resp.json()["gross"], resp.json()["net"], resp.json()["vat"]) == ("100.00", "81.30", "18.70")
    # fully national funding (current spending): the national budget pays everything
    resp = await api.post(
        "/v1/budget/amounts",
        json={**SUB_111, "phase": "committed", "amount": "123.00", "funding_source": "oe"},
        headers=writer,
    )
    assert (resp.json()["prr_eur"], resp.json()["national_eur"]) == ("0.00", "123.00")
    # a rubric line records the code-table version it was validated against
    resp = await api.post(
        "/v1/budget/amounts",
        json={"breakdown": "rubric", "year": 2024, "month": 6, "phase": "executed", "amount": "24.60"}
        | {"fund_item": "DA3110502", "rubric": "D.02.02.20.02"},
        headers=writer,
    )
    assert resp.status_code == 201, resp.text
    assert (resp.json()["eixo"], resp.json()["code_table_version"], resp.json()["net"]) == (2, "2024.1", "20.00")


BAD_AMOUNTS = [
    ({**SUB_111, "phase": "executed", "amount": "-5.00"}, "amount", "negative"),
    ({**SUB_111, "phase": "planned", "amount": "-0.01"}, "amount", "negative"),
    # outside the number grammar (the kit's): refused by the schema, naming the body field
    ({**SUB_111, "phase": "executed", "amount": "10.001"}, "body.amount", "plain decimal"),
    ({**SUB_111, "phase": "executed", "amount": "1,5"}, "body.amount", "plain decimal"),
    ({**SUB_111, "phase": "executed", "amount": "1e30"}, "body.amount", "plain decimal"),
    ({**SUB_111, "phase": "executed", "amount": "1E+999999999999"}, "body.amount", "plain decimal"),
    ({**SUB_111, "phase": "executed", "amount": "1e-999999"}, "body.amount", "plain decimal"),
    ({**SUB_111, "phase": "executed", "amount": "9" * 4000}, "body.amount", "plain decimal"),
    ({**SUB_111, "phase": "executed", "amount": "\u0661\u0662\u0663"}, "body.amount", "plain decimal"),
    ({**SUB_111, "phase": "executed", "amount": "\uff11\uff12\uff13"}, "body.amount", "plain decimal"),
    ({**SUB_111, "phase": "executed", "amount": "1_000"}, "body.amount", "plain decimal"),
    ({**SUB_111, "phase": "executed", "amount": " 5 \n"}, "body.amount", "plain decimal"),
    ({**SUB_111, "phase": "executed", "amount": "NaN"}, "body.amount", "plain decimal"),
    ({**SUB_111, "phase": "executed", "amount": 12.5}, "body.amount", "JSON strings"),
    # in the grammar but not in the returned form (two places): it would not come back as sent
    ({**SUB_111, "phase": "executed", "amount": "1230.5"}, "body.amount", 'two decimal places, e.g. "1230.50"'),
    ({**SUB_111, "phase": "executed", "amount": "1230"}, "body.amount", 'two decimal places, e.g. "1230.50"'),
    ({**SUB_111, "phase": "executed", "amount": 1230}, "body.amount", 'two decimal places, e.g. "1230.50"'),
    ({**SUB_111, "phase": "corrected", "amount": "-7.5"}, "body.amount", 'two decimal places, e.g. "1230.50"'),
    ({**SUB_111, "phase": "executed", "amount": "12.00", "vat_rate": " 0.23"}, "body.vat_rate", "plain decimal"),
    ({**SUB_111, "phase": "executed", "amount": "12.00", "vat_rate": "1.5"}, "vat_rate", "fraction"),
    (
        {"breakdown": "rubric", "year": 2024, "phase": "executed", "amount": "1.00", "fund_item": "DA3110501"}
        | {"rubric": "D.02.02.99"},
        "rubric",
        "unknown economic code",
    ),
    (
        {"breakdown": "rubric", "year": 2024, "phase": "executed", "amount": "1.00", "fund_item": "DA3110501"}
        | {"rubric": "02.02.05"},
        "rubric",
        "malformed",
    ),
    ({**SUB_111, "phase": "executed", "amount": "1.00", "eixo": 2}, "subinvestment", "eixo 1"),
    ({**SUB_111, "phase": "executed", "amount": "1.00", "year": 2030}, "year", "PRR period"),
    ({**SUB_111, "phase": "executed", "amount": "1.00", "year": 99999, "rubric": "D.02"}, "year", "PRR period"),
    ({**SUB_111, "phase": "executed", "amount": "1.00", "subinvestment": "9.9"}, "subinvestment", "unknown"),
    (
        {"breakdown": "rubric", "year": 2024, "phase": "executed", "amount": "1.00", "fund_item": "CPRR02"}
        | {"rubric": "D.07.01.08.06.02", "eixo": 3},
        "fund_item",
        "eixo 2",
    ),
]


@pytest.mark.parametrize(("body", "field", "message"), BAD_AMOUNTS)
async def test_bad_amounts_refused_nothing_changed(
    api: httpx.AsyncClient,
    writer: dict[str, str],
    reader: dict[str, str],
    auth: Auth,
    body: dict[str, Any],
    field: str,
    message: str,
) -> None:
    before, audits = await _count(api, reader), await _audit_count(api, auth)
    resp = await api.post("/v1/budget/amounts", json=body, headers=writer)
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    problem = resp.json()
    assert problem["type"].endswith("/validation-error")
    assert problem["errors"][0]["path"] == field
    assert message in problem["errors"][0]["message"]
    assert (await _count(api, reader), await _audit_count(api, auth)) == (before, audits)


async def test_money_is_returned_exactly_as_sent(api: httpx.AsyncClient, writer: dict[str, str]) -> None:
    for basis, field in (("gross", "gross"), ("net", "net")):
        body = {**SUB_111, "phase": "executed", "amount": "1230.50", "basis": basis}
        created = await api.post("/v1/budget/amounts", json=body, headers=writer)
        assert created.status_code == 201, created.text
        assert created.json()[field] == "1230.50"
        read = await api.get(created.headers["location"], headers=writer)
        assert read.json()[field] == "1230.50"
        # later tests of this module sum the sub-investment's amounts
        gone = await api.delete(created.headers["location"], headers={**writer, "if-match": read.headers["etag"]})
        assert gone.status_code == 204


async def test_text_with_nul_refused(api: httpx.AsyncClient, writer: dict[str, str], reader: dict[str, str]) -> None:
    before = await _count(api, reader)
    for extra in ({"description": "a\x00b"}, {"npd": "23\x0023"}):
        resp = await api.post(
            "/v1/budget/amounts", json={**SUB_111, "phase": "executed", "amount": "1.00", **extra}, headers=writer
        )
        assert resp.status_code == 422
    resp = await api.get("/v1/budget/amounts", params={"subinvestment": "1\x00"}, headers=reader)
    assert resp.status_code == 422
    assert await _count(api, reader) == before


@pytest.mark.parametrize("amount", [10.5, 10.0, True, None])
async def test_json_numbers_that_are_not_decimal_strings_refused(
    api: httpx.AsyncClient, writer: dict[str, str], reader: dict[str, str], amount: object
) -> None:
    before = await _count(api, reader)
    resp = await api.post("/v1/budget/amounts", json={**SUB_111, "phase": "executed", "amount": amount}, headers=writer)
    assert resp.status_code == 422
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["errors"][0]["path"].startswith("body.amount")
    assert await _count(api, reader) == before


async def test_viewer_cannot_write(api: httpx.AsyncClient, reader: dict[str, str]) -> None:
    resp = await api.post("/v1/budget/amounts", json={**SUB_111, "phase": "executed", "amount": "1.00"}, headers=reader)
    assert resp.status_code == 403
    assert resp.headers["content-type"].startswith("application/problem+json")


async def test_negative_correction_reduces_the_planned_budget(
    api: httpx.AsyncClient, writer: dict[str, str], reader: dict[str, str]
) -> None:
    resp = await api.post(
        "/v1/budget/amounts", json={**SUB_111, "phase": "corrected", "amount": "-1000.00"}, headers=writer
    )
    assert resp.status_code == 201, resp.text
    # -1000.00 / 1.23 = -813.008 -> -813.01 net, VAT -186.99
    assert (resp.json()["net"], resp.json()["vat"]) == ("-813.01", "-186.99")
    row = await _eixo1_2024(api, reader)
    assert (row["initial"], row["corrections"]) == ("35970268.00", "-1000.00")
    assert row["planned"] == str(35970268 - 1000) + ".00"
    # executed 1230.00 (first test) - planned 35.969.268 = variance
    assert row["variance"] == "-" + str(35970268 - 1000 - 1230) + ".00"


async def test_idempotency_key(api: httpx.AsyncClient, writer: dict[str, str], reader: dict[str, str]) -> None:
    headers = {**writer, "idempotency-key": "k-123"}
    body = {**SUB_111, "phase": "executed", "month": 4, "amount": "50.00"}
    first = await api.post("/v1/budget/amounts", json=body, headers=headers)
    n = await _count(api, reader)
    again = await api.post("/v1/budget/amounts", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert await _count(api, reader) == n
    other = await api.post("/v1/budget/amounts", json={**body, "amount": "51.00"}, headers=headers)
    assert other.status_code == 422
    assert other.json()["type"].endswith("/idempotency-key-reused")


async def test_update_needs_if_match(api: httpx.AsyncClient, writer: dict[str, str], auth: Auth) -> None:
    created = await api.post(
        "/v1/budget/amounts", json={**SUB_111, "phase": "executed", "month": 5, "amount": "246.00"}, headers=writer
    )
    url, etag = created.headers["location"], created.headers["etag"]
    assert (await api.get(url, headers={**writer, "if-none-match": etag})).status_code == 304
    resp = await api.patch(url, json={"amount": "369.00"}, headers=writer)
    assert resp.status_code == 428
    resp = await api.patch(url, json={"amount": "369.00"}, headers={**writer, "if-match": '"amount-0-v9"'})
    assert resp.status_code == 412
    resp = await api.patch(url, json={"amount": "369.00"}, headers={**writer, "if-match": etag})
    assert resp.status_code == 200, resp.text
    # 369.00 / 1.23 = 300.00 net, 69.00 VAT
    assert (resp.json()["net"], resp.json()["vat"], resp.json()["revision"]) == ("300.00", "69.00", 2)
    assert resp.headers["etag"] != etag
    # null on a field that cannot be empty leaves it unchanged; the vat_rate null means the default 23 %
    nulls = await api.patch(
        url, json={"year": None, "phase": None, "vat_rate": None}, headers={**writer, "if-match": resp.headers["etag"]}
    )
    assert nulls.status_code == 200, nulls.text
    assert (nulls.json()["year"], nulls.json()["phase"], nulls.json()["gross"]) == (2024, "executed", "369.00")
    # ... and since nothing changed, nothing is written: same revision, same ETag, no audit event
    assert nulls.json()["revision"] == 2
    assert nulls.headers["etag"] == resp.headers["etag"]
    resp = nulls
    # a bad change is refused and leaves the amount as it was
    bad = await api.patch(url, json={"amount": "-1.00"}, headers={**writer, "if-match": resp.headers["etag"]})
    assert bad.status_code == 422
    assert (await api.get(url, headers=writer)).json()["gross"] == "369.00"
    audit = await api.get(
        "/v1/audit",
        params={"entity_type": "amount", "entity_id": url.rsplit("/", 1)[-1]},
        headers=auth("auditor", sub="carol"),
    )
    actions = [e["action"] for e in audit.json()["items"]]
    assert actions == ["amount.update", "amount.create"]
    assert audit.json()["items"][0]["changes"]["gross"] == ["246.00", "369.00"]
    resp = await api.delete(url, headers={**writer, "if-match": resp.headers["etag"]})
    assert resp.status_code == 204
    assert (await api.get(url, headers=writer)).status_code == 404


async def test_seed_amounts_are_not_edited(api: httpx.AsyncClient, writer: dict[str, str]) -> None:
    page = await api.get(
        "/v1/budget/amounts", params={"origin": "seed", "subinvestment": "1.1.1", "year": 2021}, headers=writer
    )
    (seed_row,) = page.json()["items"]
    url = f"/v1/budget/amounts/{seed_row['id']}"
    etag = (await api.get(url, headers=writer)).headers["etag"]
    for resp in (
        await api.patch(url, json={"amount": "1.00"}, headers={**writer, "if-match": etag}),
        await api.delete(url, headers={**writer, "if-match": etag}),
    ):
        assert resp.status_code == 409
        assert resp.headers["content-type"].startswith("application/problem+json")
    assert (await api.get(url, headers=writer)).json()["gross"] == "0.00"  # 1.1.1 executed 0 in 2021, as printed


async def test_rubric_filter_rolls_up(api: httpx.AsyncClient, reader: dict[str, str]) -> None:
    resp = await api.get("/v1/budget/amounts", params={"rubric": "D.02.02.05", "limit": 500}, headers=reader)
    codes = sorted({i["rubric"] for i in resp.json()["items"]})
    assert codes == ["D.02.02.05.01", "D.02.02.05.02"]
    # D.02.02.05.02 lines: 2.177.100 + 2.788.656 + 401.762 + 4.565.625 ; D.02.02.05.01: 224.866
    total = sum(Decimal(i["gross"]) for i in resp.json()["items"])
    assert total == 2177100 + 2788656 + 401762 + 4565625 + 224866


async def test_reseed_is_idempotent_and_keeps_api_amounts(
    api: httpx.AsyncClient, db_url: str, reader: dict[str, str], reseed: Callable[[str], Awaitable[None]]
) -> None:
    before = await _count(api, reader)
    api_made = await api.get("/v1/budget/amounts", params={"origin": "api", "limit": 500}, headers=reader)
    await reseed(db_url)
    assert await _count(api, reader) == before
    again = await api.get("/v1/budget/amounts", params={"origin": "api", "limit": 500}, headers=reader)
    assert again.json()["items"] == api_made.json()["items"]
    assert len(again.json()["items"]) >= 5


RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


async def test_every_timestamp_is_rfc3339_with_an_offset(
    api: httpx.AsyncClient, writer: dict[str, str], reader: dict[str, str], auth: Auth
) -> None:
    # SQLite hands back naive datetimes; both backends must answer with an offset.
    created = await api.post(
        "/v1/budget/amounts", json={**SUB_111, "phase": "executed", "amount": "7.00"}, headers=writer
    )
    assert created.status_code == 201, created.text
    stamps = [created.json()["created_at"], created.json()["updated_at"]]
    page = (await api.get("/v1/budget/amounts", params={"limit": 3}, headers=reader)).json()["items"]
    stamps += [a["created_at"] for a in page] + [a["updated_at"] for a in page]
    published = (await api.get("/v1/budget/published-budgets", headers=reader)).json()["items"]
    stamps += [p["loaded_at"] for p in published]
    stamps.append((await api.get("/v1/budget/structure", headers=reader)).json()["published_budget"]["loaded_at"])
    audit = (await api.get("/v1/audit", headers=auth("auditor"))).json()["items"]
    stamps += [e["at"] for e in audit]
    assert len(stamps) > 8
    assert all(RFC3339.match(s) for s in stamps), stamps


async def _audits(api: httpx.AsyncClient, auth: Auth) -> int:
    return len((await api.get("/v1/audit", params={"limit": 500}, headers=auth("auditor"))).json()["items"])


async def test_patch_and_delete_replay_with_the_same_key_and_refuse_another_body(
    api: httpx.AsyncClient, writer: dict[str, str], reader: dict[str, str], auth: Auth
) -> None:
    created = await api.post(
        "/v1/budget/amounts", json={**SUB_111, "phase": "executed", "amount": "8.00"}, headers=writer
    )
    url, etag = created.headers["location"], created.headers["etag"]
    keyed = {**writer, "if-match": etag, "idempotency-key": "k-patch"}
    first = await api.patch(url, json={"amount": "9.00"}, headers=keyed)
    assert first.status_code == 200, first.text
    written = await _audits(api, auth)
    # a retry with the ETag read before the first attempt: the first answer again, nothing written twice
    again = await api.patch(url, json={"amount": "9.00"}, headers=keyed)
    assert (again.status_code, again.json(), again.headers["etag"]) == (200, first.json(), first.headers["etag"])
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["revision"] == 2
    assert await _audits(api, auth) == written
    other = await api.patch(url, json={"amount": "10.00"}, headers=keyed)
    assert other.status_code == 422
    assert other.json()["type"].endswith("/idempotency-key-reused")
    assert (await api.get(url, headers=reader)).json()["gross"] == "9.00"

    keyed = {**writer, "if-match": first.headers["etag"], "idempotency-key": "k-delete"}
    gone = await api.delete(url, headers=keyed)
    assert gone.status_code == 204
    written = await _audits(api, auth)
    replay = await api.delete(url, headers=keyed)
    assert (replay.status_code, replay.content, replay.headers["idempotent-replayed"]) == (204, b"", "true")
    assert await _audits(api, auth) == written
    elsewhere = await api.delete(url.rsplit("/", 1)[0] + "/1", headers=keyed)
    assert elsewhere.status_code == 422  # the same key on another resource


async def test_if_match_is_strong_and_never_star(api: httpx.AsyncClient, writer: dict[str, str]) -> None:
    created = await api.post(
        "/v1/budget/amounts", json={**SUB_111, "phase": "executed", "amount": "3.00"}, headers=writer
    )
    url, etag = created.headers["location"], created.headers["etag"]
    for header in ("W/" + etag, "*"):
        resp = await api.patch(url, json={"amount": "4.00"}, headers={**writer, "if-match": header})
        assert resp.status_code == 412, (header, resp.text)
    assert (await api.get(url, headers=writer)).json()["gross"] == "3.00"
