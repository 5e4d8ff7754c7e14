"""The upstream clients the app's lifespan created, handed to the application functions."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from metas_clients.planning import PlanningClient
from scoring.clients.upstreams import ExecutionClient


@dataclass(frozen=True, slots=True)
class Upstreams:
    planning: PlanningClient
    execution: ExecutionClient


def upstreams(request: Request) -> Upstreams:
    return Upstreams(request.app.state.planning, request.app.state.execution)
