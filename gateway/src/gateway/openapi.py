"""One OpenAPI document for the whole cluster: each service's paths under /api/<service>, its schemas
renamed <service>__<Name> so two services may both have a `Page`."""

from __future__ import annotations

import json
from typing import Any

import httpx


def merge(specs: dict[str, dict[str, Any]], *, version: str) -> dict[str, Any]:
    merged: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "metas API",
            "version": version,
            "description": "Every service of the metas cluster, as served through the gateway.",
        },
        "paths": {},
        "components": {
            "schemas": {},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
        },
        "security": [{"bearer": []}, {"apiKey": []}],
        "tags": [],
    }
    for name, spec in specs.items():
        text = json.dumps(spec).replace('"#/components/schemas/', f'"#/components/schemas/{name}__')
        spec = json.loads(text)
        for path, item in spec.get("paths", {}).items():
            for op in item.values():
                if isinstance(op, dict) and "operationId" in op:
                    op["operationId"] = f"{name}-{op['operationId']}"
                    op["tags"] = [f"{name}:{t}" for t in op.get("tags", [])] or [name]
            merged["paths"][f"/api/{name}{path}"] = item
        for schema_name, schema in spec.get("components", {}).get("schemas", {}).items():
            merged["components"]["schemas"][f"{name}__{schema_name}"] = schema
    return merged


async def fetch_specs(clients: dict[str, httpx.AsyncClient]) -> tuple[dict[str, dict[str, Any]], list[str]]:
    specs: dict[str, dict[str, Any]] = {}
    missing: list[str] = []
    for name, client in clients.items():
        try:
            resp = await client.get("/openapi.json", timeout=3.0)
            resp.raise_for_status()
            specs[name] = resp.json()
        except (httpx.HTTPError, ValueError):
            missing.append(name)
    return specs, missing
