"""The certification guard of evidence: kept apart from application/evidence.py so the certify path
(application/registrations.py) can import it without importing the evidence flows (which use the workflow's guards)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from execution.db.evidence import count_evidence, get_requirement
from execution.db.models import Registration
from metas_kit.errors import Conflict


class EvidenceRequired(Conflict):
    type_slug, title = "evidence-required", "Evidence required"


async def require_evidence_to_certify(session: AsyncSession, reg: Registration) -> None:
    """The certification guard: an item that requires evidence is certified only with at least one file attached
    to the registration. Called by the certify path before it changes anything."""
    requirement = await get_requirement(session, reg.plan_id, reg.item_code)
    if requirement is None or await count_evidence(session, reg.id) > 0:
        return
    raise EvidenceRequired(
        f"{reg.item_code} for {reg.period} cannot be certified without evidence: the plan requires "
        f"{requirement.source!r} and no file is attached.",
        extra={"item_code": reg.item_code, "period": reg.period, "source": requirement.source},
    )
