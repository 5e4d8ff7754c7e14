"""Sessions: opened, checked and ended by the gateway (the `service` role) for the people it signs in. Tokens
travel in bodies, never in paths, so they stay out of access logs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from accounts.api.accounts import out
from accounts.api.schemas import ExternalSignIn, ResolvedOut, SessionOut, SessionToken, SignIn
from accounts.application import accounts as admin
from accounts.application import sessions as app
from accounts.deps import ContextDep, DatabaseDep, ServiceCaller, SessionDep
from metas_kit.errors import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1/sessions", tags=["sessions"])
THROTTLED: dict[int | str, dict[str, Any]] = {
    429: {"description": "Too many failed sign-ins (Retry-After)", "content": {"application/problem+json": {}}}
}


@router.post(
    "", status_code=201, summary="Sign in with username and password", responses={**PROBLEM_RESPONSES, **THROTTLED}
)
async def sign_in(body: SignIn, db: DatabaseDep, who: ServiceCaller, ctx: ContextDep) -> SessionOut:
    opened = await app.sign_in(
        db, who, ctx, username=body.username, password=body.password, address=body.client_address
    )
    return SessionOut(token=opened.token, expires_at=opened.expires_at, account=out(opened.account))


@router.post(
    ":external",
    status_code=201,
    summary="Open a session for a person authenticated by OpenID Connect",
    responses=PROBLEM_RESPONSES,
)
async def sign_in_external(
    body: ExternalSignIn, session: SessionDep, who: ServiceCaller, ctx: ContextDep
) -> SessionOut:
    account = await admin.upsert_external(
        session,
        who,
        username=body.username,
        display_name=body.display_name,
        email=body.email,
        locale=body.locale,
        grants=[g.to_grant() for g in body.grants],
    )
    opened = await app.open_external(session, who, ctx, account, method=body.method)
    return SessionOut(token=opened.token, expires_at=opened.expires_at, account=out(opened.account))


@router.post(":resolve", summary="The live session of a token, and its account", responses=PROBLEM_RESPONSES)
async def resolve(body: SessionToken, session: SessionDep, who: ServiceCaller, ctx: ContextDep) -> ResolvedOut:
    found = await app.resolve(session, who, ctx, body.token)
    return ResolvedOut(
        account=out(found.account), expires_at=found.expires_at, absolute_expires_at=found.absolute_expires_at
    )


@router.post(":revoke", status_code=204, summary="End the session of a token (sign-out)", responses=PROBLEM_RESPONSES)
async def revoke(body: SessionToken, session: SessionDep, who: ServiceCaller) -> Response:
    await app.revoke(session, who, body.token)
    return Response(status_code=204)
