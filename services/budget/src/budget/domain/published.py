"""The published PRR C17-i03 tables (seed 000) as immutable domain objects.

Built from the seed document (``data/budget/prr_c17_i03.yaml``) exactly as printed: nothing is
recomputed or "fixed" here; reconciliation.py compares the figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

# Tabela 19 columns: the year, the seed key and the phase the figure belongs to.
# 2021-2022 are "Execução" (executed); 2023-2024 are "Execução prevista" (forecast = planned).
TABLE19_YEARS: tuple[tuple[int, str, str], ...] = (
    (2021, "execucao_2021", "executed"),
    (2022, "execucao_2022", "executed"),
    (2023, "execucao_prevista_2023", "planned"),
    (2024, "execucao_prevista_2024", "planned"),
)
ANNEX5_YEAR = 2024
ANNEX4_YEAR = 2024


class SeedError(ValueError):
    """The seed document does not have the expected shape."""


def _dec(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool | float):
        raise SeedError(f"amount {value!r} must be an integer or a decimal string")
    return Decimal(str(value))


def _req(value: Any, what: str) -> Decimal:
    dec = _dec(value)
    if dec is None:
        raise SeedError(f"{what} is missing")
    return dec


@dataclass(frozen=True, slots=True)
class Eixo:
    number: int
    name: str | None
    name_annex3: str | None
    ii_responsible: bool
    total_cost: Decimal | None  # Figura 13 TOTAL
    budget_2024_figure13: Decimal | None
    table19: Mapping[int, Decimal | None]  # year -> eixo row of Tabela 19
    annex4_encargo: Decimal | None
    # Anexo 3: the QUAR objectives the eixo serves (Eixo 3 has no OE printed; Eixo 5 is mapped though not the II's)
    strategic_objective: str | None = None
    operational_objectives: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ProcurementLine:
    subinvestment: str  # Tabela 19 code
    position: int  # 1-based order within the subinvestment in Anexo 4
    description: str
    npd: str | None
    amount: Decimal
    amount_as_printed: str


@dataclass(frozen=True, slots=True)
class SubInvestment:
    code_table19: str
    code_annex4: str
    eixo: int
    name_table19: str
    name_section33: str | None
    name_annex4: str | None
    table19: Mapping[int, Decimal]
    total_estimated: Decimal | None  # Anexo 4 "total estimado"
    lines: tuple[ProcurementLine, ...]


@dataclass(frozen=True, slots=True)
class RubricLine:
    rubric_code: str
    description: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class FundItem:
    code: str
    description: str
    eixo: int
    spending: str  # "current" (Administração) or "capital"
    amount: Decimal
    rubrics: tuple[RubricLine, ...]


@dataclass(frozen=True, slots=True)
class FundGroup:
    name: str
    spending: str
    subtotal: Decimal
    fund_items: tuple[FundItem, ...]


@dataclass(frozen=True, slots=True)
class Annex5:
    groups: tuple[FundGroup, ...]
    total: Decimal

    @property
    def fund_items(self) -> tuple[FundItem, ...]:
        return tuple(f for g in self.groups for f in g.fund_items)


SECTION42_COLUMNS = ("corrente_2023", "prr_2023", "total_2023", "corrente_2024", "prr_2024", "total_2024")


@dataclass(frozen=True, slots=True)
class Section42Row:
    code: str | None
    description: str
    values: Mapping[str, Decimal]  # SECTION42_COLUMNS + variacao_abs
    variacao_pct_as_printed: str


@dataclass(frozen=True, slots=True)
class Section42:
    rows: tuple[Section42Row, ...]
    total: Section42Row
    global_budget_2024_text: Decimal | None


@dataclass(frozen=True, slots=True)
class PublishedBudget:
    programme: str
    component: str
    investment_code: str
    investment_name: str
    total_cost: Decimal  # Secção 3.2 / Figura 13 "181.589.884 EUR"
    execution_2024_text: Decimal  # Secção 3.2 text "61.488.597EUR"
    eixos: tuple[Eixo, ...]
    subinvestments: tuple[SubInvestment, ...]
    table19_totals: Mapping[int, Decimal]
    annex5: Annex5
    section42: Section42

    def eixo(self, number: int) -> Eixo:
        for e in self.eixos:
            if e.number == number:
                return e
        raise KeyError(number)

    def subinvestments_of(self, eixo: int) -> tuple[SubInvestment, ...]:
        return tuple(s for s in self.subinvestments if s.eixo == eixo)

    def subinvestment(self, code: str) -> SubInvestment:
        """By either code scheme: Tabela 19 (1.1.1) or Anexo 4 (1.1)."""
        for s in self.subinvestments:
            if code in (s.code_table19, s.code_annex4):
                return s
        raise KeyError(code)

    @property
    def funded_eixos(self) -> tuple[Eixo, ...]:
        """Eixos with printed figures (1-4; Eixo 5 is not the II's and has none)."""
        return tuple(e for e in self.eixos if e.ii_responsible and e.total_cost is not None)


def _table19(row: Mapping[str, Any]) -> dict[int, Decimal | None]:
    return {year: _dec(row.get(key)) for year, key, _phase in TABLE19_YEARS}


def _spending_of_group(name: str) -> str:
    # Tabela 25 groups are "Administração PRR" (current spending) and "Capital PRR".
    return "capital" if "capital" in name.lower() else "current"


def parse_published(doc: Mapping[str, Any]) -> PublishedBudget:
    """Build the domain view of the seed document; raises SeedError on a malformed document."""
    try:
        inv = doc["investment"]
        annex3 = {int(a["eixo"]): a for a in doc.get("annex3_prr_eixo_mapping") or ()}
        eixos = tuple(
            Eixo(
                number=int(e["number"]),
                name=e.get("name"),
                name_annex3=e.get("name_annex3"),
                ii_responsible=bool(e.get("ii_responsible")),
                total_cost=_dec(e.get("total_cost_eur")),
                budget_2024_figure13=_dec(e.get("budget_2024_figure13_eur")),
                table19=_table19(e),
                annex4_encargo=_dec(e.get("annex4_encargo_eur")),
                strategic_objective=annex3.get(int(e["number"]), {}).get("strategic_objective"),
                operational_objectives=tuple(annex3.get(int(e["number"]), {}).get("operational_objectives") or ()),
            )
            for e in doc["eixos"]
        )
        subs = []
        for s in doc["subinvestments"]:
            code = str(s["code_table19"])
            lines = tuple(
                ProcurementLine(
                    subinvestment=code,
                    position=i,
                    description=str(line["description"]),
                    npd=None if line.get("npd") is None else str(line["npd"]),
                    amount=_req(line["amount_eur"], f"Anexo 4 line {code}#{i}"),
                    amount_as_printed=str(line.get("amount_as_printed", "")),
                )
                for i, line in enumerate(s.get("annex4_lines") or (), start=1)
            )
            t19 = {y: _req(v, f"Tabela 19 {code} {y}") for y, v in _table19(s).items()}
            subs.append(
                SubInvestment(
                    code_table19=code,
                    code_annex4=str(s["code_annex4"]),
                    eixo=int(s["eixo"]),
                    name_table19=str(s["name_table19"]),
                    name_section33=s.get("name_section33"),
                    name_annex4=s.get("name_annex4"),
                    table19=t19,
                    total_estimated=_dec(s.get("annex4_total_estimado_eur")),
                    lines=lines,
                )
            )
        a5 = doc["annex5_prr_execution_2024_by_rubric"]
        groups = tuple(
            FundGroup(
                name=str(g["group_as_printed"]),
                spending=_spending_of_group(str(g["group_as_printed"])),
                subtotal=_req(g["subtotal_eur"], "Anexo 5 subtotal"),
                fund_items=tuple(
                    FundItem(
                        code=str(f["fund_item"]),
                        description=str(f["description"]),
                        eixo=int(f["eixo"]),
                        spending=_spending_of_group(str(g["group_as_printed"])),
                        amount=_req(f["amount_eur"], f"Anexo 5 {f['fund_item']}"),
                        rubrics=tuple(
                            RubricLine(
                                rubric_code=str(r["rubric_code"]),
                                description=str(r["rubric_description"]),
                                amount=_req(r["amount_eur"], f"Anexo 5 {f['fund_item']} {r['rubric_code']}"),
                            )
                            for r in f["rubrics"]
                        ),
                    )
                    for f in g["fund_items"]
                ),
            )
            for g in a5["groups"]
        )
        s42 = doc["section_4_2_budget"]

        def row42(r: Mapping[str, Any]) -> Section42Row:
            cols = (*SECTION42_COLUMNS, "variacao_abs")
            return Section42Row(
                code=r.get("code"),
                description=str(r["description"]),
                values={c: _req(r[c], f"Secção 4.2 {r['description']} {c}") for c in cols},
                variacao_pct_as_printed=str(r["variacao_pct_as_printed"]),
            )

        totals = doc["table19_totals"]
        return PublishedBudget(
            programme=str(inv["programme"]),
            component=str(inv["component"]),
            investment_code=str(inv["investment_code"]),
            investment_name=str(inv["name"]),
            total_cost=_req(inv["ii_total_estimated_cost_eur"], "investment total cost"),
            execution_2024_text=_req(inv["execucao_global_prevista_2024_eur"], "Secção 3.2 2024 figure"),
            eixos=eixos,
            subinvestments=tuple(subs),
            table19_totals={y: _req(totals[key], f"Tabela 19 Totais {y}") for y, key, _p in TABLE19_YEARS},
            annex5=Annex5(groups=groups, total=_req(a5["total_eur"], "Anexo 5 TOTAL")),
            section42=Section42(
                rows=tuple(row42(r) for r in s42["rows"]),
                total=row42(s42["total_row"]),
                global_budget_2024_text=_dec(s42.get("global_budget_2024_eur")),
            ),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise SeedError(f"seed document is malformed: {exc!r}") from exc
