"""The planner's page of evidence requirements and expected values (value bounds) per item, and the registration
form's "Check" button (execution's `:check` dry run), in a real browser through the gateway; axe on every page.

The planner edits a copy of the Acordo seed plan (so no other test's certification meets a requirement set here);
the Check button is tried on the seed plan with bounds set for the test and removed after it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from console_support import PLAN, Stack, check_accessibility, grant_exception, screenshot, sign_in
from playwright.sync_api import expect
from scorecards_data import import_and_approve, plan_copy

pytestmark = pytest.mark.integration

COPY = "ipsm-2014-checks"
BOUNDS = f"/api/execution/v1/plans/{COPY}/value-bounds"
REQUIREMENTS = f"/api/execution/v1/plans/{COPY}/evidence-requirements"


@pytest.fixture(scope="module")
def plan_copy_ready(stack: Stack) -> Stack:
    with stack.api("planner") as planner:
        import_and_approve(planner, plan_copy("ipsm-2014-acordo", COPY))
    return stack


def in_language(open_page: Callable[..., Any], who: str, path: str, lang: str) -> Any:
    page = open_page()
    sign_in(page, who, path=path)
    page.context.add_cookies([{"name": "metas_lang", "value": lang, "url": page.stack_url}])
    page.reload()
    return page


def test_planner_sets_bounds_and_an_evidence_requirement(plan_copy_ready: Stack, open_page: Callable[..., Any]) -> None:
    stack = plan_copy_ready
    page = in_language(open_page, "planner", f"/plans/{COPY}/checks", "pt-PT")
    expect(page.get_by_role("heading", level=1)).to_have_text("Comprovação e valores esperados")
    expect(page.get_by_test_id("min-DS-I3")).to_have_text("—")
    expect(page.get_by_test_id("source-DS-I3")).to_have_text("—")
    check_accessibility(page)
    page.get_by_test_id("check-DS-I3").get_by_role("link").click()
    expect(page.get_by_test_id("item-code")).to_have_text("DS-I3")
    check_accessibility(page)

    # Crossed bounds: refused beside the maximum, the typed values kept, nothing stored.
    form = page.get_by_test_id("bounds-form")
    form.get_by_label("Mínimo").fill("1")
    form.get_by_label("Máximo").fill("0,5")
    form.get_by_role("button", name="Guardar os valores esperados").click()
    expect(page.locator("#max-error")).to_have_text("O máximo é inferior ao mínimo.")
    expect(page.locator("#max")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#max")).to_have_value("0,5")
    check_accessibility(page)
    screenshot(page, "item-checks-error")
    with stack.api("planner") as api:
        assert api.get(BOUNDS).json() == []

    # Right: 1 to 8,5 (a decimal comma, read as 8.5), saved and shown back in pt-PT.
    page.locator("#max").fill("8,5")
    page.get_by_test_id("bounds-form").get_by_role("button").click()
    expect(page.get_by_test_id("notice")).to_have_text("Os valores esperados foram guardados.")
    expect(page.locator("#min")).to_have_value("1")
    expect(page.locator("#max")).to_have_value("8,5")
    with stack.api("planner") as api:
        (stored,) = api.get(BOUNDS).json()
    assert (stored["item_code"], stored["min"], stored["max"]) == ("DS-I3", "1", "8.5")

    # Someone else changes the bounds after the page was read: the page's If-Match is stale, nothing is saved.
    with stack.api("planner") as api:
        moved = api.put(f"{BOUNDS}/DS-I3", json={"min": "2", "max": "8.5"}, headers={"if-match": stored["etag"]})
        assert moved.status_code == 200, moved.text
    page.locator("#min").fill("3")
    page.get_by_test_id("bounds-form").get_by_role("button").click()
    expect(page.get_by_test_id("problem")).to_contain_text("Outra pessoa alterou isto depois de o ter aberto")
    with stack.api("planner") as api:
        assert [(b["min"], b["max"]) for b in api.get(BOUNDS).json()] == [("2", "8.5")]
    check_accessibility(page)

    # The evidence requirement: set, listed, then removed by emptying it.
    page.goto(f"{stack.url}/plans/{COPY}/checks/DS-I3")
    evidence = page.get_by_test_id("evidence-form")
    evidence.get_by_label("Fonte de comprovação").fill("Relatório mensal do sistema")
    evidence.get_by_role("button", name="Guardar a exigência").click()
    expect(page.get_by_test_id("notice")).to_have_text("A exigência de comprovação foi guardada.")
    screenshot(page, "item-checks-saved")
    page.goto(f"{stack.url}/plans/{COPY}/checks")
    expect(page.get_by_test_id("source-DS-I3")).to_have_text("Relatório mensal do sistema")
    expect(page.get_by_test_id("min-DS-I3")).to_have_text("2")
    expect(page.get_by_test_id("max-DS-I3")).to_have_text("8,5")
    check_accessibility(page)
    screenshot(page, "item-checks-list")
    page.goto(f"{stack.url}/plans/{COPY}/checks/DS-I3")
    page.get_by_label("Fonte de comprovação").fill("")
    page.get_by_test_id("evidence-form").get_by_role("button").click()
    expect(page.get_by_test_id("notice")).to_have_text("Este item deixou de exigir comprovação.")
    with stack.api("planner") as api:
        assert api.get(REQUIREMENTS).json() == []


def test_the_pages_in_english_and_brazilian_portuguese(plan_copy_ready: Stack, open_page: Callable[..., Any]) -> None:
    page = in_language(open_page, "planner", f"/plans/{COPY}/checks/DS-I5", "en")
    expect(page.get_by_role("heading", level=2, name="Expected values")).to_be_visible()
    page.get_by_label("Minimum").fill("")
    page.get_by_label("Maximum").fill("")
    page.get_by_test_id("bounds-form").get_by_role("button", name="Save the expected values").click()
    expect(page.locator("#min-error")).to_have_text("Give a minimum, a maximum or both.")
    check_accessibility(page)
    page.context.add_cookies([{"name": "metas_lang", "value": "pt-BR", "url": page.stack_url}])
    page.goto(f"{page.stack_url}/plans/{COPY}/checks/DS-P01")  # a product: evidence only, no expected values
    expect(page.get_by_test_id("evidence-form")).to_be_visible()
    expect(page.get_by_test_id("bounds-form")).to_have_count(0)
    expect(page.get_by_role("button", name="Salvar a exigência")).to_be_visible()
    check_accessibility(page)


@pytest.fixture
def bounds_on_ds_i5(stack: Stack) -> Iterator[None]:
    """DS-I5 of the seed plan expects 45 to 100 during the test (removed after it)."""
    url = f"/api/execution/v1/plans/{PLAN}/value-bounds/DS-I5"
    with stack.api("planner") as api:
        assert api.put(url, json={"min": "45", "max": "100"}).status_code == 200
    try:
        yield
    finally:
        with stack.api("planner") as api:
            api.delete(url)


PERIOD = "2014-03"


def test_check_button_tells_the_justification_and_the_warnings_before_saving(
    stack: Stack, open_page: Callable[..., Any], bounds_on_ds_i5: None
) -> None:
    grant_exception(stack, PERIOD)
    registration = f"/api/execution/v1/plans/{PLAN}/registrations/DS-I5/{PERIOD}"
    with stack.api("certifier") as api:
        before = api.get(registration)
    page = open_page()
    sign_in(page, "registrar_ds_pt", path=f"/plans/{PLAN}/registrations/DS-I5/{PERIOD}")
    # DS-I5: higher is better, meta 50 → a value below 50 needs a justification; 40 is also below the bounds
    # 45 to 100 set for the test → a warning (never a refusal).
    page.get_by_label("Valor", exact=True).fill("40")
    page.get_by_test_id("check").click()
    answer = page.get_by_test_id("check-answer")
    expect(answer).to_contain_text("Verificado; nada foi guardado.")
    # the top line reports a check, not a failed save
    expect(page.get_by_test_id("problem")).to_contain_text("Verificado: gravar este valor assim seria recusado")
    expect(page.get_by_test_id("check-justification")).to_have_text(
        "Este valor exige uma justificação. Necessária quando o valor é inferior a 50 (aquém da meta)."
    )
    expect(answer.get_by_test_id("warnings")).to_have_text("Fora dos limites definidos para este item (45 a 100).")
    expect(page.get_by_label("Valor", exact=True)).to_have_value("40")  # what was typed is kept
    check_accessibility(page)
    screenshot(page, "registration-check")
    # 52,5 (decimal comma): above the meta and inside the bounds → neither.
    page.get_by_label("Valor", exact=True).fill("52,5")
    page.get_by_test_id("check").click()
    expect(page.get_by_test_id("check-justification")).to_have_text("Este valor não exige justificação.")
    expect(page.get_by_test_id("check-no-warnings")).to_have_text("Seria guardado sem nenhum aviso.")
    check_accessibility(page)
    with stack.api("certifier") as api:  # nothing saved by either check
        after = api.get(registration)
    assert (after.status_code, after.headers.get("etag")) == (before.status_code, before.headers.get("etag"))
