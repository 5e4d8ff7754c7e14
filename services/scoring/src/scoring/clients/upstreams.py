"""Execution as scoring reads it (current registrations) and locks it (a final evaluation), docs/api/execution.md.

Planning is read through the shared typed client (`metas_clients.planning`). Upstream failures are the kit's
502/503/504 problems (`metas_kit.upstream`); an unknown plan is a 404.
"""

from __future__ import annotations

from typing import Any

from metas_kit.errors import UpstreamError
from metas_kit.upstream import Upstream, segment


class ExecutionClient(Upstream):
    service = "execution"

    async def current(self, plan_id: str, period_to: str | None) -> dict[str, Any]:
        body, _ = await self.get_json(
            f"/v1/plans/{segment(plan_id)}/registrations/current",
            params={"period_to": period_to} if period_to else None,
            not_found=f"Execution has no plan {plan_id!r}.",
        )
        if not isinstance(body, dict):
            raise UpstreamError("The execution service answered with an unexpected document.")
        return body

    async def lock(self, plan_id: str, period: str, reason: str) -> None:
        """Lock a period (idempotent in execution): a final evaluation freezes what it read."""
        response = await self.request(
            "PUT", f"/v1/plans/{segment(plan_id)}/locks/{segment(period)}", json={"reason": reason}
        )
        if response.status_code not in (200, 201):
            raise self.unexpected(response, f"locks/{period}")
