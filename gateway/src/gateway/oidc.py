"""OpenID Connect sign-in (authorization code flow with PKCE S256) against any provider.

/api/auth/oidc/start sends the browser to the provider with a fresh state, nonce and PKCE verifier, which the
gateway keeps in a short-lived signed HttpOnly cookie (no server-side state: any gateway replica can finish the
flow). /api/auth/oidc/callback checks the state, exchanges the code (client secret + verifier), verifies the ID
token (signature by the provider's published keys, issuer, audience, expiry, nonce), reads the userinfo, maps
the claims to grants by configuration and opens the same kind of session as a password sign-in."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

from metas_kit.auth import Grant, parse_grants
from metas_kit.errors import AppError, Forbidden, Unauthorized, UpstreamError, UpstreamUnavailable

FLOW_COOKIE = "metas_oidc"
FLOW_PATH = "/api/auth/oidc"
FLOW_SECONDS = 600
FLOW_AUDIENCE = "metas-oidc-flow"
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
LOCALES = {"pt-pt": "pt-PT", "pt_pt": "pt-PT", "pt-br": "pt-BR", "pt_br": "pt-BR", "en": "en"}
# Clock skew tolerated on the provider's iat/exp.
LEEWAY_SECONDS = 60


class OidcFlowInvalid(AppError):
    status, type_slug, title = 400, "oidc-flow-invalid", "Sign-in could not be completed"


class OidcRefused(Unauthorized):
    type_slug, title = "oidc-refused", "Sign-in refused"


@dataclass(frozen=True)
class OidcConfig:
    issuer: str
    client_id: str
    client_secret: str
    redirect_url: str
    scopes: str
    username_claim: str
    grants_claim: str
    grant_map: dict[str, tuple[Grant, ...]]
    algorithms: tuple[str, ...]


def parse_grant_map(raw: dict[str, list[dict[str, object]]]) -> dict[str, tuple[Grant, ...]]:
    """{claim value: [grant, …]} checked by the same rules as a token's grants (a typo fails at start-up)."""
    out: dict[str, tuple[Grant, ...]] = {}
    for value, grants in raw.items():
        try:
            out[value] = parse_grants(grants)
        except Unauthorized as exc:
            raise ValueError(f"METAS_GATEWAY_OIDC_GRANT_MAP[{value!r}]: {exc.detail}") from exc
    return out


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def safe_next(value: str | None) -> str:
    """Only a path of this site: never another origin ('//host', 'https://…', '/\\host')."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value or len(value) > 2000:
        return "/"
    return value


class Oidc:
    def __init__(self, config: OidcConfig, secret: str) -> None:
        self.config = config
        self.secret = secret
        self.http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=3.0))
        self._discovery: dict[str, Any] | None = None
        self._jwks: dict[str, Any] | None = None

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _get_json(self, url: str, **kw: Any) -> dict[str, Any]:
        try:
            resp = await self.http.get(url, **kw)
        except httpx.HTTPError as exc:
            raise UpstreamUnavailable("The sign-in provider is not reachable.", extra={"upstream": "oidc"}) from exc
        if resp.status_code != 200:
            raise UpstreamError(f"The sign-in provider answered {resp.status_code}.", extra={"upstream": "oidc"})
        try:
            data = resp.json()
        except ValueError as exc:
            raise UpstreamError("The sign-in provider answered no JSON.", extra={"upstream": "oidc"}) from exc
        if not isinstance(data, dict):
            raise UpstreamError("The sign-in provider answered no JSON object.", extra={"upstream": "oidc"})
        return data

    async def discovery(self) -> dict[str, Any]:
        if self._discovery is None:
            doc = await self._get_json(self.config.issuer.rstrip("/") + "/.well-known/openid-configuration")
            if doc.get("issuer") != self.config.issuer:
                raise UpstreamError(
                    "The provider's discovery document names another issuer.", extra={"upstream": "oidc"}
                )
            self._discovery = doc
        return self._discovery

    async def jwks(self, *, refresh: bool = False) -> dict[str, Any]:
        if self._jwks is None or refresh:
            self._jwks = await self._get_json(str((await self.discovery())["jwks_uri"]))
        return self._jwks

    # ---- step 1: to the provider ------------------------------------------------------------------------
    async def start(self, next_path: str) -> tuple[str, str]:
        """(the provider's authorization URL, the signed flow cookie's value)."""
        doc = await self.discovery()
        state, nonce, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48)
        challenge = b64url(hashlib.sha256(verifier.encode()).digest())
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.config.client_id,
                "redirect_uri": self.config.redirect_url,
                "scope": self.config.scopes,
                "state": state,
                "nonce": nonce,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        now = int(time.time())
        flow = jwt.encode(
            {
                "aud": FLOW_AUDIENCE,
                "iat": now,
                "exp": now + FLOW_SECONDS,
                "state": state,
                "nonce": nonce,
                "verifier": verifier,
                "next": safe_next(next_path),
            },
            self.secret,
            algorithm="HS256",
        )
        return f"{doc['authorization_endpoint']}?{query}", flow

    # ---- step 2: back from the provider -----------------------------------------------------------------
    def read_flow(self, cookie: str | None, state: str | None) -> dict[str, Any]:
        if not cookie:
            raise OidcFlowInvalid("This sign-in did not start here, or took too long; start again.")
        try:
            flow: dict[str, Any] = jwt.decode(cookie, self.secret, algorithms=["HS256"], audience=FLOW_AUDIENCE)
        except jwt.PyJWTError as exc:
            raise OidcFlowInvalid("This sign-in did not start here, or took too long; start again.") from exc
        if not state or not hmac.compare_digest(str(flow.get("state", "")).encode(), state.encode()):
            raise OidcFlowInvalid("The provider's answer does not belong to this sign-in; start again.")
        return flow

    async def exchange(self, code: str, verifier: str) -> dict[str, Any]:
        doc = await self.discovery()
        try:
            resp = await self.http.post(
                str(doc["token_endpoint"]),
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": self.config.redirect_url,
                    "code_verifier": verifier,
                },
                auth=(self.config.client_id, self.config.client_secret),
                headers={"accept": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise UpstreamUnavailable("The sign-in provider is not reachable.", extra={"upstream": "oidc"}) from exc
        if resp.status_code in (400, 401):
            raise OidcRefused("The sign-in provider did not accept the sign-in; start again.")
        if resp.status_code != 200:
            raise UpstreamError(f"The sign-in provider answered {resp.status_code}.", extra={"upstream": "oidc"})
        tokens: dict[str, Any] = resp.json()
        if not isinstance(tokens.get("id_token"), str) or not isinstance(tokens.get("access_token"), str):
            raise UpstreamError("The sign-in provider sent no ID token.", extra={"upstream": "oidc"})
        return tokens

    async def verify_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError as exc:
            raise OidcRefused("The provider's ID token is malformed.") from exc
        alg = header.get("alg")
        if alg not in self.config.algorithms:
            raise OidcRefused(f"The provider's ID token is signed with {str(alg)[:20]!r}, which is not accepted.")
        key = await self._key(header.get("kid"), str(alg))
        try:
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key,
                algorithms=[str(alg)],
                audience=self.config.client_id,
                issuer=self.config.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise OidcRefused(f"The provider's ID token is not valid: {exc}.") from exc
        if not hmac.compare_digest(str(claims.get("nonce", "")).encode(), nonce.encode()):
            raise OidcRefused("The provider's ID token was not issued for this sign-in.")
        aud = claims["aud"]
        if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != self.config.client_id:
            raise OidcRefused("The provider's ID token was issued to another party.")
        return claims

    async def _key(self, kid: object, alg: str) -> Any:
        for refresh in (False, True):  # the provider may have rotated its keys since they were fetched
            for jwk in (await self.jwks(refresh=refresh)).get("keys", []):
                if isinstance(jwk, dict) and (kid is None or jwk.get("kid") == kid) and jwk.get("use", "sig") == "sig":
                    try:
                        return jwt.PyJWK(jwk, algorithm=alg).key
                    except jwt.PyJWTError:
                        continue
        raise OidcRefused("The provider's ID token is signed by an unknown key.")

    async def userinfo(self, access_token: str, sub: str) -> dict[str, Any]:
        doc = await self.discovery()
        endpoint = doc.get("userinfo_endpoint")
        if not endpoint:
            return {}
        info = await self._get_json(str(endpoint), headers={"authorization": f"Bearer {access_token}"})
        if info.get("sub") != sub:
            raise OidcRefused("The provider's userinfo is about someone else.")
        return info

    # ---- step 3: who that is in metas -------------------------------------------------------------------
    def person(self, claims: dict[str, Any]) -> dict[str, Any]:
        cfg = self.config
        raw = claims.get(cfg.username_claim)
        username = str(raw).strip().lower() if isinstance(raw, str | int) else ""
        if not USERNAME.match(username):
            raise Forbidden(f"The provider's '{cfg.username_claim}' claim is not a usable username.")
        email = claims.get("email")
        if not isinstance(email, str) or "@" not in email or len(email) > 254:
            raise Forbidden("The provider gives no e-mail address for this person.")
        values = claims.get(cfg.grants_claim, [])
        if isinstance(values, str):
            values = [values]
        grants: dict[Grant, None] = {}
        for value in values if isinstance(values, list) else []:
            for grant in cfg.grant_map.get(str(value), ()):
                grants[grant] = None
        if not grants:
            raise Forbidden("Your account at the sign-in provider holds no role in metas; ask an administrator.")
        name = claims.get("name")
        locale = LOCALES.get(str(claims.get("locale", "")).lower())
        return {
            "username": username,
            "display_name": (name if isinstance(name, str) and name.strip() else username)[:200],
            "email": email,
            "locale": locale,
            "grants": [g.claim() for g in grants],
            "method": "oidc",
        }
