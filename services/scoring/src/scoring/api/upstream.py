"""Access to the upstream clients created in the app's lifespan."""

from __future__ import annotations

from fastapi import Request

from scoring.clients.upstreams import ExecutionClient, PlanningClient


def clients(request: Request) -> tuple[PlanningClient, ExecutionClient]:
    return request.app.state.planning, request.app.state.execution
