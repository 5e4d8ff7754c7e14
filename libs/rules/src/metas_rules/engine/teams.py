"""Team score with set-aside redistribution, productivity, and the order derived indicators need."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from operator import itemgetter
from typing import TYPE_CHECKING, NamedTuple

from metas_rules.decimal_ops import ZERO, q2
from metas_rules.engine.trace import Record, Score, Step, Trace, _tuple_new

N1_WEIGHT = Decimal("0.70")
N2_WEIGHT = Decimal("0.30")


class WeightedItem(NamedTuple):
    code: str
    weight: Decimal
    score: Score


class TeamScore(Record):
    """A team grade; `steps` is the explanation, built when it is read (`team_score` records only its items)."""

    __slots__ = ()
    _fields = ("unit_code", "value", "complete", "steps", "set_aside", "missing")
    _steps_at = 3

    def __new__(
        cls,
        unit_code: str,
        value: Decimal | None,
        complete: bool,
        steps: tuple[Step, ...],
        set_aside: tuple[str, ...] = (),
        missing: tuple[str, ...] = (),
    ) -> TeamScore:
        return _tuple_new(cls, (unit_code, value, complete, steps, set_aside, missing))

    if TYPE_CHECKING:
        unit_code: str
        value: Decimal | None
        complete: bool
        set_aside: tuple[str, ...]
        missing: tuple[str, ...]
    else:
        unit_code = property(itemgetter(0))
        value = property(itemgetter(1))
        complete = property(itemgetter(2))
        set_aside = property(itemgetter(4))
        missing = property(itemgetter(5))

    @property
    def steps(self) -> tuple[Step, ...]:
        return self._steps()

    def to_dict(self) -> dict[str, object]:
        return {
            "unit_code": self.unit_code,
            "value": None if self.value is None else format(self.value, "f"),
            "complete": self.complete,
            "set_aside": list(self.set_aside),
            "missing": list(self.missing),
            "steps": [s.to_dict() for s in self.steps],
        }


def team_score(unit_code: str, items: Sequence[WeightedItem]) -> TeamScore:
    """Σ(score × weight) / Σ weight over the scored items (0–100, 2 places half up).

    A goal set aside leaves both sums, so its weight is shared out among the others in proportion
    to their weights; an item without a score (missing, pending, not scorable) does the same but
    makes the grade incomplete.

    One pass over the items; the explanation is `_traced_team_score`'s, built from the same items when read.
    """
    kept = tuple(items)
    total_w = numerator = ZERO
    set_aside: list[str] = []
    missing: list[str] = []
    for code, weight, score in kept:
        status, value = score[1], score[2]  # score.status, score.value (a Score is a tuple; this runs per item)
        if status == "scored" and value is not None:  # score.scored
            total_w += weight
            numerator += value * weight
        elif status == "set_aside":
            set_aside.append(code)
        else:
            missing.append(code)
    counted = len(kept) - len(set_aside) - len(missing)
    grade = None if not counted or total_w == 0 else q2(numerator / total_w)
    return _tuple_new(
        TeamScore,
        (
            unit_code,
            grade,
            grade is not None and not missing,
            None,
            tuple(set_aside),
            tuple(missing),
            _team_steps,
            unit_code,
            kept,
        ),
    )


def _team_steps(unit_code: str, items: tuple[WeightedItem, ...]) -> tuple[Step, ...]:
    return _traced_team_score(unit_code, items).steps


def _traced_team_score(unit_code: str, items: Sequence[WeightedItem]) -> TeamScore:
    """`team_score` with its explanation recorded as it goes (what `TeamScore.steps` shows)."""
    trace = Trace()
    counted = [i for i in items if i.score.scored]
    set_aside = tuple(i.code for i in items if i.score.status == "set_aside")
    missing = tuple(i.code for i in items if not i.score.scored and i.score.status != "set_aside")
    if not counted:
        trace.add(
            "no scored goal: no team grade", values={"set aside": ", ".join(set_aside), "missing": ", ".join(missing)}
        )
        return TeamScore(unit_code, None, False, tuple(trace.steps), set_aside, missing)
    total_w = sum((i.weight for i in counted), ZERO)
    all_w = sum((i.weight for i in items), ZERO)
    if total_w == 0:
        # checked before the shares below, which divide by it
        trace.add("the remaining weights sum to 0: no team grade")
        return TeamScore(unit_code, None, False, tuple(trace.steps), set_aside, missing)
    if set_aside or missing:
        left_out = sum((i.weight for i in items if not i.score.scored), ZERO)
        trace.add(
            "weights of the goals left out are shared among the others in proportion",
            formula="effective weight = weight × Σ all weights / Σ remaining weights",
            values={
                "left out": ", ".join((*set_aside, *missing)),
                "left-out weight": left_out,
                **{i.code: f"{i.weight} → {q2(i.weight * all_w / total_w)}" for i in counted},
            },
        )
    numerator = sum((i.score.value * i.weight for i in counted if i.score.value is not None), ZERO)
    value = q2(numerator / total_w)
    trace.add(
        "team grade = Σ(score × weight) / Σ weight",
        formula=" + ".join(f"{i.score.value} × {i.weight}" for i in counted) + f" over {total_w}",
        values={i.code: f"{i.score.value} × {i.weight}" for i in counted},
        result=value,
    )
    return TeamScore(unit_code, value, not missing, tuple(trace.steps), set_aside, missing)


def productivity(
    n1: Decimal, n2: Decimal, *, n1_weight: Decimal = N1_WEIGHT, n2_weight: Decimal = N2_WEIGHT
) -> tuple[Decimal, Step]:
    """Productivity per team = 0.70 × N1 + 0.30 × N2 (2 places half up)."""
    value = q2(n1_weight * n1 + n2_weight * n2)
    step = Step(
        description="productivity = N1 weight × N1 + N2 weight × N2",
        formula=f"{n1_weight} × N1 + {n2_weight} × N2",
        raw_values=(("N1", n1), ("N2", n2)),
        raw_result=value,
    )
    return value, step


class DependencyCycleError(ValueError):
    """Derived indicators read each other's teams in a cycle."""


def team_order(units: Iterable[str], depends_on: Mapping[str, Iterable[str]]) -> list[str]:
    """Teams in an order where every team comes after the teams its derived indicators read.

    Deterministic (ties in input order); raises DependencyCycleError naming the cycle's teams.
    """
    pending = list(dict.fromkeys(units))
    deps = {u: set(depends_on.get(u, ())) & set(pending) for u in pending}
    order: list[str] = []
    # Each round places at least one team, so as many rounds as teams always suffice: the loop is bounded
    # even if a bug stopped it from making progress (it then reports a cycle instead of spinning).
    for _ in range(len(pending)):
        ready = [u for u in pending if deps[u] <= set(order)]
        if not ready:
            break
        order.extend(ready)
        pending = [u for u in pending if u not in ready]
    if pending:
        raise DependencyCycleError("dependency cycle between teams: " + ", ".join(sorted(pending)))
    return order
