"""The registration template: an XLSX of what one unit owes in one period, filled in and uploaded back; the dry run
names every bad cell (sheet, cell, reason) and writes nothing; the import writes every row or nothing, through the
bulk import's own path (docs/api/execution.md, "Registration template")."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from openpyxl.utils import get_column_letter
from sqlalchemy.ext.asyncio import AsyncSession

from execution.application import registrations as registrations_app
from execution.application.guards import IMPORTERS, WriteGuard, may_register, parse_period
from execution.application.plans import LoadedPlan, clock, visible_plan
from execution.application.reminder_mail import catalog
from execution.application.template_workbook import (
    CODE_COLUMN,
    TemplateRow,
    TemplateSpec,
    UploadRow,
    completeness_labels,
    input_column,
    read_workbook,
    write_workbook,
)
from execution.db.models import Registration
from execution.db.template_rows import unit_period_registrations
from execution.domain.errors import InvalidPeriod, InvalidRegistration
from execution.domain.justifications import needs_justification
from execution.domain.periods import Period
from execution.domain.registration_template import CellProblem, Field, read_row, shown
from execution.domain.registrations import ItemKind, PlanItem, normalise_payload
from execution.domain.schedule import WriteRefusal
from metas_kit.auth import Principal
from metas_kit.errors import Forbidden, NotFound, ValidationFailed
from metas_kit.writes import WriteContext

LANGUAGES = ("pt-PT", "pt-BR", "en")


def negotiate(accept_language: str | None) -> str:
    """The first supported language of an Accept-Language header (by weight), English otherwise."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        if tag.strip() and weight > 0:
            ranked.append((-weight, position, tag.strip().lower()))
    for _w, _p, tag in sorted(ranked):
        if tag.startswith("pt"):
            return "pt-BR" if tag.startswith("pt-br") else "pt-PT"
        if tag.startswith("en"):
            return "en"
    return "en"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _gettext(language: str) -> Any:
    return catalog(language).gettext


# ---- the download ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TemplateFile:
    content: bytes
    filename: str


def _unit_writer(who: Principal, plan: LoadedPlan, unit_code: str) -> None:
    if unit_code not in plan.units and unit_code not in plan.facts.units:
        raise NotFound(f"Unit {unit_code!r} is not in plan {plan.facts.plan_id!r}.")
    if not may_register(who, plan, unit_code):
        raise Forbidden(f"You may not register for unit {unit_code!r}.")


def _period_in_cycle(plan: LoadedPlan, text: str) -> Period:
    period = parse_period(text)
    if not plan.facts.first_period <= period <= plan.facts.last_period:
        raise ValidationFailed(
            [
                {
                    "path": "period",
                    "type": "period",
                    "message": f"{period} is outside the plan's cycle ({plan.facts.cycle_year})",
                }
            ]
        )
    return period


def _documents(plan: LoadedPlan) -> dict[str, dict[str, Any]]:
    """Each item's entry of the plan document (names, measure units, due dates), stages with their product's."""
    doc = plan.tree.document
    out: dict[str, dict[str, Any]] = {}
    for key in ("indicators", "initiatives"):
        for entry in doc.get(key) or ():
            out[str(entry.get("code"))] = entry
    for product in doc.get("products") or ():
        out[str(product.get("code"))] = product
        for stage in product.get("stages") or ():
            out[str(stage.get("code"))] = {**stage, "name": f"{product.get('name') or ''} — {stage.get('name') or ''}"}
    return out


def _current(reg: Registration | None, _: Any) -> str:
    if reg is None:
        return ""
    payload = reg.payload or {}
    if payload.get("numerator") is not None:
        return f"{payload.get('value')} ({payload.get('numerator')} / {payload.get('denominator')})"
    if payload.get("value") is not None:
        return str(payload["value"])
    if payload.get("cumulative_percent") is not None:
        return f"{payload['cumulative_percent']} %"
    if payload.get("completeness"):
        label = completeness_labels(_).get(str(payload["completeness"]), str(payload["completeness"]))
        return f"{label} {payload.get('delivered_on') or ''}".strip()
    return ""


def _justify_when(item: PlanItem, _: Any) -> str:
    """When a value of the item needs a justification, in symbols: "< 53000", "> 97", "< 85 | > 95"."""
    band = item.justification_band
    if band is None:
        return ""
    sides = [f"< {band.min:f}" if band.min is not None else "", f"> {band.max:f}" if band.max is not None else ""]
    return " | ".join(s for s in sides if s)


def _state(reg: Registration | None, refusal: WriteRefusal | None, _: Any) -> str:
    labels = {
        None: _("Not registered"),
        "submitted": _("Awaiting certification"),
        "certified": _("Certified"),
        "rejected": _("Rejected: register again"),
    }
    text = labels.get(reg.certification if reg else None, reg.certification if reg else "")
    closed = {
        WriteRefusal.LOCKED: _("the period is locked"),
        WriteRefusal.EXPIRED: _("the period's write window is over"),
    }
    if refusal is not None:
        return f"{text} — {closed[refusal]}"
    if reg is not None and reg.certification == "certified":
        note = _("a new value sends it back for certification")
        return f"{text} — {note}"
    return text


async def template(
    app: FastAPI,
    session: AsyncSession,
    who: Principal,
    plan_id: str,
    *,
    unit_code: str,
    period_text: str,
    language: str,
) -> TemplateFile:
    plan = await visible_plan(app, session, who, plan_id)
    _unit_writer(who, plan, unit_code)
    period = _period_in_cycle(plan, period_text)
    _ = _gettext(language)
    regs = await unit_period_registrations(session, plan_id, unit_code, str(period))
    docs = _documents(plan)
    guard = WriteGuard(session, plan.schedule)
    now = clock(app)
    due = plan.schedule.dates(period).due_date
    rows: list[TemplateRow] = []
    for item in plan.schedule.owed_items(period):
        if item.unit_code != unit_code:
            continue
        reg = regs.get(item.code)
        refusal = await guard.refusal(item, period, now)
        doc = docs.get(item.code, {})
        rows.append(
            TemplateRow(
                kind=item.kind,
                item_code=item.code,
                name=str(doc.get("name") or doc.get("formula") or ""),
                measure_unit=str(doc.get("measure_unit") or ""),
                delivery_due=str(doc.get("due_date") or ""),
                period=str(period),
                due_date=due,
                current=_current(reg, _),
                state=_state(reg, refusal, _),
                writable=refusal is None,
                justify_when=_justify_when(item, _),
            )
        )
    plan_doc = plan.tree.document.get("plan") or {}
    spec = TemplateSpec(
        plan_id=plan_id,
        plan_title=str(plan_doc.get("title") or plan_id),
        unit_code=unit_code,
        unit_name=plan.facts.units.get(unit_code, unit_code),
        period=str(period),
        language=language,
        rows=rows,
    )
    return TemplateFile(write_workbook(spec, _), f"{plan_id}-{unit_code}-{period}.xlsx")


# ---- the upload: every bad cell -----------------------------------------------------------------------------------
def _messages(_: Any) -> dict[str, str]:
    return {
        "number_grammar": _(
            "%(value)s is not a number this field accepts: up to 10 digits and 6 decimals, a point for decimals "
            "when typed as text, nothing else."
        ),
        "formula": _("A formula is not read: type the value itself."),
        "text_too_long": _("The text is longer than %(max)s characters."),
        "invalid_text": _("The text holds a character that is not allowed."),
        "value_or_ratio": _("Give a value, or a numerator and a denominator, not both."),
        "value_missing": _("The row is filled in but has no value."),
        "ratio_incomplete": _("Give both the numerator and the denominator."),
        "zero_denominator": _("The denominator must not be zero."),
        "ratio_out_of_range": _("The numerator divided by the denominator is too large."),
        "out_of_range": _("%(value)s is not a percentage between 0 and 100."),
        "completeness_missing": _("Say whether it was delivered."),
        "completeness_unknown": _("%(value)s is not one of the choices of the list."),
        "date_invalid": _("%(value)s is not a date (YYYY-MM-DD)."),
        "date_needs_delivery": _("A delivery date needs a partial or full delivery."),
        "delivery_needs_date": _("A delivery needs its date."),
        "delivery_needs_evidence": _("A delivery needs at least one evidence reference."),
        "evidence_too_long": _("At most %(max_items)s references of %(max_length)s characters each."),
        "not_in_template": _("This row is not one of the template's rows (its hidden key is empty)."),
        "unknown_item": _("Item %(item)s is not in the plan."),
        "wrong_kind": _("Item %(item)s is not of this sheet's kind."),
        "not_your_unit": _("You may not register for unit %(unit)s (item %(item)s)."),
        "other_unit": _("Item %(item)s belongs to unit %(unit)s, not to this template's unit."),
        "not_owed": _("Item %(item)s owes no registration for %(period)s."),
        "wrong_period": _("The row is for %(period)s, not for this template's period."),
        "duplicate_row": _("Item %(item)s for %(period)s is already in cell %(first)s."),
        "period_closed_locked": _("%(period)s is locked after evaluation: nothing can be registered."),
        "period_closed_expired": _("The write window of %(period)s is over."),
        "invalid": _("This value is not accepted: %(detail)s"),
        "justification_required": _("This value needs a justification (when the value is %(when)s): say why."),
    }


@dataclass(frozen=True, slots=True)
class _Sheet:
    title: str
    order: int


class _Problems:
    def __init__(self, language: str, sheets: tuple[str, ...]) -> None:
        self.texts = _messages(_gettext(language))
        self.order = {title: n for n, title in enumerate(sheets)}
        self.items: list[dict[str, Any]] = []

    def add(
        self,
        row: UploadRow,
        column: int,
        code: str,
        *,
        item: str | None,
        period: str | None,
        args: Mapping[str, str] | None = None,
        detail: str = "",
    ) -> None:
        letter = get_column_letter(column)
        values = {"item": item or "", "period": period or "", "detail": detail, "when": "", **(args or {})}
        message = self.texts.get(code, self.texts["invalid"]) % values
        self.items.append(
            {
                "sheet": row.sheet,
                "cell": f"{letter}{row.row}",
                "row": row.row,
                "column": letter,
                "path": f"{row.sheet}!{letter}{row.row}",
                "type": code,
                "item_code": item,
                "period": period,
                "message": message,
            }
        )

    def sorted(self) -> list[dict[str, Any]]:
        return sorted(
            self.items, key=lambda p: (self.order.get(p["sheet"], 99), p["row"], len(p["column"]), p["column"])
        )


@dataclass(frozen=True, slots=True)
class _Good:
    upload_row: UploadRow
    item: PlanItem
    period: Period
    payload: dict[str, Any]
    justification: str | None


@dataclass(frozen=True, slots=True)
class Checked:
    plan_id: str
    unit_code: str
    period: str
    filled: int
    problems: list[dict[str, Any]]
    good: list[_Good]


def _labels() -> dict[str, str]:
    """What a completeness cell may hold: the codes and their labels in every language, lower-cased."""
    out = {code: code for code in ("none", "partial", "full")}
    for language in LANGUAGES:
        out.update({label.lower(): code for code, label in completeness_labels(_gettext(language)).items()})
    return out


def _field_column(row: UploadRow, path: str) -> int:
    """The column of a payload path the domain named (``payload.denominator``), else the row's first input."""
    name = path.removeprefix("payload.").split(".")[0].split("[")[0]
    fields = {f.value: f for f in Field}
    field = fields.get(name)
    try:
        return input_column(row.kind, field) if field is not None else input_column(row.kind, _first_input(row.kind))
    except ValueError:
        return input_column(row.kind, _first_input(row.kind))


def _first_input(kind: ItemKind) -> Field:
    from execution.domain.registration_template import INPUTS

    return INPUTS[kind][0]


async def check_upload(
    app: FastAPI, session: AsyncSession, who: Principal, plan_id: str, data: bytes, language: str
) -> Checked:
    """Read the file and judge every filled row as the import would, writing nothing."""
    upload = read_workbook(data)
    plan = await visible_plan(app, session, who, plan_id)
    if upload.plan_id != plan_id:
        raise ValidationFailed(
            [{"path": "file", "type": "other_plan", "message": f"This template is of plan {upload.plan_id!r}."}],
            f"This template is of plan {upload.plan_id!r}, not of {plan_id!r}.",
        )
    if not who.can(IMPORTERS, plan.organisation):
        raise Forbidden(f"You may not register in plan {plan_id!r}.")
    _unit_writer(who, plan, upload.unit_code)
    try:
        template_period = str(Period.parse(upload.period))
    except InvalidPeriod as exc:
        raise ValidationFailed([{"path": "file", "type": "period", "message": str(exc)}]) from exc
    problems = _Problems(language, upload.sheets)
    labels = _labels()
    facts = plan.facts
    first_cell: dict[tuple[str, str], str] = {}
    candidates: list[tuple[UploadRow, PlanItem, Period, dict[str, Any], str | None]] = []
    filled = 0
    for row in upload.rows:
        reading = read_row(row.kind, row.cells, labels)
        filled += int(reading.filled)
        if not reading.filled:
            continue  # a template row left empty: not sent
        code_column = CODE_COLUMN
        if row.key_item is None or row.key_period is None:
            first = next(f for f in row.cells if not row.cells[f].empty)
            problems.add(row, input_column(row.kind, first), "not_in_template", item=None, period=None)
            continue
        item_code, period_text = row.key_item, row.key_period
        item = facts.items.get(item_code)
        if item is None:
            problems.add(row, code_column, "unknown_item", item=item_code, period=period_text)
            continue
        if item.kind is not row.kind:
            problems.add(row, code_column, "wrong_kind", item=item_code, period=period_text)
            continue
        if not may_register(who, plan, item.unit_code):
            problems.add(
                row, code_column, "not_your_unit", item=item_code, period=period_text, args={"unit": item.unit_code}
            )
            continue
        if item.unit_code != upload.unit_code:
            problems.add(
                row, code_column, "other_unit", item=item_code, period=period_text, args={"unit": item.unit_code}
            )
            continue
        try:
            period = Period.parse(period_text)
        except InvalidPeriod:
            problems.add(row, code_column, "not_owed", item=item_code, period=period_text)
            continue
        if not facts.owes(item, period):
            problems.add(row, code_column, "not_owed", item=item_code, period=str(period))
            continue
        if str(period) != template_period:
            problems.add(row, code_column, "wrong_period", item=item_code, period=str(period))
            continue
        key = (item.code, str(period))
        if key in first_cell:
            problems.add(
                row, code_column, "duplicate_row", item=item_code, period=str(period), args={"first": first_cell[key]}
            )
            continue
        first_cell[key] = f"{row.sheet}!{get_column_letter(code_column)}{row.row}"
        for problem in reading.problems:
            _cell_problem(problems, row, problem, item_code, str(period))
        if reading.payload is not None:
            candidates.append((row, item, period, reading.payload, reading.justification))
    good = await _judge_state(session, plan, problems, candidates, clock(app))
    return Checked(plan_id, upload.unit_code, template_period, filled, problems.sorted(), good)


def _cell_problem(problems: _Problems, row: UploadRow, problem: CellProblem, item: str, period: str) -> None:
    column = input_column(row.kind, problem.field) if problem.field is not None else CODE_COLUMN
    problems.add(row, column, problem.code, item=item, period=period, args=problem.args, detail=problem.detail)


async def _judge_state(
    session: AsyncSession,
    plan: LoadedPlan,
    problems: _Problems,
    candidates: list[tuple[UploadRow, PlanItem, Period, dict[str, Any], str | None]],
    now: Any,
) -> list[_Good]:
    """Locks and write windows of the rows whose cells are right (a certified value may be sent again: it goes back
    for certification), then the payload rules."""
    guard = WriteGuard(session, plan.schedule)
    good: list[_Good] = []
    for row, item, period, payload, justification in candidates:
        refusal = await guard.refusal(item, period, now)
        if refusal is not None:
            problems.add(row, CODE_COLUMN, f"period_closed_{refusal.value}", item=item.code, period=str(period))
            continue
        try:
            canonical = normalise_payload(item, payload)
        except InvalidRegistration as exc:
            problems.add(
                row, _field_column(row, exc.field), "invalid", item=item.code, period=str(period), detail=str(exc)
            )
            continue
        if justification is None and needs_justification(item.justification_band, canonical):
            # The value is right; what is missing is why it deviates: named on the justification cell.
            column = input_column(row.kind, Field.JUSTIFICATION)
            problems.add(
                row,
                column,
                "justification_required",
                item=item.code,
                period=str(period),
                args={"when": _justify_when(item, None)},
            )
            continue
        good.append(_Good(row, item, period, payload, justification))
    return good


def report(checked: Checked) -> dict[str, Any]:
    return {
        "plan_id": checked.plan_id,
        "unit_code": checked.unit_code,
        "period": checked.period,
        "filled_rows": checked.filled,
        "ok": not checked.problems and checked.filled > 0,
        "problems": checked.problems,
    }


async def dry_run(
    app: FastAPI, session: AsyncSession, who: Principal, plan_id: str, data: bytes, language: str
) -> dict[str, Any]:
    return report(await check_upload(app, session, who, plan_id, data, language))


async def import_template(
    ctx: WriteContext, app: FastAPI, plan_id: str, data: bytes, language: str, *, reason: str | None
) -> dict[str, Any]:
    """Every filled row in one transaction through the bulk import (its audit ``registration.import``), or a 422
    listing every bad cell and nothing written."""
    checked = await check_upload(app, ctx.session, ctx.principal, plan_id, data, language)
    if checked.problems:
        raise ValidationFailed(checked.problems, f"{len(checked.problems)} bad cell(s); nothing was imported.")
    if not checked.good:
        raise ValidationFailed(
            [{"path": "file", "type": "empty_template", "message": _messages_empty(language)}],
            "No row of the template is filled in; nothing was imported.",
        )
    rows = [
        registrations_app.ImportRow(g.item.code, str(g.period), g.payload, None, None, g.justification)
        for g in checked.good
    ]
    try:
        created, updated = await registrations_app.import_registrations(
            ctx, app, plan_id, rows, reason=reason or f"Registration template {checked.unit_code} {checked.period}"
        )
    except ValidationFailed as exc:
        # A rule the import knows and the template's check did not (a later one): name the row's cells all the same.
        raise ValidationFailed(_import_errors(exc, checked, language), exc.detail) from exc
    return {**report(checked), "created": created, "updated": updated}


def _messages_empty(language: str) -> str:
    _ = _gettext(language)
    return str(_("No row of the template is filled in."))


def _import_errors(exc: ValidationFailed, checked: Checked, language: str) -> list[dict[str, Any]]:
    problems = _Problems(language, tuple(dict.fromkeys(g.upload_row.sheet for g in checked.good)))
    for error in (exc.extra or {}).get("errors") or []:
        index = error.get("row")
        if not isinstance(index, int) or not 0 <= index < len(checked.good):
            continue
        good = checked.good[index]
        path = str(error.get("path") or "")
        suffix = path.split("].", 1)[1] if "]." in path else ""
        code = "justification_required" if error.get("type") == "justification_required" else "invalid"
        problems.add(
            good.upload_row,
            _field_column(good.upload_row, suffix),
            code,
            item=good.item.code,
            period=str(good.period),
            args={"when": _justify_when(good.item, None)},
            detail=str(error.get("message") or ""),
        )
    return problems.sorted() or [{"path": "file", "type": "invalid", "message": exc.detail or ""}]


__all__ = ["TemplateFile", "check_upload", "digest", "dry_run", "import_template", "negotiate", "shown", "template"]
