"""The write envelope: every write route goes through the same steps, in this order, in the request's one
transaction (docs/architecture.md, "Writes"):

1. **replay** — a request carrying an ``Idempotency-Key`` already answered for this caller gets the first
   response again (status, body, headers, ``Idempotent-Replayed: true``) and writes nothing; the same key with
   another body (or route) is a 422;
2. **preconditions** — ``If-Match`` compares strongly against the resource's current ETag (428 when the route
   requires it and it is missing, 412 when stale or weak; ``*`` only where the route allows it);
   ``If-None-Match: *`` makes a create-only write (412 when the resource exists);
3. **the application call** — one function of the service's ``application`` package, given a ``WriteContext``
   (it may set ``ctx.status_code``, e.g. 201 when a PUT created, and ``ctx.headers``, e.g. ``Location``);
4. **audit** — the application records what changed with ``ctx.audit(entity, id, verb, ...)``: the action is
   always ``entity.verb`` (``registration.submit``, ``plan.approve``, ``lock.create``); a write that changed
   nothing says ``ctx.unchanged()`` and records nothing;
5. **remember** — the response is stored for the key in the same transaction (the write, its audit and its replay
   record commit together or not at all);
6. **ETag** — the new representation's ETag goes out in the ``ETag`` header.

In a router::

    @router.put("/{code}", response_model=ThingOut, responses=PROBLEM_RESPONSES)
    async def put_thing(code: Code, body: ThingIn, write: Write, who: Planner) -> Any:
        return await write(
            lambda ctx: things.put(ctx, code, body),
            payload=body,
            current_etag=lambda: things.current_etag(write.session, code),
            etag=lambda out: out.etag,
        )

The application function does the transaction's work and ``await ctx.audit("thing", code, "update",
before=..., after=...)``; the router returns its model (FastAPI checks it against ``response_model``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import Depends, FastAPI, Header, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from metas_kit.audit import AuditEventMixin, record_audit
from metas_kit.auth import Principal, current_principal
from metas_kit.db import SessionDep, request_session
from metas_kit.errors import PreconditionFailed, PreconditionRequired
from metas_kit.etag import if_match_passes, none_match
from metas_kit.idempotency import (
    IDEMPOTENCY_KEY_MAX,
    IdempotencyRecordMixin,
    idempotency_key,
    remember,
    replay,
)

T = TypeVar("T")
_VERB = "abcdefghijklmnopqrstuvwxyz_"


@dataclass(frozen=True)
class WriteModels:
    """The service's own tables the envelope writes to (each service maps the kit's mixins into its Base)."""

    audit: type[AuditEventMixin]
    idempotency: type[IdempotencyRecordMixin]


def configure_writes(app: FastAPI, *, audit: type[AuditEventMixin], idempotency: type[IdempotencyRecordMixin]) -> None:
    """Tell the envelope which tables are the service's audit trail and idempotency records (in create_app)."""
    app.state.write_models = WriteModels(audit, idempotency)


class AuditMissing(RuntimeError):
    """A write went through without recording an audit event or saying it changed nothing: a bug."""


@dataclass
class WriteContext:
    """What an application function gets: the transaction, the caller, and the audit/headers of the write."""

    session: AsyncSession
    principal: Principal
    request: Request
    models: WriteModels
    headers: dict[str, str] = field(default_factory=dict)
    # Set by an application whose answer depends on what happened (a PUT that created: 201, updated: 200).
    status_code: int | None = None
    actions: list[str] = field(default_factory=list)
    no_change: bool = False

    async def audit(
        self,
        entity: str,
        entity_id: object,
        verb: str,
        *,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        changes: dict[str, Any] | None = None,
        organisation: str | None = None,
    ) -> None:
        """Record ``entity.verb`` on ``entity``/``entity_id`` in this transaction (``organisation``: the owning
        organisation's code, so that organisation's auditors see it)."""
        if not entity or not verb or not set(verb) <= set(_VERB) or not set(entity) <= set(_VERB):
            raise ValueError(f"audit actions are entity.verb in lower case, got {entity!r}.{verb!r}")
        action = f"{entity}.{verb}"
        await record_audit(
            self.session,
            self.models.audit,
            self.principal,
            action=action,
            entity_type=entity,
            entity_id=str(entity_id),
            before=before,
            after=after,
            changes=changes,
            organisation=organisation,
        )
        self.actions.append(action)

    def unchanged(self) -> None:
        """The write changed nothing (a no-op PATCH): no audit event, and the ETag stays valid."""
        self.no_change = True


def _as_json(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    return jsonable_encoder(value)


@dataclass
class WriteEnvelope(Generic[T]):
    request: Request
    response: Response
    session: AsyncSession
    principal: Principal
    models: WriteModels

    async def __call__(
        self,
        apply: Callable[[WriteContext], Awaitable[T]],
        *,
        payload: Any,
        current_etag: Callable[[], Awaitable[str | None]] | None = None,
        if_match: Literal["required", "optional"] = "optional",
        allow_any: bool = False,
        status_code: int | Callable[[T], int] = 200,
        etag: Callable[[T], str | None] | None = None,
    ) -> T | JSONResponse:
        """Run one write through the envelope (see the module's docstring).

        ``payload`` is what identifies the request for ``Idempotency-Key`` (the parsed body; a model or any JSON-
        able value). ``current_etag`` reads the resource's current strong ETag (None when it does not exist yet)
        for the preconditions; ``if_match="required"`` makes a missing If-Match a 428. ``status_code`` and
        ``etag(result)`` shape the response (``status_code`` may be a function of the result, for a write that
        creates or not, e.g. 201 / 200); the result itself is returned for FastAPI to check and serialise.
        """
        # The request and the response are kept as JSON only for a retry-safe write (an Idempotency-Key).
        keyed = idempotency_key(self.request) is not None
        body = _as_json(payload) if keyed else None
        if keyed:
            replayed = await replay(self.session, self.models.idempotency, self.request, self.principal, body)
            if replayed is not None:
                return replayed
        await self._preconditions(current_etag, if_match, allow_any)
        ctx = WriteContext(self.session, self.principal, self.request, self.models)
        result = await apply(ctx)
        if not ctx.actions and not ctx.no_change:
            raise AuditMissing(f"{self.request.method} {self.request.url.path} wrote without an audit event")
        headers = dict(ctx.headers)
        tag = etag(result) if etag is not None else None
        if tag:
            headers["ETag"] = tag
        code = ctx.status_code or (status_code(result) if callable(status_code) else status_code)
        self.response.status_code = code
        for name, value in headers.items():
            self.response.headers[name] = value
        if keyed:
            remember(
                self.session,
                self.models.idempotency,
                self.request,
                self.principal,
                body,
                status_code=code,
                body=self._response_json(result),
                headers=headers,
            )
        return result

    def _response_json(self, result: Any) -> Any:
        """The body FastAPI will send: the result through the route's response model when it has one (an ORM
        row or a dict returned for a model is stored as the client sees it)."""
        route = self.request.scope.get("route")
        model = getattr(route, "response_model", None)
        if model is not None and not isinstance(result, BaseModel):
            return TypeAdapter(model).dump_python(
                TypeAdapter(model).validate_python(result, from_attributes=True), mode="json", by_alias=True
            )
        return _as_json(result)

    async def _preconditions(
        self,
        current_etag: Callable[[], Awaitable[str | None]] | None,
        if_match: Literal["required", "optional"],
        allow_any: bool,
    ) -> None:
        match_header = self.request.headers.get("if-match")
        none_header = self.request.headers.get("if-none-match")
        if match_header is None and if_match == "required":
            raise PreconditionRequired(
                "Send If-Match with the ETag you read, so concurrent edits cannot overwrite each other."
            )
        if match_header is None and none_header is None:
            return
        if current_etag is None:
            # The route has no representation to compare with: a precondition cannot be honoured, so it is refused
            # rather than ignored (RFC 9110 §13.2.1 lets a server answer 412 then).
            raise PreconditionFailed("This write does not support If-Match / If-None-Match.")
        current = await current_etag()
        if match_header is not None:
            if current is None:
                raise PreconditionFailed("The resource does not exist, so If-Match cannot match.")
            if not if_match_passes(match_header, current, allow_any=allow_any):
                raise PreconditionFailed(
                    "The resource changed since you read it (or the tag is weak); read it again and reapply it.",
                    extra={"current_etag": current},
                )
        if none_header is not None and none_match(none_header, current):
            raise PreconditionFailed(
                "The resource already exists in the state named by If-None-Match; nothing was changed.",
                extra={"current_etag": current} if current else None,
            )


def _write_models(request: Request) -> WriteModels:
    models = getattr(request.app.state, "write_models", None)
    if not isinstance(models, WriteModels):
        raise RuntimeError("configure_writes(app, audit=..., idempotency=...) was not called in create_app")
    return models


async def write_envelope(
    request: Request,
    response: Response,
    session: SessionDep,
    # Declared here so every write route documents them in the OpenAPI.
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=IDEMPOTENCY_KEY_MAX,
            description="Retry-safe writes: the same key (per caller) replays the first response.",
        ),
    ] = None,
    if_match: Annotated[str | None, Header(alias="If-Match", description="The strong ETag you read.")] = None,
    if_none_match: Annotated[
        str | None, Header(alias="If-None-Match", description="'*' to create only when absent.")
    ] = None,
) -> WriteEnvelope[Any]:
    # The principal read directly (kept on request.state), not as one more dependency to solve per write.
    return WriteEnvelope(request, response, session, await current_principal(request), _write_models(request))


Write = Annotated[WriteEnvelope[Any], Depends(write_envelope)]


def _header(name: str, description: str, max_length: int | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "description": description, "title": name}
    if max_length is not None:
        schema["maxLength"] = max_length
    return {"name": name, "in": "header", "required": False, "schema": schema, "description": description}


# What ``write_envelope``'s header parameters put in the OpenAPI, for a route that uses ``direct_write``:
# ``@router.put(..., openapi_extra=WRITE_HEADERS_OPENAPI)``.
WRITE_HEADERS_OPENAPI: dict[str, Any] = {
    "parameters": [
        _header(
            "Idempotency-Key",
            "Retry-safe writes: the same key (per caller) replays the first response.",
            IDEMPOTENCY_KEY_MAX,
        ),
        _header("If-Match", "The strong ETag you read."),
        _header("If-None-Match", "'*' to create only when absent."),
    ]
}


@asynccontextmanager
async def direct_write(request: Request, response: Response) -> AsyncIterator[WriteEnvelope[Any]]:
    """``Write`` without dependency injection, for the hottest write (the registration PUT; BENCHMARKS.md, request
    path): the same envelope on the request's session (``request_session``), committed when the block ends —
    inside the endpoint, before the answer, as ``SessionDep``'s function scope does — and rolled back when it
    raises. The route documents the headers with ``openapi_extra=WRITE_HEADERS_OPENAPI``; an Idempotency-Key
    too long gets the 422 the header's declaration gives."""
    models = _write_models(request)
    principal = await current_principal(request)
    key = request.headers.get("idempotency-key")
    if key is not None and len(key) > IDEMPOTENCY_KEY_MAX:
        # The answer the header's declaration gives in ``write_envelope``: a 422 naming the header.
        raise RequestValidationError(
            [
                {
                    "type": "string_too_long",
                    "loc": ("header", "Idempotency-Key"),
                    "msg": f"String should have at most {IDEMPOTENCY_KEY_MAX} characters",
                    "input": key,
                    "ctx": {"max_length": IDEMPOTENCY_KEY_MAX},
                }
            ]
        )
    async with request_session(request) as session:
        yield WriteEnvelope(request, response, session, principal, models)
