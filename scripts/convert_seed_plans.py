"""Convert the structured seed tables (YAML) into the two plan documents of data/plans/.

    python scripts/convert_seed_plans.py --source DIR [--out data/plans]

DIR holds ii_2024_quar.yaml, ii_2024_initiatives.yaml and ipsm_2014_acordo.yaml: the structured copies of the
seed documents' tables (data/README.md).

The output is the project's own copy of the seed plans (committed); `python -m planning.seed
data/plans` loads it. Every document is validated with the planning models before it is written,
and the facts of the source that are inconsistent (data/README.md) are kept as printed and listed
in `source_notes`, so they import as warnings.
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from metas_rules.seed_rules import indicator_rule_from_seed, product_rule_from_seed, quar_rule
from planning.domain.document import PlanDocument, dump_document, parse_document
from planning.domain.validation import validate

README = "data/README.md"


def num(value: Any) -> str | None:
    """Seed numbers (int, float read from the printed text, or decimal strings) as decimal text."""
    if value is None:
        return None
    if isinstance(value, float):
        return str(Decimal(repr(value)))
    return str(value)


def note(path: str, item: int, message: str) -> dict[str, Any]:
    return {"path": path, "message": message, "reference": f"{README} item {item}"}


def printed(**texts: Any) -> dict[str, str]:
    return {k.replace("__", "."): str(v) for k, v in texts.items() if v is not None}


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


# --- QUAR 2024 (seed 000) --------------------------------------------------------------------------


def quar_document(quar: dict[str, Any], inis: dict[str, Any]) -> dict[str, Any]:
    org = quar["organization"]
    units: list[dict[str, Any]] = [{"code": "II", "name": org["name"], "kind": "organisation", "as_printed": {}}]
    for u in inis["units"]:
        units.append(
            {
                "code": u["code"],
                "name": u["name"],
                "kind": "department",
                "parent_code": "II",
                "as_printed": printed(heading=u["heading_as_printed"]),
            }
        )

    strategic = []
    for so in quar["strategic_objectives"]:
        variants = []
        if so["peii_wording"] != so["quar_wording"]:
            variants.append({"source": "PEII Tabela 7", "text": so["peii_wording"]})
        strategic.append(
            {
                "code": so["code"],
                "name": so["quar_wording"],
                "description": so["peii_description"],
                "name_variants": variants,
                "as_printed": printed(peii_code=so["peii_code_as_printed"]),
            }
        )

    parameters = [
        {
            "code": p["code"],
            "name": p["name"],
            "weight": num(p["weight_percent"]),
            "definition": p["definition"],
            "as_printed": printed(weight=p["weight_as_printed"]),
        }
        for p in quar["parameters"]
    ]

    operational: list[dict[str, Any]] = []
    indicators: list[dict[str, Any]] = []
    for op in quar["operational_objectives"]:
        variants = [
            {"source": source, "text": op[key]}
            for key, source in (("name_table8", "Tabela 8"), ("name_relevant_table", "Objetivos relevantes"))
            if op.get(key) and op[key] != op["name"]
        ]
        operational.append(
            {
                "code": op["code"],
                "name": op["name"],
                "parameter_code": op["parameter"],
                "weight": num(op["weight_in_parameter_percent"]),
                "strategic_objective_codes": op["strategic_objectives"],
                "relevant": op["relevante"],
                "name_variants": variants,
                "as_printed": printed(
                    weight_in_final_evaluation=op["weight_in_final_evaluation_as_printed"],
                    relevante=op["relevante_as_printed"],
                    taxa_realizacao=op["taxa_realizacao_as_printed"],
                ),
            }
        )
        for ind in op["indicators"]:
            years = {y: ind[f"realizado_{y}"] for y in ("2021", "2022", "2023")}
            indicators.append(
                {
                    "code": ind["code"],
                    "name": ind["name"],
                    "unit_code": "II",
                    "objective_code": op["code"],
                    "polarity": ind["polarity"],
                    "periodicity": "monthly",
                    "measure_unit": ind["meta_2024"]["unit"],
                    "meta": num(ind["meta_2024"]["value"]),
                    "tolerance": num(ind["tolerancia"]["value"]),
                    "critical_value": num(ind["valor_critico"]["value"]),
                    "weight": num(ind["weight_percent"]),
                    "reference_values": {y: num(v["value"]) for y, v in years.items()},
                    "formula": ind["formula"],
                    "scoring_rule": quar_rule(),
                    "as_printed": {
                        "meta": ind["meta_2024"]["as_printed"],
                        "tolerance": ind["tolerancia"]["as_printed"],
                        "critical_value": ind["valor_critico"]["as_printed"],
                        **{f"reference_values.{y}": v["as_printed"] for y, v in years.items()},
                        **printed(formula=ind.get("formula_as_printed")),
                    },
                }
            )

    initiatives = []
    for ini in inis["initiatives"]:
        tc = ini.get("target_count")
        initiatives.append(
            {
                "code": ini["id"],
                "unit_code": ini["unit"],
                "name": ini["name"],
                "description": ini["description"],
                "strategic_objective_codes": ini["strategic_objectives"],
                "indicator_code": None,
                "meta": ini["meta"],
                "target_percent": num(ini["target_percent"]),
                "target_count": None if tc is None else {"value": num(tc["value"]), "unit_text": tc.get("unit_text")},
                "deadline": ini["deadline"],
                "sub_activities": [
                    {"name": s["label"], "weight": num(s["weight_percent"])} for s in ini.get("sub_activities") or []
                ],
                "as_printed": printed(deadline=ini.get("deadline_as_printed"), name__annex2=ini.get("name_annex2")),
            }
        )

    op_index = {o["code"]: i for i, o in enumerate(operational)}
    ind_index = {x["code"]: i for i, x in enumerate(indicators)}
    notes = [
        note(
            "strategic_objectives[0].name",
            1,
            "OE1 is worded differently in the QUAR and in the PEII (Tabela 7, Tabela 8, Anexos 2-3); "
            "the QUAR wording is the name, the PEII wording a variant. OE2 is spelt 'proactivos' in Tabela 7.",
        ),
        note(
            f"operational_objectives[{op_index['OP6']}].name_variants",
            2,
            "The 'Objetivos relevantes' table names OP6 'Consolidar a Arquitetura Técnica.' instead of "
            "'Evoluir a Arquitetura Tecnológica.'.",
        ),
        note(
            f"operational_objectives[{op_index['OP8']}].name_variants",
            2,
            "The 'Objetivos relevantes' table names OP8 with OP7's name; its QUAR name is "
            "'Dinamizar iniciativas de inovação e produtividade.'.",
        ),
        note(
            "plan.quar.relevance",
            3,
            "The relevance rule is printed with 'não relevantes'; the 7 objectives flagged 'relevante' are the "
            "top ones by final weight (10,5+10,5+10,0+8,8+8,8+8,4+6,4 = 63,4 %, printed 63%). Flags kept as printed.",
        ),
        note(f"indicators[{ind_index['Ind.1']}].name", 4, "Ind.1 has no indicator name in the QUAR (empty cell)."),
        note(
            f"indicators[{ind_index['Ind.13']}].formula",
            5,
            "The Ind.13 formula reads '... com sucesso + Nº total de questionários enviados) x 100%' with '+' "
            "where a division is meant. Copied as printed.",
        ),
        note(
            f"operational_objectives[{op_index['OP1']}].name_variants",
            6,
            "OP names vary slightly between the QUAR and Tabela 8 (OP1 'na'/'da', OP14 'das'/'de', 'OB9.'); "
            "Ind.19 is spelt 'Porcentagem'.",
        ),
        note(
            "units",
            10,
            "The glossary lists 'DOGPA' for the unit called DOGP everywhere else.",
        ),
        note(
            "initiatives",
            11,
            "14 initiative names are spelt differently in the unit tables and Anexo 2; the Anexo 2 text is kept "
            "in as_printed['name.annex2'].",
        ),
    ]
    for i, ini in enumerate(initiatives):
        if ini["deadline"] and not ini["deadline"].startswith("2024"):
            notes.append(
                note(
                    f"initiatives[{i}].deadline",
                    12,
                    f"'{ini['name']}' has a deadline before the plan year as printed "
                    f"({ini['as_printed'].get('deadline')}).",
                )
            )
        if ini["as_printed"].get("deadline", "").startswith("2024/"):
            notes.append(
                note(
                    f"initiatives[{i}].as_printed.deadline",
                    13,
                    f"'{ini['name']}' has its deadline printed year-first ('{ini['as_printed']['deadline']}').",
                )
            )

    return {
        "schema_version": 1,
        "organisation": {
            "code": "ii",
            "name": org["name"],
            "acronym": org["acronym"],
            "country": "PT",
            "as_printed": printed(header=org["header_as_printed"], ministry=org["ministry_as_printed"]),
        },
        "plan": {
            "id": "ii-2024-quar",
            "framework": "quar",
            "cycle_year": quar["cycle"],
            "title": f"QUAR {quar['cycle']} – {org['name']}",
            "version_label": quar["quar_version"],
            "issued_on": quar["quar_date"],
            "valid_from": f"{quar['cycle']}-01-01",
            "valid_to": f"{quar['cycle']}-12-31",
            "calendar": {"country": "PT", "subdiv": None, "closures": []},
            "registration_deadline": {"business_day": 10, "month_offset": 1},
            "quar": {"relevance": "explicit", "relevance_threshold_percent": "50"},
            "acordo": None,
            "source": {"file": quar["source"]["file"], "document": quar["source"]["document"]},
            "as_printed": printed(
                title=org["quar_title_as_printed"],
                issued_on=quar["quar_date_as_printed"],
                mission=quar["mission"],
                relevance_rule=quar["relevant_objectives"]["rule_as_printed"],
                relevant_weight_total=quar["relevant_objectives"]["relevant_weight_total_as_printed"],
                document_status=quar["source"]["document_status_stamp_as_printed"],
            ),
        },
        "units": units,
        "strategic_objectives": strategic,
        "parameters": parameters,
        "operational_objectives": operational,
        "indicators": indicators,
        "products": [],
        "initiatives": initiatives,
        "source_notes": notes,
    }


# --- IPSM Acordo de Resultados 2014 (seed 004) -----------------------------------------------------

TEAM_CODES = {
    "procuradoria": "PROC",
    "auditoria_seccional": "AUDSEC",
    "diretoria_saude": "DS",
    "diretoria_previdencia": "DP",
    "diretoria_planejamento_gestao_financas": "DPGF",
}
# Team-table objectives worded slightly differently from the strategic map (data/README.md item 33):
# they are the map objective, the team wording is kept as a name variant.
MAP_ALIASES = {
    _norm("Fortalecer a credibilidade e o reconhecimento do IPSM"): _norm(
        "FORTALECER A CREDIBILIDADE E RECONHIMENTO DO IPSM"
    ),
    _norm("Fortalecer a credibilidade e reconhecimento do IPSM"): _norm(
        "FORTALECER A CREDIBILIDADE E RECONHIMENTO DO IPSM"
    ),
    _norm("Fortalecer a racionalização de gastos"): _norm("Fortalecer a racionalização dos gastos"),
    _norm("Prestar Serviço de Qualidade"): _norm("PRESTAR SERVIÇOS DE QUALIDADE"),
}
PRODUCT_QUANTITY = {("diretoria_previdencia", "2"): "303"}


def acordo_document(seed: dict[str, Any]) -> dict[str, Any]:
    ag = seed["agreement"]
    smap = seed["strategic_map"]
    objectives: list[dict[str, Any]] = []
    by_norm: dict[str, dict[str, Any]] = {}
    for perspective in smap["perspectives_as_printed"]:
        for text in perspective["objectives"]:
            obj = {
                "code": f"SO{len(objectives) + 1:02d}",
                "name": text,
                "perspective": perspective["heading"],
                "in_strategic_map": True,
                "name_variants": [],
            }
            objectives.append(obj)
            by_norm[_norm(text)] = obj

    def objective_code(text: str | None) -> str | None:
        if not text:
            return None
        key = MAP_ALIASES.get(_norm(text), _norm(text))
        obj = by_norm.get(key)
        if obj is None:
            obj = {
                "code": f"SO{len(objectives) + 1:02d}",
                "name": text,
                "perspective": None,
                "in_strategic_map": False,
                "name_variants": [],
            }
            objectives.append(obj)
            by_norm[key] = obj
        if text != obj["name"] and text not in [v["text"] for v in obj["name_variants"]]:
            obj["name_variants"].append({"source": "team table", "text": text})
        return str(obj["code"])

    units: list[dict[str, Any]] = []
    indicators: list[dict[str, Any]] = []
    products: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    ind_at: dict[tuple[str, str], int] = {}
    prod_at: dict[tuple[str, str], int] = {}
    excludes = tuple(TEAM_CODES[k] for k in ("procuradoria", "auditoria_seccional"))
    for team in seed["teams"]:
        tcode = TEAM_CODES[team["key"]]
        leader = team["leader"]
        units.append(
            {
                "code": tcode,
                "name": team["name"],
                "kind": "team",
                "leader": {"name": leader["name"], "role": leader.get("role")},
                "sub_units": team["units"],
                "as_printed": printed(name=team["name_anexo_i_as_printed"], acronym=team.get("acronym")),
            }
        )
        last_objective: str | None = None
        for ind in team["indicators"]:
            detail = ind["detail"]
            so_text = ind.get("strategic_objective") or last_objective
            last_objective = so_text
            ref = ind["reference_values"]
            periodicity = detail.get("monitoring_periodicity") or detail.get("periodicity")
            ind_at[(team["key"], ind["item"])] = len(indicators)
            indicators.append(
                {
                    "code": f"{tcode}-I{ind['item']}",
                    "name": ind["name"],
                    "unit_code": tcode,
                    "objective_code": objective_code(so_text),
                    "polarity": ind["polarity"],
                    "periodicity": "monthly",
                    "measure_unit": detail.get("unit"),
                    "meta": num(ind["meta_2014"]["value"]),
                    "tolerance": None,
                    "critical_value": None,
                    "weight": num(ind["weight_percent"]),
                    "reference_values": {y: num(v["value"]) for y, v in ref.items()},
                    "formula": detail.get("formula"),
                    "description": detail.get("description"),
                    "data_source": detail.get("data_source")
                    or detail.get("data_and_proof_source")
                    or detail.get("source"),
                    "evidence_source": detail.get("proof_source") or detail.get("data_and_proof_source"),
                    "scoring_rule": indicator_rule_from_seed(ind, derived_excludes=excludes),
                    "as_printed": {
                        "meta": ind["meta_2014"]["as_printed"],
                        **{f"reference_values.{y}": v["as_printed"] for y, v in ref.items()},
                        **printed(
                            weight=ind.get("weight_as_printed"),
                            polarity=detail.get("polarity"),
                            periodicity=periodicity,
                            evaluation_periodicity=detail.get("evaluation_periodicity"),
                            performance_calculation=detail.get("performance_calculation")
                            if isinstance(detail.get("performance_calculation"), str)
                            else None,
                            objective=ind.get("strategic_objective"),
                            name__detail=detail.get("name") if detail.get("name") != ind["name"] else None,
                        ),
                    },
                }
            )
        last_objective = None
        for prod in team.get("products") or []:
            detail = prod["detail"]
            so_text = prod.get("strategic_objective") or last_objective
            last_objective = so_text
            pcode = f"{tcode}-P{prod['item']}"
            quantity = PRODUCT_QUANTITY.get((team["key"], prod["item"]))
            stages = [
                {
                    "code": f"{pcode}-E{s['stage']}",
                    "name": s["description"],
                    "due_date": s["due_date"],
                    "weight": None,
                    "acceptance_criterion": s.get("acceptance_criterion"),
                    "as_printed": printed(due_date=s.get("due_date_as_printed")),
                }
                for s in prod.get("sub_deliverables") or []
            ]
            prod_at[(team["key"], prod["item"])] = len(products)
            products.append(
                {
                    "code": pcode,
                    "unit_code": tcode,
                    "objective_code": objective_code(so_text),
                    "name": prod["action"],
                    "deliverable": prod["product_marco"],
                    "weight": num(prod["weight_percent"]),
                    "due_date": prod["due_date"],
                    "acceptance_criterion": detail.get("acceptance_criterion"),
                    "description": detail.get("description"),
                    "data_source": detail.get("data_source"),
                    "evidence_source": detail.get("proof_source"),
                    "quantity_target": quantity,
                    "stages": stages,
                    "scoring_rule": product_rule_from_seed(prod, quantity_target=quantity),
                    "as_printed": printed(
                        due_date=prod.get("due_date_as_printed"),
                        detail__due_date=detail.get("due_date_as_printed"),
                        name__detail=detail.get("name") if detail.get("name") != prod["action"] else None,
                        performance_calculation=detail.get("performance_calculation"),
                    ),
                }
            )

    def ipath(team: str, item: str) -> str:
        return f"indicators[{ind_at[(team, item)]}]"

    def ppath(team: str, item: str) -> str:
        return f"products[{prod_at[(team, item)]}]"

    notes += [
        note(
            f"{ppath('procuradoria', '1')}.as_printed.detail.due_date",
            24,
            "The detail block prints 'Data de entrega: 31/11/2014', a date that does not exist; the product "
            "table's 30/11/2014 is the due date used.",
        ),
        note(
            f"{ppath('procuradoria', '2')}.as_printed.detail.due_date",
            24,
            "Printed 31/11/2014 in the detail block (does not exist); 30/11/2014 from the product table is used.",
        ),
        note(
            f"{ppath('diretoria_previdencia', '4')}.as_printed.detail.due_date",
            24,
            "Printed 31/11/2014 in the detail block (does not exist); 30/11/2014 from the product table is used.",
        ),
        note(
            ppath("diretoria_previdencia", "4"),
            25,
            "The same product (fluxogram of the pension/benefit process for the Diretor-Geral) is pacted by "
            "Procuradoria item 2 (peso 20) and Diretoria de Previdência item 4 (peso 15). Both kept.",
        ),
        note(
            f"{ipath('diretoria_saude', '1')}.polarity",
            26,
            "Printed 'Polaridade: Menor melhor.' although more electronic processing is the goal; its meta 97 is "
            "below the 2013 value 97,56. Kept as printed (lower_is_better).",
        ),
        note(
            f"{ipath('diretoria_planejamento_gestao_financas', '05')}.scoring_rule",
            27,
            "Polarity 'Menor Melhor' but the own rule NOTA = VA/VM * 100 rewards higher spending; the legend "
            "defines VR, which the formula does not use. Kept as printed.",
        ),
        note(
            f"{ipath('diretoria_planejamento_gestao_financas', '01')}.meta",
            28,
            "Ociosidade: 2013 value 100 and meta 5, while by the meta table a reference index above 50 % gives a "
            "meta of 20 % or less; the reference index (06/03/2014) is not printed.",
        ),
        note(
            f"{ipath('diretoria_planejamento_gestao_financas', '03')}.scoring_rule",
            29,
            "Regionalização: reference values 0,98 / 0,99 (0-1 scale) but meta 90 (%); the step table has integer "
            "bands with gaps (89,5 %), read with gap policy row_below.",
        ),
        note(
            f"{ipath('diretoria_saude', '3')}.formula",
            30,
            "Formula printed '(A / B) + (C / D) / 2' without outer parentheses; the mean of the two is meant.",
        ),
        note(
            f"{ipath('diretoria_previdencia', '6')}.measure_unit",
            31,
            "Unit printed 'Percentual (%)' although the survey uses a 5-point scale.",
        ),
        note(
            "strategic_objectives",
            33,
            "'Adotar boas práticas de gestão' is the objective of indicators of four teams but is not in the "
            "strategic map (in_strategic_map false); other team wordings differ slightly from the map and are "
            "kept as name variants; the map prints 'RECONHIMENTO'.",
        ),
        note(
            f"{ipath('auditoria_seccional', '1')}.scoring_rule",
            36,
            "The PAA and 'Média das notas das equipes' are scored on a 0-10 scale (apurado/meta x 10), unlike "
            "the 0-100 scale of Anexo IV; the PAA scores zero below 70,00 % execution.",
        ),
        note(
            ppath("diretoria_previdencia", "2"),
            38,
            "'303 processos revisados' is scored by 'Regra Geral' with no delay table (delivered / 303 x 100); "
            "its objective is 50 % of 605 (302,5).",
        ),
        note(
            f"{ppath('diretoria_saude', '02')}.stages",
            40,
            "The source does not say how the three dated SIGAS stages combine; the product score is the mean "
            "of the stage scores (no stage weights).",
        ),
        note(
            f"{ipath('procuradoria', '1')}.scoring_rule",
            40,
            "OBS2 does not define the execution percentage for lower-is-better indicators: general rules use "
            "lower_execution 'seed' ((1 - (R - M) / M) x 100).",
        ),
    ]

    year = ag["year"]
    return {
        "schema_version": 1,
        "organisation": {
            "code": "ipsm",
            "name": ag["organization"]["name"],
            "acronym": ag["organization"]["acronym"],
            "country": "BR",
            "as_printed": {},
        },
        "plan": {
            "id": f"ipsm-{year}-acordo",
            "framework": "acordo_resultados",
            "cycle_year": year,
            "title": f"Acordo de Resultados – {ag['stage']}ª etapa – {year} – {ag['organization']['acronym']}",
            "version_label": f"{ag['stage']}ª etapa",
            "issued_on": ag["signature_date"],
            "valid_from": ag["vigencia"]["start"],
            "valid_to": ag["vigencia"]["end"],
            "calendar": {"country": "BR", "subdiv": "MG", "closures": []},
            "registration_deadline": {"business_day": 10, "month_offset": 1},
            "quar": None,
            "acordo": {"stage": ag["stage"], "productivity": {"n1_weight": "0.70", "n2_weight": "0.30"}},
            "source": {"file": seed["source"]["file"], "document": seed["source"]["document"]},
            "as_printed": printed(
                title=ag["title_as_printed"],
                issued_on=ag["signature_date_as_printed"],
                valid_to=ag["vigencia"]["as_printed"],
                registration_deadline=ag["registration_rule_as_printed"],
                productivity=seed["anexo_iv"]["productivity"]["formula_as_printed"],
                vision=smap["vision"],
                mission=smap["mission"],
            ),
        },
        "units": units,
        "strategic_objectives": objectives,
        "parameters": [],
        "operational_objectives": [],
        "indicators": indicators,
        "products": products,
        "initiatives": [],
        "source_notes": notes,
    }


def write(doc_data: dict[str, Any], out: Path) -> PlanDocument:
    doc = parse_document(doc_data)
    report = validate(doc)
    if report.errors:
        for e in report.errors:
            print(f"ERROR {e.path}: {e.message}", file=sys.stderr)
        raise SystemExit(f"{doc.plan.id}: {len(report.errors)} validation errors")
    header = (
        f"# Plan document {doc.plan.id} - generated by scripts/convert_seed_plans.py"
        " from the seed tables (data/README.md).\n"
        "# Do not edit by hand: re-run the converter. Shape: docs/api/planning.md.\n"
    )
    text = yaml.safe_dump(dump_document(doc), allow_unicode=True, sort_keys=False, width=110)
    out.write_text(header + text, encoding="utf-8")
    print(
        f"{out}: {len(doc.indicators)} indicators, {len(doc.products)} products, "
        f"{len(doc.initiatives)} initiatives, {len(report.warnings)} warnings"
    )
    return doc


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="folder of the structured seed tables (YAML)")
    parser.add_argument("--out", type=Path, default=Path("data/plans"))
    args = parser.parse_args(argv)

    def load(name: str) -> dict[str, Any]:
        data: dict[str, Any] = yaml.safe_load((args.source / name).read_text(encoding="utf-8"))
        return data

    args.out.mkdir(parents=True, exist_ok=True)
    write(quar_document(load("ii_2024_quar.yaml"), load("ii_2024_initiatives.yaml")), args.out / "ii-2024-quar.yaml")
    write(acordo_document(load("ipsm_2014_acordo.yaml")), args.out / "ipsm-2014-acordo.yaml")


if __name__ == "__main__":
    main()
