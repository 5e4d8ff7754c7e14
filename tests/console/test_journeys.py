"""Journeys through the real processes in a real browser: the registrar's month and the certifier's queue in
three languages, another unit's registrar refused, two people editing one registration, plan text shown as
text — with axe-core on every page and screenshots of the main ones."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from console_support import PLAN, Stack, check_accessibility, grant_exception, screenshot, sign_in
from playwright.sync_api import expect

pytestmark = pytest.mark.integration

# What each language shows (the catalogs' words), and a period of its own so the three journeys never meet.
LANGUAGES: dict[str, dict[str, str]] = {
    "en": {
        "who": "registrar_ds",
        "period": "2014-11",
        "typed": "52000",
        "home": "To register",
        "value": "Value",
        "note": "Note",
        "register": "Register",
        "saved": "Saved as version 1.",
        "waiting": "Awaiting certification",
        "certified": "Certified",
        "number": "52,000",
        "justification": "Justification",
        "asked": "Below 53,000, short of the target: say why in the justification.",
    },
    "pt-PT": {
        "who": "registrar_ds_pt",
        "period": "2014-10",
        "typed": "52.000",
        "home": "A registar",
        "value": "Valor",
        "note": "Nota",
        "register": "Registar",
        "saved": "Guardado como versão 1.",
        "waiting": "A aguardar certificação",
        "certified": "Certificado",
        "number": "52.000",
        "justification": "Justificação",
        "asked": "Abaixo de 53.000, aquém do objetivo: diga porquê na justificação.",
    },
    "pt-BR": {
        "who": "registrar_ds_br",
        "period": "2014-09",
        "typed": "52000",
        "home": "A registrar",
        "value": "Valor",
        "note": "Observação",
        "register": "Registrar",
        "saved": "Salvo como versão 1.",
        "waiting": "Aguardando certificação",
        "certified": "Certificado",
        "number": "52.000",
        "justification": "Justificativa",
        "asked": "Abaixo de 53.000, aquém da meta: diga por quê na justificativa.",
    },
}


def owed_row(page: Any, item: str, period: str) -> Any:
    return page.get_by_test_id("owed-row").and_(page.locator(f'[data-item="{item}"][data-period="{period}"]'))


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_registrar_registers_and_certifier_certifies(stack: Stack, open_page: Callable[..., Any], lang: str) -> None:
    words = LANGUAGES[lang]
    period = words["period"]
    grant_exception(stack, period)
    # The browser asks for English; after sign-in the account's own language wins.
    registrar = open_page()
    home = stack.url
    sign_in(registrar, words["who"])
    registrar.goto(f"{home}/?plan={PLAN}&period={period}")
    expect(registrar.get_by_role("heading", level=1)).to_have_text(words["home"])
    row = owed_row(registrar, "DS-I2", period)
    expect(row).to_be_visible()
    # One organisation in the grants: no switcher.
    expect(registrar.get_by_label("Organisation")).to_have_count(0)
    check_accessibility(registrar)

    row.get_by_role("link", name="DS-I2").click()
    expect(registrar.get_by_test_id("item-code")).to_have_text("DS-I2")
    # Typed as the person's language writes numbers (52.000 in Portuguese is fifty-two thousand).
    registrar.get_by_label(words["value"], exact=False).first.fill(words["typed"])
    registrar.get_by_label(words["note"], exact=True).fill("Contas processadas em novembro (SIGAS).")
    registrar.get_by_role("button", name=words["register"], exact=True).click()
    # 52,000 is short of DS-I2's meta (53,000, higher is better): the API wants a justification, asked beside
    # its field, with what was typed kept.
    justification = registrar.get_by_label(words["justification"], exact=True)
    expect(justification).to_have_attribute("aria-invalid", "true")
    expect(registrar.locator("#justification-error")).to_have_text(words["asked"])
    expect(registrar.get_by_label(words["note"], exact=True)).to_have_value("Contas processadas em novembro (SIGAS).")
    check_accessibility(registrar)
    justification.fill("Two processes moved to December.")
    registrar.get_by_role("button", name=words["register"], exact=True).click()

    expect(registrar.get_by_test_id("notice")).to_have_text(words["saved"])
    expect(registrar.get_by_test_id("justification")).to_have_text("Two processes moved to December.")
    expect(registrar.get_by_test_id("certification")).to_have_text(words["waiting"])
    expect(registrar.get_by_test_id("history")).to_contain_text(words["number"])
    expect(registrar.get_by_test_id("history")).to_contain_text("Contas processadas em novembro (SIGAS).")
    check_accessibility(registrar)
    if lang == "en":
        screenshot(registrar, "registration-form")

    with stack.api("certifier") as api:
        stored = api.get(f"/api/execution/v1/plans/{PLAN}/registrations/DS-I2/{period}").json()
    assert stored["payload"]["value"] == "52000"

    certifier = open_page()
    sign_in(certifier, "certifier")
    certifier.goto(f"{stack.url}/certify?plan={PLAN}&unit=DS&period={period}")
    queue_row = certifier.get_by_test_id("queue-row").and_(
        certifier.locator(f'[data-item="DS-I2"][data-period="{period}"]')
    )
    expect(queue_row).to_contain_text("52,000")
    expect(queue_row.get_by_test_id("queue-justification")).to_have_text(
        "Justification: Two processes moved to December."
    )
    check_accessibility(certifier)
    if lang == "en":
        screenshot(certifier, "certifier-queue")
    certifier.get_by_label(f"Choose DS-I2 {period}").check()
    certifier.get_by_role("button", name="Certify the chosen registrations").click()
    expect(certifier.get_by_test_id("results")).to_have_text(f"DS-I2 {period}: Certified.")
    expect(queue_row).to_have_count(0)

    registrar.goto(f"{home}/?plan={PLAN}&period={period}")
    expect(owed_row(registrar, "DS-I2", period)).to_contain_text(words["certified"])
    expect(owed_row(registrar, "DS-I2", period)).to_contain_text(words["number"])
    if lang == "en":
        screenshot(registrar, "home")


def test_registrar_of_another_unit_neither_sees_nor_posts_ds_items(stack: Stack, open_page: Callable[..., Any]) -> None:
    period = "2014-08"
    grant_exception(stack, period, unit="DS")
    other = open_page()
    console = stack.url
    sign_in(other, "registrar_dp")
    other.goto(f"{console}/?plan={PLAN}&period={period}")
    expect(other.get_by_role("heading", level=1)).to_have_text("To register")
    expect(other.get_by_test_id("owed-row").first).to_be_visible()
    expect(other.locator('[data-testid="owed-row"][data-item^="DS-"]')).to_have_count(0)
    expect(other.locator('[data-testid="owed-row"][data-item^="DP-"]').first).to_be_visible()

    other.goto(f"{console}/plans/{PLAN}/registrations/DS-I2/{period}")
    expect(other.get_by_role("heading", level=1)).to_have_text("Not allowed")
    expect(other.get_by_role("alert")).to_contain_text("You are not allowed to do this.")
    expect(other.get_by_text("You do not register for unit DS.")).to_be_visible()
    # The refusal keeps the signed-in layout: the menu, the language switch and sign-out.
    menu = other.get_by_role("navigation", name="Main")
    expect(menu.get_by_role("link", name="To register")).to_be_visible()
    expect(menu.get_by_role("link", name="Plans")).to_be_visible()
    expect(other.get_by_label("Language")).to_be_visible()
    expect(other.get_by_role("button", name="Sign out")).to_be_visible()
    check_accessibility(other)
    screenshot(other, "error-403")

    answer = other.goto(f"{console}/no-such-page")
    assert answer is not None
    assert answer.status == 404
    expect(other.get_by_role("heading", level=1)).to_have_text("Not found")
    expect(other.get_by_role("navigation", name="Main").get_by_role("link", name="To register")).to_be_visible()
    expect(other.get_by_test_id("who")).to_have_text("Rui")
    check_accessibility(other)

    # A crafted post with this browser's own form token: the API refuses it and the page says so.
    other.goto(f"{console}/")
    token = other.locator('input[name="csrf_token"]').first.get_attribute("value")
    answer = other.request.post(
        f"{console}/plans/{PLAN}/registrations/DS-I2/{period}", form={"csrf_token": token, "value": "1"}
    )
    assert answer.status == 403
    assert "You are not allowed to do this." in answer.text()
    with stack.api("certifier") as api:
        assert api.get(f"/api/execution/v1/plans/{PLAN}/registrations/DS-I2/{period}").status_code == 404


def test_a_form_without_its_token_is_refused(stack: Stack, open_page: Callable[..., Any]) -> None:
    page = open_page()
    console = stack.url
    sign_in(page, "registrar_ds")
    answer = page.request.post(f"{console}/plans/{PLAN}/registrations/DS-I2/2014-07", form={"value": "1"})
    assert answer.status == 403
    assert "This form had expired" in answer.text()


def test_two_people_editing_one_registration(stack: Stack, open_page: Callable[..., Any]) -> None:
    period = "2014-07"
    grant_exception(stack, period)
    console = stack.url
    first, second = open_page(), open_page()
    sign_in(first, "registrar_ds")
    sign_in(second, "registrar_ds")
    url = f"{console}/plans/{PLAN}/registrations/DS-I2/{period}"
    for page in (first, second):
        page.goto(url)
        expect(page.get_by_test_id("item-code")).to_have_text("DS-I2")
    first.get_by_label("Value").first.fill("54000")
    first.get_by_role("button", name="Register", exact=True).click()
    expect(first.get_by_test_id("notice")).to_have_text("Saved as version 1.")

    second.get_by_label("Value").first.fill("55000")
    second.get_by_role("button", name="Register", exact=True).click()
    problem = second.get_by_test_id("problem")
    expect(problem).to_contain_text("Someone else changed this since you opened it")
    # The value typed is still there, and the page offers the current version.
    expect(second.get_by_label("Value").first).to_have_value("55000")
    check_accessibility(second)
    second.get_by_test_id("reload").click()
    expect(second.get_by_test_id("history")).to_contain_text("54,000")
    expect(second.get_by_test_id("history")).not_to_contain_text("55,000")


def test_bad_value_is_told_next_to_its_field(stack: Stack, open_page: Callable[..., Any]) -> None:
    period = "2014-06"
    grant_exception(stack, period)
    page = open_page()
    sign_in(page, "registrar_ds_pt")
    page.goto(f"{stack.url}/plans/{PLAN}/registrations/DS-I2/{period}")
    page.get_by_label("Valor").first.fill("12,5abc")
    page.get_by_role("button", name="Registar", exact=True).click()
    expect(page.get_by_test_id("problem")).to_contain_text("Alguns valores têm de ser corrigidos")
    value = page.get_by_label("Valor").first
    expect(value).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#value-error")).to_have_text("Isto não é um número.")
    check_accessibility(page)


def test_plan_text_is_shown_as_text(stack: Stack, open_page: Callable[..., Any]) -> None:
    """An item named with markup appears as those characters; nothing of it runs."""
    hostile = '<script>alert("x")</script><b>Recebimento</b>'
    with stack.api("planner") as api:
        revised = api.post(f"/api/planning/v1/plans/{PLAN}/versions/1:revise")
        assert revised.status_code == 201, revised.text
        number = revised.json()["number"]
        etag = api.get(f"/api/planning/v1/plans/{PLAN}/versions/{number}").headers["etag"]
        patched = api.patch(
            f"/api/planning/v1/plans/{PLAN}/indicators/DS-I1?version={number}",
            json={"name": hostile},
            headers={"if-match": etag, "content-type": "application/merge-patch+json"},
        )
        assert patched.status_code == 200, patched.text
        approved = api.post(
            f"/api/planning/v1/plans/{PLAN}/versions/{number}:approve", headers={"if-match": patched.headers["etag"]}
        )
        assert approved.status_code == 200, approved.text
    page = open_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in(page, "registrar_ds")
    page.goto(f"{stack.url}/?plan={PLAN}&period=2014-01")
    row = owed_row(page, "DS-I1", "2014-01")
    expect(row).to_contain_text(hostile)
    expect(row.locator("b")).to_have_count(0)
    page.goto(f"{stack.url}/plans/{PLAN}/registrations/DS-I1/2014-01")
    expect(page.locator(".item-title")).to_have_text(hostile)
    assert dialogs == []
    assert re.search(r"&lt;script&gt;alert", page.content())


def test_bulk_entry_is_all_or_nothing_with_bad_rows_in_place(stack: Stack, open_page: Callable[..., Any]) -> None:
    period = "2014-05"
    grant_exception(stack, period)
    page = open_page()
    sign_in(page, "registrar_ds")
    page.goto(f"{stack.url}/plans/{PLAN}/bulk?unit=DS&period={period}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bulk entry")
    check_accessibility(page)
    page.get_by_label("New value of DS-I2").fill("41000")
    page.get_by_label("New value of DS-I1").fill("abc")
    page.get_by_label("New value of DS-I3").fill("1.2.3")
    page.get_by_role("button", name="Send all").click()

    expect(page.get_by_test_id("problem")).to_contain_text("Some values need fixing; nothing was saved.")
    bad = page.locator('[data-testid="bulk-row"].bad-row')
    # DS-I2's 41,000 is short of its meta (53,000, higher is better): a justification is asked for in its row.
    expect(bad).to_have_count(3)
    expect(page.locator('[data-testid="bulk-row"][data-item="DS-I2"] [data-testid="row-error"]')).to_have_text(
        "This value deviates from the target: say why in the justification."
    )
    expect(page.locator('[data-testid="bulk-row"][data-item="DS-I1"] [data-testid="row-error"]')).to_have_text(
        "This is not a number."
    )
    expect(page.locator('[data-testid="bulk-row"][data-item="DS-I3"] [data-testid="row-error"]')).to_be_visible()
    # What was typed stays, and the good row was not written either.
    expect(page.get_by_label("New value of DS-I2")).to_have_value("41000")
    check_accessibility(page)
    screenshot(page, "bulk-entry-errors")
    with stack.api("certifier") as api:
        assert api.get(f"/api/execution/v1/plans/{PLAN}/registrations/DS-I2/{period}").status_code == 404

    page.get_by_label("New value of DS-I1").fill("")
    page.get_by_label("New value of DS-I3").fill("")
    page.get_by_label("Justification of DS-I2").fill("A strike in May.")
    page.get_by_role("button", name="Send all").click()
    expect(page.get_by_test_id("notice")).to_have_text("1 registration imported.")
    expect(page.locator('[data-testid="bulk-row"][data-item="DS-I2"]')).to_contain_text("41,000")


def test_planner_reads_the_tree_and_grants_then_revokes_an_exception(
    stack: Stack, open_page: Callable[..., Any]
) -> None:
    page = open_page()
    console = stack.url
    sign_in(page, "planner")
    page.goto(f"{console}/plans")
    expect(page.get_by_role("heading", level=1)).to_have_text("Plans")
    # Grants in two organisations: one at a time, with a switcher (issue 16).
    expect(page.get_by_role("link", name="QUAR 2024 – Instituto de Informática, I.P.", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("IPSM"))).to_have_count(0)
    page.get_by_label("Organisation").select_option("ipsm")
    page.get_by_role("button", name="Switch").click()
    expect(page.get_by_role("link", name=re.compile("QUAR 2024"))).to_have_count(0)
    check_accessibility(page)
    screenshot(page, "plans")
    page.get_by_role("link", name="Acordo de Resultados – 2ª etapa – 2014 – IPSM", exact=True).click()
    expect(page.get_by_role("heading", level=2, name=re.compile(r"^DS — "))).to_be_visible()
    # DS-I2's meta as the plan writes it (53000), grouped per locale; its weight in the team.
    ds_i2 = page.get_by_role("row", name=re.compile(r"^DS-I2 "))
    expect(ds_i2).to_contain_text("53,000")
    expect(ds_i2).to_contain_text("10 %")
    check_accessibility(page)
    screenshot(page, "plan-tree")

    page.goto(f"{console}/plans/{PLAN}/locks")
    # 2014's write window closed on the last business day of January 2015 (closing_month 1).
    expect(page.get_by_test_id("locks").get_by_role("row", name=re.compile("^November 2014"))).to_contain_text(
        "Closed since Jan 30, 2015"
    )
    form = page.get_by_test_id("grant-form")
    form.get_by_label("Period").select_option("2014-04")
    form.get_by_label("Unit (empty: every unit)").select_option("DP")
    # Exceptions last at most a month from now (execution's bound); 18:00 in São Paulo, which keeps no summer time.
    day = (datetime.now(UTC) + timedelta(days=20)).date()
    form.get_by_label("Until (plan's local time)").fill(f"{day.isoformat()}T18:00")
    form.get_by_label("Reason").fill("Late onboarding of the DP team")
    form.get_by_role("button", name="Grant").click()
    expect(page.get_by_test_id("notice")).to_have_text("Exception granted for 2014-04.")
    # POST-redirect-GET: the notice comes from the redirect's query, and reloading sends nothing again.
    expect(page).to_have_url(re.compile(rf"/plans/{PLAN}/locks\?done=granted&period=2014-04$"))
    page.reload()
    expect(page.get_by_test_id("notice")).to_have_text("Exception granted for 2014-04.")
    row = page.get_by_test_id("exceptions").get_by_role("row").filter(has_text="Late onboarding of the DP team")
    # 18:00 in São Paulo (the plan's time zone) is 21:00 UTC; shown back in the plan's time.
    expect(row).to_contain_text(f"{day.strftime('%b')} {day.day}, {day.year}, 6:00:00")
    check_accessibility(page)
    screenshot(page, "locks")
    with stack.api("planner") as api:
        stored = api.get(f"/api/execution/v1/plans/{PLAN}/locks/2014-04/exceptions").json()
    mine = [e for e in stored if e["reason"] == "Late onboarding of the DP team"]
    assert [(e["unit_code"], e["until"][:19]) for e in mine] == [("DP", f"{day.isoformat()}T21:00:00")]

    row.get_by_role("button", name=re.compile("^Revoke")).click()
    expect(page.get_by_test_id("notice")).to_have_text("Exception revoked.")
    expect(page).to_have_url(re.compile(r"\?done=revoked&period=2014-04$"))
    expect(row).to_contain_text("Revoked")

    # An error is still shown beside its field, on the page as posted (nothing to reload there).
    form.get_by_label("Period").select_option("2014-04")
    form.get_by_label("Until (plan's local time)").fill(f"{(day + timedelta(days=400)).isoformat()}T18:00")
    form.get_by_label("Reason").fill("Far too long")
    form.get_by_role("button", name="Grant").click()
    expect(form.get_by_label("Until (plan's local time)")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#until-error")).to_be_visible()
    expect(page.get_by_test_id("notice")).to_have_count(0)
    check_accessibility(page)
    with stack.api("planner") as api:
        stored = api.get(f"/api/execution/v1/plans/{PLAN}/locks/2014-04/exceptions").json()
    assert [e["reason"] for e in stored if e["reason"] in ("Late onboarding of the DP team", "Far too long")] == [
        "Late onboarding of the DP team"
    ]


def test_rejection_reason_reaches_the_registrars_home(stack: Stack, open_page: Callable[..., Any]) -> None:
    period = "2014-03"
    grant_exception(stack, period)
    with stack.api("registrar_ds") as api:
        stored = api.put(
            f"/api/execution/v1/plans/{PLAN}/registrations/DS-I4/{period}",
            # 31 is short of DS-I4's meta (25, lower is better): it needs a justification.
            json={"payload": {"value": "31"}, "reason": "monthly registration", "justification": "Sick leave."},
            headers={"if-none-match": "*"},
        )
    assert stored.status_code == 201, stored.text
    certifier = open_page()
    sign_in(certifier, "certifier")
    certifier.goto(f"{stack.url}/certify?plan={PLAN}&unit=DS&period={period}")
    row = certifier.get_by_test_id("queue-row").and_(certifier.locator(f'[data-item="DS-I4"][data-period="{period}"]'))
    row.get_by_label(f"Reason for rejecting DS-I4 {period}").fill("The March report says 29, not 31.")
    row.get_by_role("button", name="Reject").click()
    expect(certifier.get_by_test_id("results")).to_have_text(f"DS-I4 {period}: Rejected.")

    registrar = open_page()
    sign_in(registrar, "registrar_ds_pt")
    registrar.goto(f"{stack.url}/?plan={PLAN}&period={period}")
    mine = owed_row(registrar, "DS-I4", period)
    expect(mine).to_contain_text("Rejeitado")
    expect(mine.get_by_test_id("rejection-reason")).to_have_text("Motivo: The March report says 29, not 31.")
    check_accessibility(registrar)


def test_a_closed_period_is_explained(stack: Stack, open_page: Callable[..., Any]) -> None:
    page = open_page()
    sign_in(page, "registrar_ds_br")
    page.goto(f"{stack.url}/plans/{PLAN}/registrations/DS-I2/2014-02")
    page.get_by_label("Valor").first.fill("50000")
    page.get_by_role("button", name="Registrar", exact=True).click()
    expect(page.get_by_test_id("problem")).to_contain_text(
        "O período 2014-02 está encerrado: o prazo de registro terminou. Um planejador pode conceder uma exceção."
    )
    expect(page.get_by_test_id("reload")).to_have_text("Recarregar para ver a versão atual")
    check_accessibility(page)


def test_product_delivery_is_registered_with_its_evidence(stack: Stack, open_page: Callable[..., Any]) -> None:
    period = "2014-12"
    grant_exception(stack, period)
    page = open_page()
    sign_in(page, "registrar_ds")
    page.goto(f"{stack.url}/plans/{PLAN}/registrations/DS-P01/{period}")
    expect(page.get_by_test_id("item-code")).to_have_text("DS-P01")
    page.get_by_label("Delivery").select_option("full")
    page.get_by_role("button", name="Register", exact=True).click()
    # A full delivery without its date and evidence: told next to those fields.
    expect(page.locator("#delivered_on-error")).to_have_text("A partial or full delivery needs its delivery date.")
    page.get_by_label("Delivered on").fill("2014-11-28")
    page.get_by_label("Evidence (one reference per line)").fill("SEI 1234/2014\nDOE-MG 2014-11-29")
    page.get_by_role("button", name="Register", exact=True).click()
    expect(page.get_by_test_id("notice")).to_have_text("Saved as version 1.")
    expect(page.get_by_test_id("history")).to_contain_text("Delivered · Nov 28, 2014")
    with stack.api("certifier") as api:
        stored = api.get(f"/api/execution/v1/plans/{PLAN}/registrations/DS-P01/{period}").json()
    assert stored["payload"]["completeness"] == "full"
    assert stored["payload"]["delivered_on"] == "2014-11-28"
    assert stored["payload"]["evidence"] == ["SEI 1234/2014", "DOE-MG 2014-11-29"]
