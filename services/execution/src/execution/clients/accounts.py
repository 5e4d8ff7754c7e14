"""The accounts service's directory, read over HTTP with the service's own token: who the people of an
organisation are, their e-mail address, language and grants (``GET /v1/directory?org=&role=``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from metas_kit.auth import Grant, Principal, parse_grants
from metas_kit.errors import Unauthorized, UpstreamError, UpstreamUnavailable

LOCALES = frozenset({"pt-PT", "pt-BR", "en"})
_MAX_PAGES = 1000


@dataclass(frozen=True, slots=True)
class Person:
    username: str
    display_name: str
    email: str
    locale: str
    grants: tuple[Grant, ...]

    def principal(self) -> Principal:
        return Principal(self.username, grants=self.grants, name=self.display_name)


def _person(raw: Any) -> Person | None:
    """A directory entry, or None for one that cannot receive a digest (inactive, no address, malformed)."""
    if not isinstance(raw, dict) or raw.get("active") is False:
        return None
    username, email = raw.get("username"), raw.get("email")
    if not isinstance(username, str) or not isinstance(email, str) or "@" not in email:
        return None
    try:
        grants = parse_grants(raw.get("grants") or [])
    except Unauthorized:  # an entry the kit would refuse as a token claim grants nothing here either
        return None
    locale = raw.get("locale") if raw.get("locale") in LOCALES else "en"
    return Person(username, str(raw.get("display_name") or username), email, str(locale), grants)


class AccountsClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def aclose(self) -> None:
        await self.http.aclose()

    async def people(self, org: str, roles: Iterable[str]) -> list[Person]:
        """Active people holding one of ``roles`` in ``org`` (following the directory's pages)."""
        found: list[Person] = []
        cursor: str | None = None
        for _ in range(_MAX_PAGES):
            params: list[tuple[str, str | int | float | bool | None]] = [("org", org), ("limit", 200)]
            params += [("role", r) for r in sorted(roles)]
            if cursor:
                params.append(("cursor", cursor))
            try:
                response = await self.http.get("/v1/directory", params=params)
            except httpx.HTTPError as exc:
                raise UpstreamUnavailable(f"The accounts service cannot be reached: {exc}") from exc
            if response.status_code != 200:
                raise UpstreamError(f"The accounts directory answered {response.status_code}.")
            body = response.json()
            found.extend(p for p in map(_person, body.get("items") or []) if p is not None)
            cursor = body.get("next_cursor")
            if not cursor:
                break
        return found
