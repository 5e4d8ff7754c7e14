"""Pure scoring engine: no HTTP, no SQL. Every score carries an explanation trace."""

from metas_rules.engine.acordo import AcordoPlan, AcordoResult, evaluate_acordo, team_dependencies
from metas_rules.engine.calendar import last_business_day_of_january, product_cutoff
from metas_rules.engine.facts import (
    Delivery,
    IndicatorFacts,
    Observation,
    ProductFacts,
    StageFacts,
)
from metas_rules.engine.indicators import revised_planned_value, score_indicator
from metas_rules.engine.inverse import (
    InverseAnswer,
    latest_delivery_for_score,
    required_part_score,
    required_result,
)
from metas_rules.engine.products import days_late, score_product
from metas_rules.engine.quar import (
    classify,
    deviation_percent,
    final_mention,
    quar_rate,
    relevant_objectives,
)
from metas_rules.engine.quar_plan import (
    QuarObjective,
    QuarParameter,
    QuarPlan,
    QuarResult,
    evaluate_quar,
    global_weights,
)
from metas_rules.engine.teams import (
    DependencyCycleError,
    TeamScore,
    WeightedItem,
    productivity,
    team_order,
    team_score,
)
from metas_rules.engine.trace import Score, Step

__all__ = [
    "AcordoPlan",
    "AcordoResult",
    "Delivery",
    "DependencyCycleError",
    "IndicatorFacts",
    "InverseAnswer",
    "Observation",
    "ProductFacts",
    "QuarObjective",
    "QuarParameter",
    "QuarPlan",
    "QuarResult",
    "Score",
    "StageFacts",
    "Step",
    "TeamScore",
    "WeightedItem",
    "classify",
    "days_late",
    "deviation_percent",
    "evaluate_acordo",
    "evaluate_quar",
    "final_mention",
    "global_weights",
    "last_business_day_of_january",
    "latest_delivery_for_score",
    "product_cutoff",
    "productivity",
    "quar_rate",
    "relevant_objectives",
    "required_part_score",
    "required_result",
    "revised_planned_value",
    "score_indicator",
    "score_product",
    "team_dependencies",
    "team_order",
    "team_score",
]
