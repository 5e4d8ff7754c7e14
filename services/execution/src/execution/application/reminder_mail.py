"""The text of a reminder digest, in the person's language (pt-PT, pt-BR, en), from execution's own gettext
catalogs (``execution/locales``, Babel .po compiled in memory at first use; ``make execution-messages``
extracts and merges them). Plan content (item names, unit codes) is never translated."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import date
from email.message import EmailMessage
from email.utils import make_msgid
from functools import cache
from pathlib import Path

from babel.dates import format_date, format_skeleton
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from execution.domain.reminders import DigestKind, Line, LineStatus

SUPPORTED = ("pt-PT", "pt-BR", "en")
BABEL_IDS = {"pt-PT": "pt_PT", "pt-BR": "pt_BR", "en": "en"}
CATALOG_DIR = Path(__file__).resolve().parents[1] / "locales"


@cache
def catalog(locale: str) -> Translations:
    tag = locale if locale in BABEL_IDS else "en"
    with (CATALOG_DIR / BABEL_IDS[tag] / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        parsed = read_po(fh, locale=BABEL_IDS[tag])
    buffer = io.BytesIO()
    write_mo(buffer, parsed, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer)


def subject(kind: DigestKind, count: int, plan_name: str, due: date, locale: str) -> str:
    t = catalog(locale)
    ngettext = t.ngettext
    day = format_date(due, format="long", locale=BABEL_IDS.get(locale, "en"))
    if kind is DigestKind.DUE_SOON:
        text = ngettext(
            "%(count)d registration due by %(due)s — %(plan)s",
            "%(count)d registrations due by %(due)s — %(plan)s",
            count,
        )
    elif kind is DigestKind.OVERDUE:
        text = ngettext(
            "%(count)d registration late or missing — %(plan)s",
            "%(count)d registrations late or missing — %(plan)s",
            count,
        )
    else:
        text = ngettext(
            "%(count)d registration awaiting certification — %(plan)s",
            "%(count)d registrations awaiting certification — %(plan)s",
            count,
        )
    return text % {"count": count, "due": day, "plan": plan_name}


def _status(status: LineStatus, locale: str) -> str:
    _ = catalog(locale).gettext
    labels = {
        LineStatus.OWED: _("not registered yet"),
        LineStatus.MISSING: _("missing"),
        LineStatus.LATE: _("registered late"),
        LineStatus.REJECTED: _("rejected: register again"),
        LineStatus.SUBMITTED: _("awaiting certification"),
    }
    return labels[status]


def body(
    kind: DigestKind,
    *,
    person: str,
    plan_id: str,
    plan_name: str,
    due: date,
    lines: Sequence[Line],
    names: Mapping[str, str],
    locale: str,
) -> str:
    _ = catalog(locale).gettext
    babel_id = BABEL_IDS.get(locale, "en")
    values = {"name": person, "plan": plan_name, "due": format_date(due, format="long", locale=babel_id)}
    if kind is DigestKind.DUE_SOON:
        intro = _("These registrations of %(plan)s are due by the end of %(due)s and are not registered yet:")
    elif kind is DigestKind.OVERDUE:
        intro = _("The deadline of %(due)s has passed. These registrations of %(plan)s are late or missing:")
    else:
        intro = _("These registrations of %(plan)s await your certification:")
    out = [_("Hello %(name)s,") % values, "", intro % values, ""]
    for line in lines:
        year, month = (int(p) for p in line.period.split("-"))
        period = format_skeleton("yMMMM", date(year, month, 1), locale=babel_id)
        item = names.get(line.item_code, line.item_code)
        out.append(f"- {line.unit_code} · {period} · {line.item_code} {item}: {_status(line.status, locale)}")
    out += [
        "",
        _("This is one digest for all of them; you will not get a message per item."),
        _("To stop receiving the digests of this plan, mute it: PUT /api/execution/v1/plans/%(plan_id)s/reminder-mute")
        % {"plan_id": plan_id},
        "",
        "metas",
    ]
    return "\n".join(out) + "\n"


def message(
    *, sender: str, to: str, subject_text: str, text: str, key: str, domain: str = "metas.localhost"
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject_text
    msg["Message-ID"] = make_msgid(domain=domain)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: auto-responders must not answer it
    msg["X-Metas-Digest"] = key
    msg.set_content(text)
    return msg
