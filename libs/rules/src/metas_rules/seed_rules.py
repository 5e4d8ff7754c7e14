"""Translate the `scoring:` blocks of the structured seed tables (data/README.md) into rule documents.

Shared so the plan converter (planning) and the golden tests (scoring) read the seeds the same
way. Returns plain dicts accepted by `parse_rule`. Readings taken where the seed is ambiguous:
- regionalisation step table: integer bands leave gaps (89.5 %); gap policy `row_below`
  (a value that has not reached the next band scores the band under it);
- "média das notas das equipes": derived_from_teams, excluding the two teams the text names.
"""

from __future__ import annotations

from typing import Any

SEED_DERIVED_EXCLUDES = ("procuradoria", "auditoria_seccional")


def _interval(src: dict[str, Any]) -> dict[str, Any]:
    return {
        "min": None if src.get("min") is None else str(src["min"]),
        "min_inclusive": True if src.get("min_inclusive") is None else bool(src["min_inclusive"]),
        "max": None if src.get("max") is None else str(src["max"]),
        "max_inclusive": True if src.get("max_inclusive") is None else bool(src["max_inclusive"]),
    }


def _score_table(rows: list[dict[str, Any]], *, gap: str = "error") -> dict[str, Any]:
    out = []
    for row in rows:
        label = next((str(v) for k, v in row.items() if k.endswith("_as_printed")), None)
        out.append({"intervals": [_interval(row["interval"])], "value": str(row["nota"]), "label": label})
    return {"rows": out, "gap": gap}


def _buckets(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "rows": [
            {
                "intervals": [_interval(i) for i in row["intervals"]],
                "value": str(row["value"]),
                "label": row.get("range_as_printed"),
            }
            for row in rows
        ],
        "gap": "error",
    }


def indicator_rule_from_seed(
    indicator: dict[str, Any], *, derived_excludes: tuple[str, ...] = SEED_DERIVED_EXCLUDES
) -> dict[str, Any]:
    """Rule document for one indicator of ipsm_2014_acordo.yaml (teams[].indicators[])."""
    scoring = indicator["scoring"]
    name = scoring["rule"]
    if name == "general":
        return {"kind": "general"}
    if name == "ratio":
        return {"kind": "ratio", "scale": 100}
    if name == "ratio_times_10":
        if scoring.get("depends_on"):
            return {
                "kind": "derived_from_teams",
                "exclude_units": list(derived_excludes),
                "team_grade_scale": 10,
                "scale": 10,
            }
        return {"kind": "ratio", "scale": 10}
    if name == "ratio_times_10_with_floor":
        return {
            "kind": "ratio",
            "scale": 10,
            "zero_below_result": str(scoring["zero_below_execution_percent"]),
        }
    if name == "threshold_with_meta_table":
        rows = [
            {
                "intervals": [_interval(r["reference_index"])],
                "value": str(r["meta_max_idle_percent"]),
                "label": r.get("reference_index_as_printed"),
            }
            for r in scoring["meta_table"]
        ]
        return {
            "kind": "threshold",
            "pass_when": "at_most_meta",
            "meta_table": {"rows": rows, "gap": "error"},
        }
    if name == "bucket_tables_then_score_table":
        return {
            "kind": "weighted_composite",
            "components": [
                {
                    "code": "X",
                    "name": "Execução quantitativa",
                    "weight": "0.5",
                    "buckets": _buckets(scoring["x"]["buckets"]),
                },
                {
                    "code": "Y",
                    "name": "Execução qualitativa",
                    "weight": "0.5",
                    "buckets": _buckets(scoring["y"]["buckets"]),
                },
            ],
            "multiplier": "100",
            "table": _score_table(scoring["score_table"]),
        }
    if name == "weighted_composite_then_step_table":
        return {
            "kind": "weighted_composite",
            "components": [
                {"code": c["code"], "name": c.get("name"), "weight": str(c["weight"])} for c in scoring["components"]
            ],
            "multiplier": "1",
            "table": _score_table(scoring["score_table"], gap="row_below"),
        }
    raise ValueError(f"unknown seed indicator rule {name!r}")


def product_rule_from_seed(product: dict[str, Any], *, quantity_target: str | None = None) -> dict[str, Any]:
    """Rule document for one product of ipsm_2014_acordo.yaml (teams[].products[]).

    A product scored by "Regra Geral" with a quantity target ("303 processos revisados") is a
    no-V0 ratio delivered / target × 100 when `quantity_target` is given, else the general
    delay table.
    """
    name = product["scoring"]["rule"]
    if name == "delay_bands":
        bands = [
            {
                "days_min": b["days_late_min"],
                "days_max": b["days_late_max"],
                "score": str(b["nota"]),
                "label": b.get("band_as_printed"),
            }
            for b in product["delay_bands"]
        ]
        return {"kind": "delay_table", "bands": bands, "beyond_score": "0"}
    if name == "general":
        if quantity_target is not None:
            return {"kind": "ratio", "scale": 100, "target": quantity_target}
        return {"kind": "delay_table"}
    raise ValueError(f"unknown seed product rule {name!r}")


def quar_rule() -> dict[str, Any]:
    """Every QUAR indicator of ii_2024_quar.yaml: realization with the default constants."""
    return {"kind": "quar_realization", "ceiling": "125", "below_band": "band_edge"}
