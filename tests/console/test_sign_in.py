"""Sign-in and sign-out through the console's form and the gateway's sessions: one generic error, throttling,
a session that ends with sign-out; the language switch; account administration by an admin."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from console_support import PASSWORD, Stack, check_accessibility, screenshot, sign_in
from playwright.sync_api import expect

pytestmark = pytest.mark.integration
GENERIC = "The username or password is not right."


def attempt(page: Any, username: str, password: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_wrong_password_gets_the_generic_error_then_throttling(stack: Stack, open_page: Callable[..., Any]) -> None:
    page = open_page()
    page.goto(f"{stack.url}/sign-in")
    check_accessibility(page)
    screenshot(page, "sign-in")
    attempt(page, "carla", "not her password")
    expect(page.get_by_role("alert")).to_have_text(GENERIC)
    expect(page.get_by_label("Username")).to_have_value("carla")
    check_accessibility(page)
    # An unknown name reads the same: nothing tells whether an account exists.
    attempt(page, "nobody-here", "whatever")
    expect(page.get_by_role("alert")).to_have_text(GENERIC)
    # Five failures for one account within the window, then sign-in is refused for a while, even with the
    # right password.
    for _ in range(4):
        attempt(page, "carla", "still wrong")
        expect(page.get_by_role("alert")).to_have_text(GENERIC)
    attempt(page, "carla", PASSWORD)
    expect(page.get_by_role("alert")).to_have_text(
        re.compile(r"Too many attempts\. Wait 1[45] minutes and try again\.")
    )
    assert "/sign-in" in page.url
    assert not [c for c in page.context.cookies() if c["name"] == "metas_session"]


def test_sign_in_offers_the_oidc_provider(stack: Stack, open_page: Callable[..., Any]) -> None:
    page = open_page(locale="pt-BR")
    page.goto(f"{stack.url}/sign-in?next=%2Fplans")
    link = page.get_by_role("link", name="Entrar com Test IdP")
    expect(link).to_be_visible()
    expect(link).to_have_attribute("href", "/api/auth/oidc/start?next=%2Fplans")
    # The password form stays: OIDC is offered beside it, not instead of it.
    expect(page.get_by_role("button", name="Entrar")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "sign-in-oidc")


def test_sign_out_ends_the_session(stack: Stack, open_page: Callable[..., Any]) -> None:
    page = open_page()
    sign_in(page, "registrar_ds", path="/plans")
    assert page.url.endswith("/plans")
    expect(page.get_by_test_id("who")).to_have_text("Maria")
    session = next(c["value"] for c in page.context.cookies() if c["name"] == "metas_session")
    cookie = next(c for c in page.context.cookies() if c["name"] == "metas_session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    me = httpx.get(f"{stack.url}/api/auth/me", headers={"authorization": f"Session {session}"}, timeout=10)
    assert me.json()["username"] == "maria"

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    assert not [c for c in page.context.cookies() if c["name"] == "metas_session"]
    # The session itself is over, not only forgotten by this browser.
    again = httpx.get(f"{stack.url}/api/auth/me", headers={"authorization": f"Session {session}"}, timeout=10)
    assert again.status_code == 401
    page.goto(f"{stack.url}/plans")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")


def test_the_language_switch_on_every_page(stack: Stack, open_page: Callable[..., Any]) -> None:
    page = open_page(locale="pt-PT")
    page.goto(f"{stack.url}/sign-in")
    # Before sign-in the browser's languages decide.
    expect(page.get_by_role("heading", level=1)).to_have_text("Iniciar sessão")
    page.get_by_label("Idioma").select_option("pt-BR")
    page.get_by_role("button", name="Mudar").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Entrar")
    expect(page.get_by_label("Senha")).to_be_visible()
    page.get_by_label("Usuário").fill("maria")
    page.get_by_label("Senha").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    # The switch's choice outlives the account's own language (English for maria).
    expect(page.get_by_role("heading", level=1)).to_have_text("A registrar")
    page.get_by_label("Idioma").select_option("en")
    page.get_by_role("button", name="Trocar").or_(page.get_by_role("button", name="Mudar")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("To register")


def test_admin_manages_accounts(stack: Stack, open_page: Callable[..., Any]) -> None:
    page = open_page()
    sign_in(page, "admin", path="/admin/accounts")
    expect(page.get_by_role("heading", level=1)).to_have_text("Accounts")
    check_accessibility(page)
    page.get_by_label("Username").fill("joana")
    page.get_by_label("Name", exact=True).fill("Joana <b>Silva</b>")
    page.get_by_label("E-mail").fill("joana@example.org")
    page.get_by_label("Language", exact=True).nth(1).select_option("pt-PT")
    page.get_by_label("Password").fill("first password of joana")
    page.get_by_label("Grants (one a line: role organisation [units…])").fill("registrar ipsm DP")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_test_id("notice")).to_have_text("Account created.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("joana")
    expect(page.get_by_label("Name", exact=True)).to_have_value("Joana <b>Silva</b>")

    page.get_by_label("Grants (one a line: role organisation [units…])").fill("registrar ipsm DP DS\nviewer ii")
    page.get_by_role("button", name="Save the grants").click()
    expect(page.get_by_test_id("notice")).to_have_text("Grants saved.")
    page.get_by_label("Grants (one a line: role organisation [units…])").fill("registrar")
    page.get_by_role("button", name="Save the grants").click()
    expect(page.locator("#grants-error")).to_have_text("Write each grant as: role organisation [units…]")
    check_accessibility(page)

    with stack.api("admin") as api:
        stored = api.get("/api/accounts/v1/accounts/joana").json()
    assert stored["grants"] == [
        {"role": "registrar", "org": "ipsm", "units": ["DP", "DS"]},
        {"role": "viewer", "org": "ii", "units": []},
    ]
    page.goto(f"{stack.url}/admin/accounts/joana")
    page.get_by_role("button", name="Disable the account").click()
    expect(page.get_by_test_id("notice")).to_have_text("Account disabled: its sessions have ended.")
    screenshot(page, "account")
    other = open_page()
    other.goto(f"{stack.url}/sign-in")
    attempt(other, "joana", "first password of joana")
    expect(other.get_by_role("alert")).to_have_text(GENERIC)

    page.get_by_role("button", name="Enable the account").click()
    page.get_by_label("New password").fill("second password of joana")
    page.get_by_role("button", name="Set the password").click()
    expect(page.get_by_test_id("notice")).to_have_text("Password changed: the account's sessions have ended.")
    attempt(other, "joana", "second password of joana")
    # Her account's language is Portuguese.
    expect(other.get_by_role("heading", level=1)).to_have_text("A registar")


def test_keyboard_reaches_the_content_first_and_sees_where_it_is(stack: Stack, open_page: Callable[..., Any]) -> None:
    page = open_page()
    sign_in(page, "registrar_ds", path="/plans")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    # The focus ring is drawn (an outline of 3 px), not left to the browser's default or removed.
    assert skip.evaluate("e => getComputedStyle(e).outlineWidth") == "3px"
    page.keyboard.press("Enter")
    assert page.url.endswith("#main")
    page.keyboard.press("Tab")
    # From the content, the next stop is the first link of the plans table.
    expect(page.get_by_role("link", name="Acordo de Resultados – 2ª etapa – 2014 – IPSM", exact=True)).to_be_focused()
