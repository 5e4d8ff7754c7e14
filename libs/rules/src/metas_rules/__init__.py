"""metas_rules: scoring rules as data (`rules`) and the pure scoring engine (`engine`)."""

from metas_rules.rules import (
    RULE_KINDS,
    DelayTableRule,
    DerivedFromTeamsRule,
    GeneralRule,
    Polarity,
    QuarRealizationRule,
    RatioRule,
    Rule,
    StepTableRule,
    ThresholdRule,
    WeightedCompositeRule,
    dump_rule,
    parse_rule,
    rule_problems,
    rule_scale,
)
from metas_rules.tables import DelayBand, Interval, StepRow, StepTable

RULES_VERSION = "1.0.0"

__all__ = [
    "RULES_VERSION",
    "RULE_KINDS",
    "DelayBand",
    "DelayTableRule",
    "DerivedFromTeamsRule",
    "GeneralRule",
    "Interval",
    "Polarity",
    "QuarRealizationRule",
    "RatioRule",
    "Rule",
    "StepRow",
    "StepTable",
    "StepTableRule",
    "ThresholdRule",
    "WeightedCompositeRule",
    "dump_rule",
    "parse_rule",
    "rule_problems",
    "rule_scale",
]
