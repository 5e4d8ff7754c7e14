"""The monthly cycle's console pages in a real browser (issue 14): evidence uploaded with a value, refused files
told beside the file field, certified with its evidence and downloaded byte for byte; the certifier refused without
required evidence; warnings and "changed since certified" in the queue; a request to reopen a closed period asked,
granted and used; digests muted per plan. axe-core on every page."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

import pytest
from console_support import PLAN, Stack, check_accessibility, grant_exception, screenshot, sign_in
from playwright.sync_api import expect

pytestmark = pytest.mark.integration

# A PDF as execution recognises one (it starts with %PDF-), and a Windows program disguised by its name.
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n" + b"monthly report of DS, April 2014\n" * 40
PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200


def queue_row(page: Any, item: str, period: str) -> Any:
    return page.get_by_test_id("queue-row").and_(page.locator(f'[data-item="{item}"][data-period="{period}"]'))


def test_evidence_uploaded_certified_and_downloaded(stack: Stack, open_page: Callable[..., Any]) -> None:
    period, unproven = "2014-04", "2014-03"
    grant_exception(stack, period)
    grant_exception(stack, unproven)
    with stack.api("planner") as api:
        required = api.put(
            f"/api/execution/v1/plans/{PLAN}/evidence-requirements/DS-I5", json={"source": "Relatório mensal do SIGAS"}
        )
        assert required.status_code == 200, required.text
        bounds = api.put(f"/api/execution/v1/plans/{PLAN}/value-bounds/DS-I5", json={"min": "0", "max": "100"})
        assert bounds.status_code == 200, bounds.text
    with stack.api("registrar_ds") as api:
        # DS-I5: meta 50, higher is better, so 55 needs no justification.
        answer = api.put(
            f"/api/execution/v1/plans/{PLAN}/registrations/DS-I5/{unproven}",
            json={"payload": {"value": "55"}},
            headers={"if-none-match": "*"},
        )
        assert answer.status_code == 201, answer.text

    registrar = open_page()
    sign_in(registrar, "registrar_ds")
    url = f"{stack.url}/plans/{PLAN}/registrations/DS-I5/{period}"
    registrar.goto(url)
    expect(registrar.get_by_text("Required for certification: Relatório mensal do SIGAS")).to_be_visible()
    registrar.get_by_label("Value").first.fill("55")
    registrar.get_by_label("Evidence files").set_input_files(
        [
            {"name": "relatório abril.pdf", "mimeType": "application/pdf", "buffer": PDF},
            {"name": "report.pdf", "mimeType": "application/pdf", "buffer": PROGRAM},
        ]
    )
    registrar.get_by_role("button", name="Register", exact=True).click()
    # The value and the good file are stored; the disguised program is refused beside the file field.
    expect(registrar.get_by_test_id("notice")).to_have_text("Saved as version 1. 1 file added.")
    expect(registrar.locator("#files-error")).to_have_text(
        "report.pdf: programs and scripts are not accepted as evidence."
    )
    expect(registrar.get_by_label("Evidence files")).to_have_attribute("aria-invalid", "true")
    row = registrar.get_by_test_id("evidence-row")
    expect(row).to_have_count(1)
    # 48 + 40 × 33 = 1,368 bytes = 1.34 kB, shown to one decimal.
    assert len(PDF) == 1368
    expect(row).to_contain_text("relatório abril.pdf")
    expect(row).to_contain_text("1.3 kB")
    expect(row).to_contain_text("application/pdf")
    expect(row).to_contain_text("maria")
    digest = hashlib.sha256(PDF).hexdigest()
    sha = row.get_by_test_id("sha256")
    expect(sha).to_have_text(digest[:12] + "…")
    expect(sha).to_have_attribute("title", digest)
    check_accessibility(registrar)

    # Added afterwards: a file over execution's limit (1 MiB in these tests) and a type not accepted.
    registrar.get_by_label("Evidence files").set_input_files(
        [
            {"name": "scan.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n" + b"0" * (1024 * 1024)},
            {"name": "data.bin", "mimeType": "application/octet-stream", "buffer": b"\x00\x01\x02"},
        ]
    )
    registrar.get_by_role("button", name="Add the files").click()
    errors = registrar.locator("#files-error li")
    expect(errors).to_have_text(
        [
            "scan.pdf: too large; a file may have at most 1.0 MB.",
            re.compile(r"^data\.bin: this type of file is not accepted\. Send a PDF"),
        ]
    )
    expect(registrar.get_by_test_id("evidence-row")).to_have_count(1)
    check_accessibility(registrar)
    screenshot(registrar, "evidence-upload")

    certifier = open_page()
    sign_in(certifier, "certifier")
    # Without its required evidence, a certification is refused with the API's reason.
    certifier.goto(f"{stack.url}/certify?plan={PLAN}&unit=DS&period={unproven}")
    expect(queue_row(certifier, "DS-I5", unproven).get_by_test_id("queue-evidence")).to_contain_text(
        "Required, missing"
    )
    certifier.get_by_label(f"Choose DS-I5 {unproven}").check()
    certifier.get_by_role("button", name="Certify the chosen registrations").click()
    expect(certifier.get_by_test_id("results")).to_have_text(
        f"DS-I5 {unproven}: DS-I5 for {unproven} cannot be certified without evidence: the plan requires "
        "“Relatório mensal do SIGAS” and no file is attached."
    )

    certifier.goto(f"{stack.url}/certify?plan={PLAN}&unit=DS&period={period}")
    files = queue_row(certifier, "DS-I5", period).get_by_test_id("queue-evidence")
    expect(files.get_by_role("link", name="relatório abril.pdf")).to_be_visible()
    check_accessibility(certifier)
    certifier.get_by_label(f"Choose DS-I5 {period}").check()
    certifier.get_by_role("button", name="Certify the chosen registrations").click()
    expect(certifier.get_by_test_id("results")).to_have_text(f"DS-I5 {period}: Certified.")

    certifier.goto(url)
    expect(certifier.get_by_test_id("certification")).to_have_text("Certified")
    link = certifier.get_by_test_id("evidence-row").get_by_role("link", name="relatório abril.pdf")
    with certifier.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "relatório abril.pdf"
    assert hashlib.sha256(open(download.value.path(), "rb").read()).hexdigest() == digest
    served = certifier.request.get(stack.url + str(link.get_attribute("href")))
    assert served.status == 200
    assert served.headers["content-type"] == "application/pdf"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.body() == PDF

    # The registrar changes the certified value (no reject needed), to a value outside the planner's bounds: it goes
    # back for certification, flagged and warned in the queue.
    registrar.goto(url)
    expect(registrar.get_by_test_id("certification")).to_have_text("Certified")
    # The certified version's file shows no remove button (it is never deleted).
    certified_row = registrar.get_by_test_id("evidence-row")
    expect(certified_row.get_by_test_id("evidence-certified")).to_have_text("Certified")
    expect(registrar.get_by_test_id("remove-evidence")).to_have_count(0)
    expect(registrar.get_by_test_id("certified-note")).to_have_text(
        "This value is certified; saving a new value sends it back for certification."
    )
    check_accessibility(registrar)
    screenshot(registrar, "certified-value-form")
    registrar.get_by_label("Value").first.fill("120")
    registrar.get_by_label("Why the change (kept in the history)").fill("Corrected from the April report")
    registrar.get_by_role("button", name="Save the new value").click()
    expect(registrar.get_by_test_id("notice")).to_have_text("Saved as version 3.")
    expect(registrar.get_by_test_id("certification")).to_have_text("Awaiting certification")
    expect(registrar.get_by_test_id("certified-note")).to_have_count(0)
    expect(registrar.get_by_test_id("changed-since-certified")).to_have_text("Changed since certified (version 2)")
    # The new version may add files, and remove its own; the certified one's stays without a button.
    registrar.get_by_label("Evidence files").set_input_files(
        [{"name": "april-corrected.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    registrar.get_by_role("button", name="Add the files").click()
    expect(registrar.get_by_test_id("notice")).to_have_text("1 file added.")
    added = registrar.get_by_test_id("evidence-row").and_(registrar.locator('[data-name="april-corrected.pdf"]'))
    expect(added).to_contain_text("version 3")
    expect(registrar.get_by_test_id("remove-evidence")).to_have_count(1)
    check_accessibility(registrar)
    screenshot(registrar, "evidence-remove")
    added.get_by_role("button", name="Remove april-corrected.pdf").click()
    expect(registrar.get_by_test_id("notice")).to_have_text("The file was removed.")
    expect(registrar.get_by_test_id("evidence-row")).to_have_count(1)
    expect(registrar.get_by_test_id("evidence-row")).to_contain_text("relatório abril.pdf")
    certifier.goto(f"{stack.url}/certify?plan={PLAN}&unit=DS&period={period}")
    changed = queue_row(certifier, "DS-I5", period)
    # Versions: 1 submitted, 2 certified, 3 the new value.
    expect(changed.get_by_test_id("changed-since-certified")).to_have_text("Changed since certified (version 2)")
    expect(changed.get_by_test_id("warnings")).to_have_text("Outside the bounds set for this item (0 to 100).")
    check_accessibility(certifier)
    screenshot(certifier, "certifier-queue-evidence")


def test_a_closed_period_is_reopened_on_request(stack: Stack, open_page: Callable[..., Any]) -> None:
    period = "2014-02"  # closed since January 2015, and no exception for DP
    registrar = open_page()
    sign_in(registrar, "registrar_dp")
    url = f"{stack.url}/plans/{PLAN}/registrations/DP-I6/{period}"
    registrar.goto(url)
    closed = registrar.get_by_test_id("closed-period")
    expect(closed).to_contain_text("This period is closed")
    closed.get_by_role("button", name="Ask to reopen").click()
    expect(registrar.get_by_label("Why you need it reopened")).to_have_attribute("aria-invalid", "true")
    expect(registrar.locator("#unlock_reason-error")).to_have_text("This field is required.")
    check_accessibility(registrar)
    registrar.get_by_label("Why you need it reopened").fill("The February figures arrived late from the DP team")
    registrar.get_by_role("button", name="Ask to reopen").click()
    expect(registrar.get_by_test_id("notice")).to_have_text(
        "Your request to reopen the period was sent to the planners."
    )
    expect(registrar.get_by_test_id("my-unlock-requests")).to_have_text("DP-I6 — Waiting for a planner")
    expect(registrar.get_by_role("button", name="Ask to reopen")).to_have_count(0)

    planner = open_page()
    sign_in(planner, "planner")
    planner.goto(f"{stack.url}/unlock-requests")
    planner.get_by_label("Organisation").select_option("ipsm")
    planner.get_by_role("button", name="Switch").click()
    scope = planner.locator(f'[data-item="DP-I6"][data-period="{period}"]')
    request = planner.get_by_test_id("unlock-request").and_(scope)
    expect(request).to_contain_text("The February figures arrived late from the DP team")
    expect(request).to_contain_text("Asked by rui")
    # Refusing needs a reason, said beside that request's field; nothing is decided.
    request.get_by_role("button", name=re.compile("^Refuse")).click()
    expect(request.get_by_label("Reason for refusing")).to_have_attribute("aria-invalid", "true")
    check_accessibility(planner)
    request.get_by_role("button", name=re.compile("^Grant")).click()
    expect(planner.get_by_test_id("notice")).to_have_text("Request granted: the period is reopened for it.")
    expect(planner).to_have_url(re.compile(r"/unlock-requests\?done=granted$"))
    expect(planner.get_by_test_id("decided-request").filter(has_text="DP-I6")).to_contain_text("Granted")
    check_accessibility(planner)
    screenshot(planner, "unlock-requests")

    registrar.goto(url)
    expect(registrar.get_by_test_id("closed-period")).to_have_count(0)
    registrar.get_by_label("Value").first.fill("95")  # meta 93, higher is better: no justification
    registrar.get_by_role("button", name="Register", exact=True).click()
    expect(registrar.get_by_test_id("notice")).to_have_text("Saved as version 1.")
    registrar.goto(f"{stack.url}/unlock-requests")
    expect(registrar.get_by_test_id("decided-request").filter(has_text="DP-I6")).to_contain_text("Granted")
    check_accessibility(registrar)


def test_digests_are_muted_per_plan(stack: Stack, open_page: Callable[..., Any]) -> None:
    page = open_page()
    sign_in(page, "registrar_ds_pt")
    page.goto(f"{stack.url}/reminders")
    expect(page.get_by_role("heading", level=1)).to_have_text("Os meus lembretes")
    row = page.get_by_test_id("reminder-row").and_(page.locator(f'[data-plan="{PLAN}"]'))
    expect(row).to_contain_text("Recebidos")
    check_accessibility(page)
    row.get_by_role("button", name=re.compile("^Silenciar")).click()
    expect(page.get_by_test_id("notice")).to_have_text("Deixará de receber os resumos deste plano.")
    expect(row).to_contain_text("Silenciado desde")
    with stack.api("registrar_ds_pt") as api:
        assert [m["plan_id"] for m in api.get("/api/execution/v1/reminder-mutes").json()] == [PLAN]
    screenshot(page, "reminders")
    row.get_by_role("button", name=re.compile("^Receber de novo")).click()
    expect(page.get_by_test_id("notice")).to_have_text("Voltará a receber os resumos deste plano.")
    expect(row).to_contain_text("Recebidos")
    with stack.api("registrar_ds_pt") as api:
        assert api.get("/api/execution/v1/reminder-mutes").json() == []
