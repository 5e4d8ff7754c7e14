"""/v1/rules: the scoring-rule schema (rules as data) and a static check of one rule."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, ValidationError

import metas_rules
from metas_kit.auth import Reader
from metas_kit.bounds import JsonObject
from metas_kit.errors import PROBLEM_RESPONSES, ValidationFailed
from metas_kit.numbers import Measure, to_decimal
from metas_rules import dump_rule, parse_rule, rule_problems
from metas_rules.rules import rule_json_schema

router = APIRouter(prefix="/v1/rules", tags=["rules"])


class RuleCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rule: JsonObject
    item: Literal["indicator", "product"] = "indicator"
    polarity: Literal["higher_is_better", "lower_is_better"] = "higher_is_better"
    meta: Measure | None = None
    tolerance: Measure | None = None
    critical_value: Measure | None = None
    reference_value: Measure | None = Field(None, description="V0, the previous period's value")


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None else to_decimal(text)


@router.get("/schema", responses=PROBLEM_RESPONSES, summary="JSON Schema of a scoring rule (every kind)")
async def schema(_who: Reader) -> dict[str, Any]:
    return {"version": metas_rules.RULES_VERSION, "kinds": list(metas_rules.RULE_KINDS), "schema": rule_json_schema()}


@router.post(":check", responses=PROBLEM_RESPONSES, summary="Parse a rule and list its static problems")
async def check(body: RuleCheck, _who: Reader) -> dict[str, Any]:
    try:
        rule = parse_rule(body.rule)
    except ValidationError as exc:
        errors = [{"path": "rule." + ".".join(map(str, e["loc"])), "message": e["msg"]} for e in exc.errors()]
        raise ValidationFailed(errors, "The rule does not match the schema.") from exc
    problems = rule_problems(
        rule,
        polarity=body.polarity,
        meta=_decimal(body.meta),
        tolerance=_decimal(body.tolerance),
        critical_value=_decimal(body.critical_value),
        reference_value=_decimal(body.reference_value),
        item=body.item,
    )
    return {"rule": dump_rule(rule), "problems": problems, "scorable": not problems}
