"""Languages: catalogs complete and compiled at start-up, Accept-Language negotiation, locale formats."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from console.i18n import CATALOG_DIR, Formats, coerce, gettext_for, load_catalogs, negotiate

NBSP = "\xa0"


def test_money_per_locale() -> None:
    # The PRR budget's total investment as Portuguese documents print it.
    assert Formats("pt-PT").money("61488597.00") == f"61.488.597,00{NBSP}€"
    assert Formats("pt-BR").money("61488597.00") == f"€{NBSP}61.488.597,00"
    assert Formats("en").money("61488597.00") == "€61,488,597.00"


def test_numbers_keep_every_digit_sent() -> None:
    # Decimal strings from the API are formatted exactly: no float rounding, no digits dropped or added.
    assert Formats("pt-PT").number("52000") == "52.000"
    assert Formats("pt-BR").number("97.125") == "97,125"
    assert Formats("en").number("1234567.890") == "1,234,567.890"
    assert Formats("en").number("-0.5") == "-0.5"
    assert Formats("pt-PT").number(None) == ""
    assert Formats("pt-PT").number("n/a") == "n/a"


def test_dates_and_periods_per_locale() -> None:
    assert Formats("pt-PT").date("2014-06-13") == "13/06/2014"
    assert Formats("pt-BR").date("2014-06-13") == "13 de jun. de 2014"
    assert Formats("en").date("2014-06-13") == "Jun 13, 2014"
    assert Formats("pt-PT").period("2014-11") == "novembro de 2014"
    assert Formats("en").period("2014-11") == "November 2014"
    # 13:00 UTC is 14:00 in Lisbon in summer time.
    assert Formats("pt-PT").datetime("2014-06-13T13:00:00Z", "Europe/Lisbon") == "13/06/2014, 14:00:00"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("pt-PT,pt;q=0.9,en;q=0.8", "pt-PT"),
        ("pt-BR", "pt-BR"),
        ("pt", "pt-PT"),
        ("pt-br;q=0.5, en;q=0.9", "en"),
        ("fr-FR, de;q=0.9", None),
        ("fr-FR, en-GB;q=0.2", "en"),
        ("en;q=0, pt-BR;q=0.1", "pt-BR"),
        ("", None),
        ("pt;q=abc, en", "en"),
    ],
)
def test_accept_language(header: str, expected: str | None) -> None:
    assert negotiate(header) == expected


def test_coerce_account_locale() -> None:
    assert coerce("pt_BR") == "pt-BR"
    assert coerce("PT-pt") == "pt-PT"
    assert coerce("es") is None


def test_catalogs_translate_and_interpolate() -> None:
    catalogs = load_catalogs()
    assert gettext_for(catalogs, "pt-PT")[0]("To register") == "A registar"
    assert gettext_for(catalogs, "pt-BR")[0]("To register") == "A registrar"
    assert gettext_for(catalogs, "en")[0]("To register") == "To register"
    text = gettext_for(catalogs, "pt-BR")[0]("Saved as version %(n)s.", n="3")
    assert text == "Salvo como versão 3."
    ngettext = gettext_for(catalogs, "pt-PT")[1]
    assert ngettext("%(num)s item owed.", "%(num)s items owed.", 1) == "1 item a registar."
    assert ngettext("%(num)s item owed.", "%(num)s items owed.", 12) == "12 itens a registar."


@pytest.mark.parametrize("locale", ["pt_PT", "pt_BR"])
def test_every_message_is_translated(locale: str) -> None:
    with (CATALOG_DIR / "messages.pot").open("rb") as fh:
        template = read_po(fh)
    path: Path = CATALOG_DIR / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
    done = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        if m.id and (all(m.string) if isinstance(m.string, tuple) else m.string) and not m.fuzzy
    }
    assert wanted - done == set()
    # Placeholders survive translation (a missing one would raise or drop the value on the page).
    for m in catalog:
        if isinstance(m.id, str) and "%(" in m.id:
            assert sorted(_names(m.id)) == sorted(_names(str(m.string))), m.id
    # What msgfmt -c checks: format flags agree between msgid and msgstr (a stray "% d" in a text reads as one).
    assert [(m.id, errors) for m, errors in catalog.check()] == []
    # A union merge of parallel branches must never leave one message twice.
    ids = [m.id for m in catalog if m.id]
    assert len(ids) == len(set(ids))


def _names(text: str) -> list[str]:
    import re

    return re.findall(r"%\((\w+)\)s", text)


def test_vendored_htmx_is_the_recorded_release() -> None:
    import hashlib

    static = CATALOG_DIR.parent / "static"
    recorded = (static / "VENDORED.md").read_text()
    digest = hashlib.sha256((static / "htmx.min.js").read_bytes()).hexdigest()
    assert f"| htmx.min.js | npm package `htmx.org` 2.0.11, `dist/htmx.min.js` | 0BSD | {digest} |" in recorded


@pytest.mark.parametrize(
    ("typed", "tag", "sent"),
    [
        ("97,5", "pt-PT", "97.5"),
        ("52.000", "pt-BR", "52000"),
        ("1.234.567,89", "pt-PT", "1234567.89"),
        ("52000", "pt-PT", "52000"),
        ("1,234.5", "en", "1234.5"),
        ("52,000", "en", "52000"),
        ("-0.25", "en", "-0.25"),
        # Not a number in that language: sent as typed, for the API to refuse and name the field.
        ("12,5abc", "pt-PT", "12,5abc"),
        ("52.00.0", "pt-PT", "52.00.0"),
        ("97,5", "en", "97,5"),
        (" 42 ", "en", "42"),
    ],
)
def test_numbers_typed_in_the_persons_language(typed: str, tag: str, sent: str) -> None:
    from console.i18n import typed_number

    assert typed_number(typed, tag) == sent
