"""Browser tests of the budget pages (figures equal to the API's, the reconciliation, amount entry with its errors
beside the field, the execution document's download) and of the planner's plan import (dry run first), version
difference, approval with its conflict, and revision."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from console_support import Stack, check_accessibility, screenshot, sign_in
from playwright.sync_api import expect


def pt_money(text: str) -> Decimal:
    """'5.133.390,00 €' (pt-PT) → Decimal('5133390.00')."""
    return Decimal(re.sub(r"[^\d,-]", "", text).replace(",", "."))


def test_budget_pages_show_the_apis_figures_and_amount_entry(stack: Stack, open_page: Callable[..., Any]) -> None:
    page = open_page()  # the sign-in form in English; then the account's language, pt-PT
    sign_in(page, "budget", path="/budget")
    with stack.api("budget") as api:
        by_year = api.get("/api/budget/v1/budget/reports/planned-vs-executed", params={"group_by": "eixo,year"}).json()
        reconciliation = api.get("/api/budget/v1/budget/reconciliation").json()
    table = page.get_by_test_id("by-eixo-year")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(len(by_year["rows"]))
    for i, row in enumerate(by_year["rows"]):
        cells = [c.strip() for c in rows.nth(i).locator("th, td").all_text_contents()]  # in a closed <details>
        assert (cells[0], cells[1]) == (str(row["eixo"]), str(row["year"]))
        # planned, committed, executed, variance
        assert [pt_money(c) for c in cells[2:6]] == [
            Decimal(row[k]) for k in ("planned", "committed", "executed", "variance")
        ], cells
    # Eixo 2 in 2024: 1 283 441 + 3 134 690 + 715 259 = 5 133 390 planned (Tabela 19), drawn and printed on its bar
    expect(page.get_by_test_id("bars-eixo-2")).to_contain_text("5.133.390,00")
    expect(page.get_by_test_id("by-subinvestment")).to_contain_text("Soluções de Relacionamento")
    href = page.get_by_role("link", name=re.compile("PDF")).get_attribute("href")
    pdf = page.request.get(f"{stack.url}{href}")
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"
    check_accessibility(page)
    screenshot(page, "budget")

    page.goto(f"{stack.url}/budget/reconciliation")
    summary = page.get_by_test_id("reconciliation-summary")
    expect(summary).to_contain_text(f"{reconciliation['mismatch_count']} ")  # 23 on the seed
    mismatches = page.get_by_test_id("mismatches").locator("tbody tr")
    expect(mismatches).to_have_count(reconciliation["mismatch_count"] + reconciliation["informative_count"])
    # Tabela 19 eixo 1, 2021: printed 419 443, sub-investments 419 442 → +1, flagged in words, not colour only
    first = mismatches.filter(has_text="eixo=1/year=2021")
    expect(first).to_contain_text("419.443,00")
    expect(first.locator(".badge")).not_to_have_text("")
    check_accessibility(page)
    screenshot(page, "budget-reconciliation")

    page.goto(f"{stack.url}/budget/amounts")
    page.locator("#subinvestment").select_option("1.2.1")
    amount = page.locator("#amount")
    amount.fill("1 230,5")  # one decimal: converted exactly to 1230.5, which the API refuses
    page.get_by_test_id("amount-form").locator("button[type=submit]").click()
    expect(page.locator("#amount-error")).to_be_visible()
    expect(amount).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_test_id("understood")).to_contain_text("1230.5")
    check_accessibility(page)
    screenshot(page, "budget-amount-error")
    amount.fill("1 230,50")
    page.get_by_test_id("amount-form").locator("button[type=submit]").click()
    # 1 230,50 gross: net 1230.50 / 1.23 = 1000.406… → 1 000,41; VAT 230,09
    expect(page.get_by_test_id("notice")).to_contain_text("1.230,50")
    expect(page.get_by_test_id("notice")).to_contain_text("1.000,41")
    expect(page.get_by_test_id("entered")).to_contain_text("1.2.1")
    check_accessibility(page)


ORG = "bp-test"
PLAN_ID = "bp-test-2014-acordo"


def _own_plan(stack: Stack) -> dict[str, Any]:
    """The IPSM agreement under an organisation of its own, so that approving it touches no other test's plan."""
    with stack.api("admin") as api:
        doc: dict[str, Any] = api.get(
            "/api/planning/v1/plans/ipsm-2014-acordo/export", params={"format": "json"}
        ).json()
    doc = copy.deepcopy(doc)
    doc["organisation"]["code"] = ORG
    doc["plan"]["id"] = PLAN_ID
    return doc


def test_planner_imports_with_a_dry_run_compares_and_approves(
    stack: Stack, open_page: Callable[..., Any], tmp_path: Any
) -> None:
    doc = _own_plan(stack)
    with stack.api("admin") as api:
        created = api.post("/api/planning/v1/plans:import", json=doc)
        assert created.status_code == 201, created.text
        approved = api.post(
            f"/api/planning/v1/plans/{PLAN_ID}/versions/1:approve", headers={"if-match": created.headers["etag"]}
        )
        assert approved.status_code == 200, approved.text
    page = open_page()
    sign_in(page, "admin", path="/plans/import")

    # a file with an error: its path is shown, nothing can be applied
    bad = copy.deepcopy(doc)
    ds = [i for i in bad["indicators"] if i["unit_code"] == "DS"]
    ds[0]["weight"] = "99"
    bad_file = tmp_path / "bad.json"
    bad_file.write_text(json.dumps(bad))
    page.locator("#file").set_input_files(str(bad_file))
    page.get_by_role("button", name=re.compile("Check the file")).click()
    errors = page.get_by_test_id("errors")
    expect(errors).to_contain_text("weights_sum")
    unit = next(i for i, u in enumerate(doc["units"]) if u["code"] == "DS")
    expect(errors).to_contain_text(f"units[{unit}]")
    expect(page.get_by_role("button", name="Apply this import")).to_have_count(0)
    check_accessibility(page)
    screenshot(page, "plan-import-errors")

    # a good file: 5 points of weight moved between two DS indicators and DS-I2's meta raised; previewed, applied
    good = copy.deepcopy(doc)
    first, second = [i for i in good["indicators"] if i["unit_code"] == "DS" and Decimal(i["weight"]) >= 5][:2]
    first["weight"] = str(Decimal(first["weight"]) + 5)
    second["weight"] = str(Decimal(second["weight"]) - 5)
    ds_i2 = next(i for i in good["indicators"] if i["code"] == "DS-I2")
    ds_i2["meta"] = "54000"
    good_file = tmp_path / "good.json"
    good_file.write_text(json.dumps(good))
    page.locator("#file").set_input_files(str(good_file))
    page.get_by_role("button", name=re.compile("Check the file")).click()
    preview = page.get_by_test_id("preview")
    expect(preview).to_contain_text("new draft version")
    check_accessibility(page)
    screenshot(page, "plan-import-preview")
    with stack.api("admin") as api:  # the dry run wrote nothing
        assert len(api.get(f"/api/planning/v1/plans/{PLAN_ID}/versions").json()["items"]) == 1
    page.get_by_role("button", name="Apply this import").click()
    expect(page.get_by_test_id("notice")).to_contain_text("version 2")

    page.get_by_role("link", name="Differences from version 1").click()
    changed = page.get_by_test_id("changed-DS-I2")
    expect(changed).to_contain_text("meta")
    expect(changed).to_contain_text("54000")
    expect(page.get_by_test_id(f"changed-{first['code']}")).to_contain_text("weight")
    check_accessibility(page)
    screenshot(page, "plan-version-diff")

    # approve: the confirmation is required; a version changed meanwhile is a conflict told plainly
    page.goto(f"{stack.url}/plans/{PLAN_ID}/versions")
    row = page.get_by_test_id("version-2")
    row.get_by_role("button", name="Approve version 2").click()
    expect(page.locator("#confirm-2-error")).to_be_visible()
    with stack.api("admin") as api:
        etag = api.get(f"/api/planning/v1/plans/{PLAN_ID}/versions/2").headers["etag"]
        patched = api.patch(
            f"/api/planning/v1/plans/{PLAN_ID}/indicators/DS-I2?version=2",
            json={"description": "changed by someone else"},
            headers={"if-match": etag, "content-type": "application/merge-patch+json"},
        )
        assert patched.status_code == 200, patched.text
    row = page.get_by_test_id("version-2")
    row.get_by_role("checkbox").check()
    row.get_by_role("button", name="Approve version 2").click()
    expect(page.get_by_test_id("problem")).to_contain_text("changed after you opened")
    check_accessibility(page)
    page.get_by_test_id("reload").click()
    row = page.get_by_test_id("version-2")
    row.get_by_role("checkbox").check()
    row.get_by_role("button", name="Approve version 2").click()
    expect(page.get_by_test_id("notice")).to_contain_text("Version 2 approved")
    expect(page.get_by_test_id("version-1")).to_contain_text("Superseded")
    page.get_by_role("button", name=re.compile("Revise")).click()
    expect(page.get_by_test_id("notice")).to_contain_text("Draft version 3")
    check_accessibility(page)
    screenshot(page, "plan-versions")


def test_plan_import_applied_after_someone_else_changed_the_plan_applies_nothing(
    stack: Stack, open_page: Callable[..., Any], tmp_path: Any
) -> None:
    """Preview, then someone edits the plan, then apply: the preview's If-Match no longer matches (412), the
    person is told plainly to preview again, and neither their file nor anything else is applied."""
    plan_id = "bp-stale-2014-acordo"
    doc = _own_plan(stack)
    doc["organisation"]["code"] = "bp-stale"
    doc["plan"]["id"] = plan_id
    with stack.api("admin") as api:
        created = api.post("/api/planning/v1/plans:import", json=doc)
        assert created.status_code == 201, created.text
    page = open_page()
    sign_in(page, "admin", path="/plans/import")
    mine = copy.deepcopy(doc)
    next(i for i in mine["indicators"] if i["code"] == "DS-I2")["meta"] = "54000"
    mine_file = tmp_path / "mine.json"
    mine_file.write_text(json.dumps(mine))
    page.locator("#file").set_input_files(str(mine_file))
    page.get_by_role("button", name=re.compile("Check the file")).click()
    expect(page.get_by_test_id("preview")).to_be_visible()

    with stack.api("admin") as api:  # someone else changes the draft between the preview and the apply
        etag = api.get(f"/api/planning/v1/plans/{plan_id}/versions/1").headers["etag"]
        patched = api.patch(
            f"/api/planning/v1/plans/{plan_id}/indicators/DS-I2?version=1",
            json={"description": "changed by someone else"},
            headers={"if-match": etag, "content-type": "application/merge-patch+json"},
        )
        assert patched.status_code == 200, patched.text

    page.get_by_role("button", name="Apply this import").click()
    expect(page.get_by_test_id("problem")).to_contain_text(
        "The plan changed after your preview (someone imported or edited it), so nothing was applied. "
        "Preview the file again."
    )
    expect(page.get_by_role("button", name="Apply this import")).to_have_count(0)
    check_accessibility(page)
    screenshot(page, "plan-import-stale")
    with stack.api("admin") as api:  # nothing applied: one version, the other person's change kept, meta unchanged
        versions = api.get(f"/api/planning/v1/plans/{plan_id}/versions").json()["items"]
        assert [v["number"] for v in versions] == [1]
        tree = api.get(f"/api/planning/v1/plans/{plan_id}/tree").json()
    ds_i2 = next(i for i in tree["indicators"] if i["code"] == "DS-I2")
    assert ds_i2["description"] == "changed by someone else"
    assert Decimal(ds_i2["meta"]) == Decimal(next(i for i in doc["indicators"] if i["code"] == "DS-I2")["meta"])
