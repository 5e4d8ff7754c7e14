"""People's sessions at the gateway: sign-in, sign-out and session checks, done by the accounts service
(called with the gateway's own `service` identity), and the JWT the gateway mints from a live session for the
upstream call.

A session check is cached for a few seconds (METAS_GATEWAY_SESSION_CACHE_SECONDS) so a page that makes ten
API calls costs accounts one check; sign-out drops the entry at once, a disable or password reset elsewhere
takes effect within that time."""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import httpx

from gateway.proxy import Upstream
from metas_kit.auth import Grant, Principal, issue_token, parse_grants
from metas_kit.context import current_request_id
from metas_kit.errors import AppError, UpstreamError, UpstreamTimeout, UpstreamUnavailable

# The internal token of a session lives a little longer than the cache entry that holds it, never long.
INTERNAL_TOKEN_SECONDS = 300
SERVICE_TOKEN_SECONDS = 300
ACCOUNT_FIELDS = ("username", "display_name", "email", "locale", "grants")


class Relayed(AppError):
    """A problem answered by accounts (401 generic refusal, 429 with Retry-After, 422), passed on as it is."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
        super().__init__(str(body.get("detail") or body.get("title") or "Refused"), headers=headers)
        self.status = status
        self.body = body

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        body = {k: v for k, v in self.body.items() if k not in ("instance", "request_id")}
        if instance:
            body["instance"] = instance
        return body


@dataclass(frozen=True)
class LiveSession:
    account: dict[str, Any]
    principal: Principal
    authorization: str
    expires_at: str


def public_account(account: dict[str, Any]) -> dict[str, Any]:
    return {k: account.get(k) for k in ACCOUNT_FIELDS}


class Sessions:
    def __init__(
        self, accounts: Upstream, secret: str, issuer: str, *, cache_seconds: float, max_cached: int = 10_000
    ) -> None:
        self.accounts = accounts
        self.secret = secret
        self.issuer = issuer
        self.cache_seconds = cache_seconds
        self.max_cached = max_cached
        self.cache: OrderedDict[str, tuple[float, LiveSession]] = OrderedDict()
        self._service: tuple[float, str] | None = None

    def _service_header(self) -> str:
        now = time.monotonic()
        if self._service is None or now - self._service[0] > SERVICE_TOKEN_SECONDS / 2:
            token = issue_token(
                Principal("gateway", grants=[Grant("service")]),
                self.secret,
                issuer=self.issuer,
                ttl_seconds=SERVICE_TOKEN_SECONDS,
            )
            self._service = (now, "Bearer " + token)
        return self._service[1]

    async def _call(self, path: str, body: dict[str, Any]) -> httpx.Response:
        headers = {"authorization": self._service_header(), "content-type": "application/json"}
        rid = current_request_id()
        if rid:
            headers["x-request-id"] = rid
        try:
            resp = await self.accounts.client.post(path, json=body, headers=headers)
        except httpx.ConnectError as exc:
            raise UpstreamUnavailable("The accounts service is not reachable.", extra={"upstream": "accounts"}) from exc
        except httpx.TimeoutException as exc:
            raise UpstreamTimeout(
                "The accounts service did not answer in time.", extra={"upstream": "accounts"}
            ) from exc
        except httpx.HTTPError as exc:
            raise UpstreamError("The accounts service broke the connection.", extra={"upstream": "accounts"}) from exc
        if resp.status_code >= 500:
            raise UpstreamError(f"The accounts service failed ({resp.status_code}).", extra={"upstream": "accounts"})
        if resp.status_code >= 400:
            try:
                problem = resp.json()
            except ValueError:
                problem = {}
            if not isinstance(problem, dict):
                problem = {}
            keep = {k: v for k, v in resp.headers.items() if k.lower() in ("retry-after", "www-authenticate")}
            raise Relayed(resp.status_code, problem, keep)
        return resp

    async def sign_in(self, username: str, password: str, address: str | None) -> dict[str, Any]:
        resp = await self._call("/v1/sessions", {"username": username, "password": password, "client_address": address})
        data: dict[str, Any] = resp.json()
        return data

    async def sign_in_external(self, person: dict[str, Any]) -> dict[str, Any]:
        resp = await self._call("/v1/sessions:external", person)
        data: dict[str, Any] = resp.json()
        return data

    async def resolve(self, token: str) -> LiveSession:
        key = hashlib.sha256(token.encode()).hexdigest()
        now = time.monotonic()
        hit = self.cache.get(key)
        if hit is not None and now - hit[0] < self.cache_seconds:
            return hit[1]
        resp = await self._call("/v1/sessions:resolve", {"token": token})
        data = resp.json()
        account = public_account(data["account"])
        principal = Principal(account["username"], grants=parse_grants(account["grants"]), name=account["display_name"])
        minted = issue_token(principal, self.secret, issuer=self.issuer, ttl_seconds=INTERNAL_TOKEN_SECONDS)
        live = LiveSession(account, principal, "Bearer " + minted, str(data["expires_at"]))
        self.cache[key] = (now, live)
        self.cache.move_to_end(key)
        while len(self.cache) > self.max_cached:
            self.cache.popitem(last=False)
        return live

    async def revoke(self, token: str) -> None:
        self.cache.pop(hashlib.sha256(token.encode()).hexdigest(), None)
        await self._call("/v1/sessions:revoke", {"token": token})
