"""Evidence files larger than the gateway's 8 MiB body cap, through the console's own forms, in a real browser over
real processes with the default limits (execution and gateway: 20 MiB a file; every other route 8 MiB): a 15 MiB
PDF is stored with its value and served back byte for byte; a 21 MiB PDF is refused with a message beside the file
field in the person's language (the gateway sends the browser back to the page; never a bare 413 page), nothing
stored. axe-core on every page; screenshots in var/console-screenshots/."""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from console_support import (
    CHEAP_ARGON2,
    PLAN,
    Stack,
    check_accessibility,
    grant_exception,
    running_stack,
    screenshot,
    sign_in,
)
from playwright.sync_api import expect

pytestmark = pytest.mark.integration

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory, jwt_secret: str) -> Iterator[Stack]:
    """A stack of its own: the session's stack caps evidence at 1 MiB to test execution's refusal cheaply."""
    tmp = tmp_path_factory.mktemp("console-large-evidence")
    with running_stack(tmp, jwt_secret, {"accounts": CHEAP_ARGON2}) as running:  # default evidence limits
        yield running


def pdf_of(path: Path, size: int) -> Path:
    """A PDF as execution recognises one (it starts with %PDF-) of exactly `size` bytes."""
    head = b"%PDF-1.4\n"
    tail = b"\n%%EOF\n"
    path.write_bytes(head + b"0" * (size - len(head) - len(tail)) + tail)
    return path


def new_page(browser: Any, stack: Stack) -> Any:
    context = browser.new_context(locale="en", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.csp_violations = []
    page.stack_url = stack.url
    page.on(
        "console", lambda msg: page.csp_violations.append(msg.text) if "Content Security Policy" in msg.text else None
    )
    return page


def test_a_15_mib_file_is_stored_and_a_21_mib_one_refused_beside_the_field(
    big: Stack, browser: Any, tmp_path: Path
) -> None:
    period = "2014-05"
    grant_exception(big, period)
    fifteen = pdf_of(tmp_path / "relatório maio.pdf", 15 * MiB)
    twenty_one = pdf_of(tmp_path / "digitalização.pdf", 21 * MiB)

    registrar = new_page(browser, big)
    sign_in(registrar, "registrar_ds")
    url = f"{big.url}/plans/{PLAN}/registrations/DS-I5/{period}"
    registrar.goto(url)
    # The value and a 15 MiB file in one form (nearly twice the gateway's 8 MiB cap for other routes).
    registrar.get_by_label("Value").first.fill("55")  # DS-I5: meta 50, higher is better: no justification
    registrar.get_by_label("Evidence files").set_input_files(str(fifteen))
    registrar.get_by_role("button", name="Register", exact=True).click()
    expect(registrar.get_by_test_id("notice")).to_have_text("Saved as version 1. 1 file added.")
    row = registrar.get_by_test_id("evidence-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("relatório maio.pdf")
    expect(row).to_contain_text("15.0 MB")  # 15 × 1024 × 1024 bytes, in powers of 1024
    digest = hashlib.sha256(fifteen.read_bytes()).hexdigest()
    expect(row.get_by_test_id("sha256")).to_have_attribute("title", digest)
    link = row.get_by_role("link", name="relatório maio.pdf")
    served = registrar.request.get(big.url + str(link.get_attribute("href")))
    assert (served.status, hashlib.sha256(served.body()).hexdigest()) == (200, digest)

    # Added afterwards: 21 MiB is over the 20 MiB a file may have. The browser is sent back to the page, which
    # says so beside the file field; nothing is stored.
    registrar.get_by_label("Evidence files").set_input_files(str(twenty_one))
    registrar.get_by_role("button", name="Add the files").click()
    expect(registrar.locator("#files-error")).to_have_text(
        "Nothing was saved: the files chosen were larger than 20.0 MB. A file may have at most 20.0 MB; "
        "send large files one at a time."
    )
    expect(registrar.get_by_test_id("problem")).to_have_text("Nothing was saved: the files were too large.")
    expect(registrar.get_by_label("Evidence files")).to_have_attribute("aria-invalid", "true")
    expect(registrar.get_by_test_id("evidence-row")).to_have_count(1)
    assert registrar.url.startswith(url + "?too_large=20971520")
    check_accessibility(registrar)
    screenshot(registrar, "evidence-too-large")

    # In Portuguese (the account's language), with a new value: neither the value nor the file is stored.
    portuguese = new_page(browser, big)
    sign_in(portuguese, "registrar_ds_pt")
    other = f"{big.url}/plans/{PLAN}/registrations/DS-I6/{period}"
    portuguese.goto(other)
    portuguese.locator("#value").fill("10")
    portuguese.locator("#files").set_input_files(str(twenty_one))
    portuguese.get_by_role("button", name="Registar", exact=True).click()
    expect(portuguese.locator("#files-error")).to_have_text(
        "Nada foi gravado: os ficheiros escolhidos tinham mais de 20,0 MB. Um ficheiro pode ter no máximo 20,0 MB; "
        "envie os ficheiros grandes um de cada vez."
    )
    check_accessibility(portuguese)
    screenshot(portuguese, "evidence-too-large-pt-PT")
    with big.api("registrar_ds") as api:
        assert api.get(f"/api/execution/v1/plans/{PLAN}/registrations/DS-I6/{period}").status_code == 404
        files = api.get(f"/api/execution/v1/plans/{PLAN}/registrations/DS-I5/{period}/evidence").json()
    assert [(f["name"], f["size"]) for f in files] == [("relatório maio.pdf", 15 * MiB)]


def test_the_gateway_sends_an_oversized_console_form_back_and_refuses_a_huge_one(big: Stack) -> None:
    """Without a browser: what the gateway answers on the console's evidence forms, by size (before the console
    or any sign-in is involved)."""
    form = f"{big.url}/plans/{PLAN}/registrations/DS-I5/2014-05/evidence"
    over = httpx.post(form, content=b"x" * (21 * MiB), headers={"content-type": "multipart/form-data; boundary=b"})
    assert over.status_code == 303
    assert over.headers["location"] == f"/plans/{PLAN}/registrations/DS-I5/2014-05?too_large=20971520#files"
    # Under the form's limit (a 9 MiB body, over the 8 MiB every other route keeps): passed on to the console,
    # which refuses it for want of a session — not the gateway's 413.
    under = httpx.post(form, content=b"x" * (9 * MiB), headers={"content-type": "multipart/form-data; boundary=b"})
    assert under.status_code != 413, under.text
    assert "too_large" not in under.headers.get("location", "")
    # Any other console route keeps 8 MiB.
    plain = httpx.post(f"{big.url}/sign-in", content=b"x" * (9 * MiB), headers={"content-type": "text/plain"})
    assert plain.status_code == 413
    # Past four times the form's limit the body is not read: a plain 413, on the declared length alone.
    host, port = big.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(
            f"POST /plans/{PLAN}/registrations/DS-I5/2014-05/evidence HTTP/1.1\r\nHost: {host}\r\n"
            f"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: {90 * MiB}\r\n\r\n".encode()
        )
        answer = conn.recv(4096).decode("latin-1")
    assert answer.startswith("HTTP/1.1 413 "), answer[:200]
