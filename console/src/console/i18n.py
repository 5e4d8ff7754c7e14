"""Languages of the console: gettext catalogs (Babel .po, compiled in memory at start-up) and locale formats.

Plan content (names, formulas, metas as printed) is never translated: only the console's own words are."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_skeleton
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import Translations

SUPPORTED = ("pt-PT", "pt-BR", "en")
DEFAULT = "en"
LANGUAGE_NAMES = {"pt-PT": "Português (Portugal)", "pt-BR": "Português (Brasil)", "en": "English"}
BABEL_IDS = {"pt-PT": "pt_PT", "pt-BR": "pt_BR", "en": "en"}
CATALOG_DIR = Path(__file__).parent / "locales"
# Portuguese public documents (the QUAR, the Diário da República, the seed plans: "27.000.000,00") group
# thousands with a dot; CLDR's pt-PT uses a space. Numbers in pt-PT are written with Portuguese symbols from
# pt_BR and pt-PT's own patterns (the euro sign after the amount).
NUMBER_SYMBOLS_FROM = {"pt-PT": "pt_BR", "pt-BR": "pt_BR", "en": "en"}
MONEY_PATTERN = {"pt-PT": "#,##0.00\xa0¤", "pt-BR": "¤\xa0#,##0.00", "en": "¤#,##0.00"}


def N_(message: str) -> str:
    """Marks a string for extraction; it is translated where it is shown."""
    return message


def load_catalogs(directory: Path = CATALOG_DIR) -> dict[str, Translations]:
    """Every supported language's catalog, compiled from its committed .po (no generated .mo on disk)."""
    out: dict[str, Translations] = {}
    for tag in SUPPORTED:
        po = directory / BABEL_IDS[tag] / "LC_MESSAGES" / "messages.po"
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=BABEL_IDS[tag])
        buffer = io.BytesIO()
        write_mo(buffer, catalog, use_fuzzy=False)
        buffer.seek(0)
        out[tag] = Translations(buffer)
    return out


def negotiate(accept_language: str | None) -> str | None:
    """The best supported language in an Accept-Language header (RFC 9110 weights), or None."""
    if not accept_language:
        return None
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                weight = float(params[2:])
            except ValueError:
                continue
        if tag and weight > 0:
            ranked.append((-weight, position, tag.strip().lower()))
    for _, _, tag in sorted(ranked):
        for supported in SUPPORTED:
            if tag == supported.lower():
                return supported
        primary = tag.split("-")[0]
        if primary == "pt":
            return "pt-BR" if tag.startswith("pt-br") else "pt-PT"
        if primary == "en":
            return "en"
    return None


def coerce(tag: str | None) -> str | None:
    """A supported language tag from a cookie or an account's locale (any case, '_' or '-'), else None."""
    if not tag:
        return None
    wanted = tag.replace("_", "-").lower()
    return next((s for s in SUPPORTED if s.lower() == wanted), None)


# A number as a person writes it in each language: thousands grouped or not, the decimal mark of the language.
_TYPED = {
    "pt": re.compile(r"^-?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$"),
    "en": re.compile(r"^-?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$"),
}


def typed_number(text: str, tag: str) -> str:
    """`97,5` (pt) or `1,234.5` (en) as the API's plain decimal (`97.5`, `1234.5`); anything else as typed, for
    the API to judge and name the field."""
    text = text.strip()
    if tag.startswith("pt") and _TYPED["pt"].match(text):
        return text.replace(".", "").replace(",", ".")
    if tag == "en" and _TYPED["en"].match(text):
        return text.replace(",", "")
    return text


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


@dataclass(frozen=True)
class Formats:
    """Numbers, money and dates in one language; values the API sends as decimal strings stay exact."""

    tag: str

    @property
    def babel_locale(self) -> Locale:
        return Locale.parse(BABEL_IDS[self.tag])

    def number(self, value: Any) -> str:
        """A decimal as sent, grouped per locale, keeping every fraction digit it has (no float rounding)."""
        number = _decimal(value)
        if number is None:
            return "" if value is None else str(value)
        exponent = number.as_tuple().exponent
        places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        pattern = "#,##0" + ("." + "0" * places if places else "")
        return format_decimal(number, format=pattern, locale=NUMBER_SYMBOLS_FROM[self.tag], decimal_quantization=False)

    def money(self, value: Any, currency: str = "EUR") -> str:
        number = _decimal(value)
        if number is None:
            return ""
        pattern, symbols = MONEY_PATTERN[self.tag], NUMBER_SYMBOLS_FROM[self.tag]
        return format_currency(number, currency, format=pattern, locale=symbols, currency_digits=False)

    def date(self, value: Any) -> str:
        if not value:
            return ""
        day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
        return format_date(day, "medium", locale=BABEL_IDS[self.tag])

    def datetime(self, value: Any, tz: str = "Europe/Lisbon") -> str:
        if not value:
            return ""
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        return format_datetime(moment, "medium", tzinfo=ZoneInfo(tz), locale=BABEL_IDS[self.tag])

    def period(self, value: str) -> str:
        """A period YYYY-MM as the month's name and year ("novembro de 2014", "November 2014")."""
        try:
            year, month = (int(p) for p in value.split("-"))
            return format_skeleton("yMMMM", date(year, month, 1), locale=BABEL_IDS[self.tag])
        except (ValueError, TypeError):
            return value


Gettext = Callable[..., str]


def gettext_for(catalogs: dict[str, Translations], tag: str) -> tuple[Gettext, Callable[[str, str, int], str]]:
    """`_("text %(x)s", x=...)` and `ngettext(...)` in one language; templates escape what they return."""
    translations = catalogs[tag]

    def gettext(message: str, **params: Any) -> str:
        text = translations.gettext(message)
        return text % params if params else text

    def ngettext(singular: str, plural: str, n: int, **params: Any) -> str:
        text = translations.ngettext(singular, plural, n)
        return text % {"num": n, **params}

    return gettext, ngettext
